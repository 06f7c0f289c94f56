"""A backer's cancellation, the books side: escrow back to clearing, the campaign's totals
and the tier's units back, the pledge cancelled, the backer told. Only flushes; the
workflow (crowdfund/workflows/cancel.py) commits and makes the refund call after it."""

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import update

from .. import change_tokens, ledger
from ..domain.vocabulary import status_in_sentence
from ..errors import Conflict
from ..extensions import db
from ..models import Project
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectStatus
from . import notifications
from .pledge_outcomes import _OTHER_HELD, _other_held_params
from .pledges import release_units
from .receipts import cancel_deadline, reflection_ends
from .transitions import transition

# -- cancellation --------------------------------------------------------------------------------


def cancel_in_books(user, pledge, attempt, *, now, not_reconfirmed=False):
    """The books side of a backer's cancellation: escrow back to clearing, totals and units
    back, pledge cancelled, the backer told. Guarded by the campaign still being open.

    `not_reconfirmed`: the system cancels a commitment its investor did not reconfirm after a
    material change (services/material_changes.py). Only the offering being live guards it,
    not its deadline: an offering does not close while a commitment waits, so it may be past
    its deadline here. The caller mails the investor the reason."""
    if pledge.status != PS.HELD.value:
        raise Conflict(
            _(
                "This pledge is %(status)s; only a pledge held in escrow can be cancelled.",
                status=status_in_sentence(pledge.status, "pledge"),
            ),
            code="wrong_state",
        )
    project = db.session.get(Project, attempt.project_id, populate_existing=True)
    close = cancel_deadline(project)
    margin = timedelta(seconds=current_app.config["EQUITY_CANCEL_CUTOFF"]) if close else timedelta(0)
    reflection = reflection_ends(pledge, project)
    if reflection is not None and now < reflection:  # revocable without reason, cut-off or not
        margin = timedelta(0)
    if pledge.reconfirm_by is not None and now < pledge.reconfirm_by:  # may decline a changed offering
        margin = timedelta(0)
    open_now = [Project.id == project.id, Project.status == ProjectStatus.LIVE.value]
    if not not_reconfirmed:
        open_now.append(Project.deadline > now + margin)
    moved = db.session.execute(
        update(Project)
        .where(*open_now)
        .values(pledged_amount=Project.pledged_amount - attempt.amount)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not moved:
        raise Conflict(_cancel_refusal(project, close), code="cancel_window_closed")
    change_tokens.campaign_changed(db.session, project.id)
    if db.session.scalar(_OTHER_HELD.limit(1), _other_held_params(attempt)) is None:
        db.session.execute(
            update(Project)
            .where(Project.id == project.id)
            .values(backer_count=Project.backer_count - 1)
            .execution_options(synchronize_session=False)
        )
    release_units(attempt)
    ledger.transfer(
        ledger.refund_id(attempt.id),
        ledger.escrow_key(attempt.project_id),
        ledger.clearing_key(attempt.currency),
        attempt.amount,
        attempt.currency,
        ledger.PLEDGE_REFUND,
        pledge_id=attempt.id,
    )
    pledge.ended_at = now
    if not_reconfirmed:
        transition(pledge, PS.CANCELLED, actor=user, note="not reconfirmed after a material change")
        return pledge
    transition(pledge, PS.CANCELLED, actor=user, note="cancelled by the backer")
    notifications.pledge_cancelled(pledge)
    return pledge


def _cancel_refusal(project, close):
    if project.status != ProjectStatus.LIVE.value or close is None:
        return _("The campaign has ended, so this pledge can no longer be cancelled.")
    hours = current_app.config["EQUITY_CANCEL_CUTOFF"] / 3600
    return _(
        "Equity commitments can be cancelled until %(hours)s hours before the campaign's deadline "
        "(%(close)s UTC); that time has passed.",
        hours=f"{hours:g}",
        close=f"{close:%Y-%m-%d %H:%M}",
    )
