"""Closing campaigns at their deadline and starting their settlement: the one pipeline that
`flask campaigns close-due`, the in-process scheduler (jobs/scheduler.py) and Celery beat's
`close_due_campaigns` job (jobs/settlement.py) all run.

1. `services/campaigns.close_due`, committed: each campaign past its deadline locked and
   moved to `successful` or `failed`, with its `Settlement` row, in one transaction;
2. after the commit, `after_commit.run()` starts each settlement that transaction asked for
   (crowdfund/workflows/settlement.py): in-process, without a broker, it runs to the end
   before this returns; with Celery it is queued.

Safe to run any number of times and in several processes at once: a campaign closes once,
and a settlement not started (a crash between the two steps) is picked up by
`flask settlement resume`.
"""

from dataclasses import dataclass

from .. import after_commit
from ..extensions import db
from ..services import campaigns
from . import reconfirmation


@dataclass(frozen=True)
class ClosingRun:
    closed: int  # campaigns closed by this run
    settling: list[int]  # ids of the projects whose settlement it started


def close_and_settle(now=None):
    """Close every live campaign whose deadline has passed at `now` (default: the clock), and
    settle them. Returns a ClosingRun.

    First, commitments whose reconfirmation after a material change ran out are cancelled and
    refunded (workflows/reconfirmation.py): an offering never closes while one waits
    (services/material_changes.hold_back_close), and one due now closes in this same run."""
    reconfirmation.expire_due(now)
    try:
        closed = campaigns.close_due(now)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    started = after_commit.run()
    return ClosingRun(closed, started.get(after_commit.SETTLEMENTS, []))
