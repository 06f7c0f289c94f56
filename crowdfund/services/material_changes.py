"""Material changes to a live equity offering, and the investors' reconfirmation (Reg CF
227.304(c); the same under every rulebook, RECONFIRM_BUSINESS_DAYS).

- `mark(user, project, description)`: a founder or an admin says the offering changed
  materially. Every standing commitment (pending, awaiting the backer, or held) then waits
  for its investor's reconfirmation until `reconfirm_by`, that many business days ahead; each
  investor is mailed the change and a signed link. The `MaterialChange` row is the audit record.
- `reconfirm(user, pledge_id)`: the investor keeps the commitment.
- Not reconfirmed in time: `expire_in_books` cancels it (the reconfirmation sweep,
  workflows/reconfirmation.py, which then refunds through the processor).

The offering cannot close while a commitment waits: when the deadline would come first it is
moved to `reconfirm_by` (the offering is extended; CAMPAIGN_MAX_DURATION does not stop it),
an early close cannot come before it (`require_deadline_after_reconfirmation`), and closing
holds back any offering that still has one (`hold_back_close`).

A commitment that waits still counts toward the target: its money is in escrow, the investor
may well keep it, and no offering closes before the wait has ended one way or the other
(a cancelled one leaves the total the moment it is cancelled), so the total read at closing
holds only commitments that stand.
"""

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import change_tokens
from ..database import one_of
from ..domain import rulebooks
from ..domain.clock import utcnow
from ..errors import Conflict, NotFound, PermissionDenied, ValidationError
from ..extensions import db
from ..models import MaterialChange, Pledge, Project, ProjectEdit
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectKind, ProjectStatus as S
from . import pledges, use_case
from .offerings import add_business_days  # the close-early helper
from .pledge_cancellation import cancel_in_books
from .projects.access import lock, require_member_or_admin
from .reconfirmation_mail import ask_to_reconfirm, not_reconfirmed

MAX_DESCRIPTION = 5000
# Commitments that stand and so must be reconfirmed (services/offerings.PLACE_HOLDING).
STANDING = (PS.PENDING.value, PS.REQUIRES_ACTION.value, PS.HELD.value)


def reconfirm_days():
    return rulebooks.from_config(current_app.config).reconfirm_business_days


def waits(pledge, now=None):
    """Does `pledge` wait for its investor's reconfirmation (and may it still be given)?"""
    return pledge.reconfirm_by is not None and pledge.status in STANDING and (now or utcnow()) < pledge.reconfirm_by


def latest_change(project_id):
    return db.session.scalar(
        select(MaterialChange)
        .where(MaterialChange.project_id == project_id)
        .order_by(MaterialChange.created_at.desc(), MaterialChange.id.desc())
        .limit(1)
    )


def changes_of(project_id):
    return db.session.scalars(
        select(MaterialChange)
        .where(MaterialChange.project_id == project_id)
        .order_by(MaterialChange.created_at.desc(), MaterialChange.id.desc())
    ).all()


# -- marking a change -----------------------------------------------------------------------------


def _require_open_offering(project, now):
    if project.kind != ProjectKind.EQUITY.value:
        raise Conflict(
            _("Only an equity offering has material changes; a reward campaign posts updates."),
            code="not_an_offering",
        )
    if project.status != S.LIVE.value or project.deadline is None or project.deadline <= now:
        raise Conflict(_("Only a live offering can be marked as materially changed."), code="project_not_live")


def _clean_description(text):
    text = (text or "").strip()
    if not text:
        message = _("Describe what changed in the offering: investors read it before they reconfirm.")
        raise ValidationError(message, fields={"description": message})
    if len(text) > MAX_DESCRIPTION:
        message = _("Describe the change in at most %(num)d characters.", num=MAX_DESCRIPTION)
        raise ValidationError(message, fields={"description": message})
    return text


@use_case
def mark(user, project, description, *, now=None):
    """A founder or admin marks a material change to the live offering `project`. Returns the
    MaterialChange. Every standing commitment must be reconfirmed by its `reconfirm_by`."""
    require_member_or_admin(user, project)
    now = now or utcnow()
    _require_open_offering(project, now)
    description = _clean_description(description)
    reconfirm_by = add_business_days(now, reconfirm_days())
    # Lock order (workflows/checkout.py): the pledge rows, then the project row.
    ids = db.session.scalars(
        select(Pledge.id)
        .where(Pledge.project_id == project.id, Pledge.status.in_(STANDING))
        .order_by(Pledge.id)
        .with_for_update()
    ).all()
    project = lock(project)
    _require_open_offering(project, now)  # closed meanwhile?
    for start in range(0, len(ids), 1000):
        db.session.execute(
            update(Pledge)
            .where(one_of(Pledge.id, ids[start : start + 1000]), Pledge.status.in_(STANDING))
            .values(reconfirm_by=reconfirm_by)
            .execution_options(synchronize_session=False)
        )
    change = MaterialChange(
        project_id=project.id,
        user_id=user.id,
        description=description,
        reconfirm_by=reconfirm_by,
        commitments=len(ids),
        created_at=now,
    )
    if ids and project.deadline < reconfirm_by:
        # Investors get their full time to decide: the offering is extended to the end of it.
        change.deadline_before = project.deadline
        _extend(project, reconfirm_by, user_id=user.id)
    db.session.add(change)
    db.session.flush()
    db.session.expire_all()  # the pledges' reconfirm_by was written with a Core UPDATE
    ask_to_reconfirm(project, change, ids)
    return change


def _extend(project, until, *, user_id):
    db.session.add(
        ProjectEdit(
            project_id=project.id,
            user_id=user_id,
            field="deadline",
            old_value=project.deadline.isoformat(),
            new_value=until.isoformat(),
        )
    )
    project.deadline = until
    change_tokens.campaign_changed(db.session, project.id)


# -- the deadline and closing ---------------------------------------------------------------------


def last_reconfirm_by(project_id):
    """The latest `reconfirm_by` among the offering's held commitments that wait, or None."""
    return db.session.scalar(
        select(func.max(Pledge.reconfirm_by)).where(
            Pledge.project_id == project_id, Pledge.status == PS.HELD.value, Pledge.reconfirm_by.is_not(None)
        )
    )


def require_deadline_after_reconfirmation(project, deadline):
    """An early close may not end the offering while investors still have time to reconfirm."""
    until = last_reconfirm_by(project.id)
    if until is not None and deadline < until:
        message = _(
            "Investors have until %(time)s UTC to reconfirm after the material change: the offering "
            "cannot close before then.",
            time=f"{until:%Y-%m-%d %H:%M}",
        )
        raise ValidationError(message, code="reconfirmation_pending", fields={"deadline": message})


def hold_back_close(project, now):
    """True when the due offering `project` (locked) must not close at `now`: a held commitment
    still waits for reconfirmation. If its time runs on, the deadline moves to the end of it;
    if it has run out, the reconfirmation sweep cancels it (closing runs the sweep first,
    workflows/closing.py) and the next run closes the offering. Either way nothing waiting is
    ever released to the firm."""
    until = last_reconfirm_by(project.id)
    if until is None:
        return False
    if until > now:
        change = latest_change(project.id)
        _extend(project, until, user_id=change.user_id)
    return True


# -- reconfirming ---------------------------------------------------------------------------------


@use_case
def reconfirm(user, pledge_id, *, now=None):
    """The investor keeps a commitment that waits after a material change. 409
    `nothing_to_reconfirm` when none waits, `reconfirmation_expired` when its time is past."""
    now = now or utcnow()
    pledge = db.session.get(Pledge, pledge_id)
    if pledge is None or user is None:
        raise NotFound(_("There is no such pledge."))
    if pledge.backer_id != user.id:
        raise PermissionDenied(_("Only the investor can reconfirm this commitment."), code="not_your_pledge")
    pledge = pledges.lock(pledge_id)
    if pledge.reconfirm_by is None or pledge.status not in STANDING:
        raise Conflict(_("Nothing waits for your reconfirmation on this pledge."), code="nothing_to_reconfirm")
    if now >= pledge.reconfirm_by:
        raise Conflict(
            _(
                "The time to reconfirm ended on %(time)s UTC; the commitment is being cancelled and refunded.",
                time=f"{pledge.reconfirm_by:%Y-%m-%d %H:%M}",
            ),
            code="reconfirmation_expired",
        )
    if pledge.project.status != S.LIVE.value:
        raise Conflict(_("The offering has ended; nothing waits for your reconfirmation."), code="nothing_to_reconfirm")
    pledge.reconfirm_by = None
    pledge.reconfirmed_at = now
    db.session.flush()
    return pledge


# -- not reconfirmed ------------------------------------------------------------------------------


def expired_ids(now, *, after_id=0, limit=100):
    """Ids of held commitments of live offerings whose time to reconfirm has run out, in id order."""
    return db.session.scalars(
        select(Pledge.id)
        .join(Project, Project.id == Pledge.project_id)
        .where(
            Pledge.reconfirm_by <= now,
            Pledge.status == PS.HELD.value,
            Project.status == S.LIVE.value,
            Pledge.id > after_id,
        )
        .order_by(Pledge.id)
        .limit(limit)
    ).all()


def expire_in_books(pledge_id, *, now):
    """Cancel one commitment that was not reconfirmed in time, the books side (ledger, totals,
    status, the investor's mail). Returns (attempt, charge_ref) for the refund, or None when
    it no longer waits (reconfirmed at the last moment, cancelled, or already done)."""
    pledge = pledges.lock(pledge_id)
    if pledge.status != PS.HELD.value or pledge.reconfirm_by is None or pledge.reconfirm_by > now:
        return None
    attempt = pledges.Attempt.of(pledge)
    charge_ref = pledge.charge_ref
    change = latest_change(pledge.project_id)
    cancel_in_books(None, pledge, attempt, now=now, not_reconfirmed=True)
    not_reconfirmed(pledge, change)
    return attempt, charge_ref
