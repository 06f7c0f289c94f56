"""The reconfirmation sweep: commitments not reconfirmed in time after a material change to their
offering are cancelled and refunded (services/material_changes.py). Commits its own steps.

Run by `flask pledges expire-reconfirmations`, the job `expire_reconfirmations` (Celery beat)
and, first of all, by every closing run (workflows/closing.py), so the scheduler does it too and
no offering is settled with a commitment whose time ran out.

Each commitment goes the way a backer's own cancellation goes (workflows/cancel.py): the books
first, in one committed transaction (ledger `pledge:<id>:refund`, totals, pledge -> cancelled,
the investor's mail), then the processor's refund (key `pledge-<id>-refund`). Killed at any
point it simply runs again: a cancelled pledge is not picked up twice, and a refund the
processor did not confirm is retried by `workflows.reconcile`, never made twice.
"""

import logging

from ..domain.clock import utcnow
from ..errors import DomainError
from ..extensions import db
from ..services import material_changes
from .cancel import refund_cancelled

log = logging.getLogger(__name__)

BATCH = 100


def expire_due(now=None):
    """Cancel and refund every held commitment whose time to reconfirm ran out at `now`.
    Returns {"cancelled": n, "refund_pending": m}. The caller runs `after_commit.run()`."""
    now = now or utcnow()
    summary = {"cancelled": 0, "refund_pending": 0}
    after_id = 0
    while True:
        ids = material_changes.expired_ids(now, after_id=after_id, limit=BATCH)
        db.session.commit()  # a read: end it before the first lock
        if not ids:
            return summary
        for pledge_id in ids:
            after_id = pledge_id
            try:
                due = material_changes.expire_in_books(pledge_id, now=now)
                db.session.commit()  # the books first
            except DomainError as error:  # the offering ended meanwhile: its settlement returns the money
                db.session.rollback()
                log.info("pledge %s: not cancelled for want of reconfirmation (%s)", pledge_id, error.message)
                continue
            except Exception:
                db.session.rollback()
                raise
            if due is None:
                continue
            summary["cancelled"] += 1
            attempt, charge_ref = due
            if charge_ref and not refund_cancelled(attempt, charge_ref):  # then the processor
                summary["refund_pending"] += 1
