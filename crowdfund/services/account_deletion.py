"""A person deletes their account: the personal data goes, the money records stay.

Pledges, the ledger and the share register are records the law requires us to keep, so
the user row stays (they point at it) with everything that identifies the person removed:
the name becomes "Deleted user", the email a placeholder no mail reaches, the password can
never match again. Addresses in their pledges and the personal figures of their investor
profile are cleared, their API tokens revoked and sessions ended, their second factor,
firm memberships and the mail they were sent wiped, and an audit row records when it happened.

Refused while money of theirs is in escrow or on its way there (a pledge pending, waiting
for them, or held: the campaign may still refund it to them), while a dispute of theirs is
open, and while they are the only founder of a live campaign (its backers need someone to
answer them).
"""

from flask import current_app
from flask_babel import gettext as _, ngettext
from sqlalchemy import delete, func, null, select, update
from werkzeug.security import check_password_hash

from ..errors import Conflict, ValidationError
from ..extensions import db
from ..models import (
    ApiToken,
    Dispute,
    FirmMember,
    InvestorProfile,
    OutboxMessage,
    Pledge,
    Project,
    RecoveryCode,
    StateChange,
    User,
    UserTwoFactor,
    utcnow,
)
from ..models.dispute import OPEN_DISPUTE_STATUSES
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectStatus
from . import use_case, user_sessions

ENTITY = "user"  # StateChange.entity of an account's standing (suspended, deleted)
DELETED_NAME = "Deleted user"
# A password hash no password can match (werkzeug reads it as no known method).
UNUSABLE_PASSWORD = "!deleted"
# Money of the backer's that is in escrow, or may still get there.
ESCROW_STATUSES = (PS.PENDING.value, PS.REQUIRES_ACTION.value, PS.HELD.value)


def placeholder_email(user_id):
    """Unique, and in the reserved `.invalid` domain, so no mail can ever reach anyone."""
    return f"deleted-{user_id}@invalid"


def refusals(user):
    """Every reason `user` cannot delete the account now (messages; empty: they can)."""
    reasons = []
    in_escrow = db.session.scalar(
        select(func.count()).select_from(Pledge).where(Pledge.backer_id == user.id, Pledge.status.in_(ESCROW_STATUSES))
    )
    if in_escrow:
        reasons.append(
            ngettext(
                "You have a pledge whose money is held in escrow or still being paid. You can delete the account "
                "once its campaign has ended and the money has been paid out or returned.",
                "You have %(num)d pledges whose money is held in escrow or still being paid. You can delete the "
                "account once their campaigns have ended and the money has been paid out or returned.",
                in_escrow,
            )
        )
    disputed = db.session.scalar(
        select(func.count())
        .select_from(Dispute)
        .join(Pledge)
        .where(Pledge.backer_id == user.id, Dispute.status.in_(OPEN_DISPUTE_STATUSES))
    )
    if disputed:
        reasons.append(
            _(
                "A dispute of one of your payments is still open. You can delete the account once "
                "the card network has decided it."
            )
        )
    for project in sole_founder_of_live(user):
        reasons.append(
            _(
                "You are the only founder of %(title)s, which is live. Add another founder to its firm, "
                "or wait until the campaign has ended.",
                title=project.title,
            )
        )
    return reasons


def sole_founder_of_live(user):
    """Live campaigns whose firm has `user` as its only member."""
    members = (
        select(func.count()).select_from(FirmMember).where(FirmMember.firm_id == Project.firm_id).scalar_subquery()
    )
    mine = select(FirmMember.firm_id).where(FirmMember.user_id == user.id)
    return db.session.scalars(
        select(Project)
        .where(Project.status == ProjectStatus.LIVE.value, Project.firm_id.in_(mine), members == 1)
        .order_by(Project.id)
    ).all()


@use_case
def delete_account(user, *, password, confirmed):
    """Anonymise `user` (see the module's docstring), or raise having changed nothing."""
    if not check_password_hash(user.password_hash, password or ""):
        message = _("Your password is not right.")
        raise ValidationError(message, fields={"password": message})
    if not confirmed:
        message = _("Tick the box to confirm that you want to delete your account.")
        raise ValidationError(message, fields={"confirm": message})
    # The same lock a pledge takes on its backer first: no pledge can start while we look.
    db.session.execute(select(User.id).where(User.id == user.id).with_for_update())
    reasons = refusals(user)
    if reasons:
        raise Conflict(" ".join(str(reason) for reason in reasons), code="account_in_use")
    now = utcnow()
    anonymise(user, now=now)
    db.session.add(
        StateChange(
            entity=ENTITY, entity_id=user.id, from_state="active", to_state="deleted", actor_id=user.id, note=""
        )
    )
    db.session.flush()
    return user


def anonymise(user, *, now):
    """Remove what identifies the person, keeping every row money records point at."""
    user_id, old_email = user.id, user.email
    user.name = DELETED_NAME
    user.email = placeholder_email(user_id)
    user.password_hash = UNUSABLE_PASSWORD
    user.locale = user.timezone = None
    user.email_verified_at = None
    user.is_admin = False
    user.deleted_at = now
    db.session.execute(
        update(Pledge)
        .where(Pledge.backer_id == user_id, Pledge.shipping_address.isnot(None))
        .values(shipping_address=null())
    )
    db.session.execute(
        update(InvestorProfile)
        .where(InvestorProfile.user_id == user_id)
        .values(annual_income=0, net_worth=0, other_investments_12m=0, accredited=False)
    )
    db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    db.session.execute(delete(FirmMember).where(FirmMember.user_id == user_id))
    db.session.execute(delete(UserTwoFactor).where(UserTwoFactor.user_id == user_id))
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    db.session.expire(user, ["memberships"])
    _wipe_mail(old_email, user.email)
    user_sessions.end_all(user, now=now)  # signed out of every browser


def _wipe_mail(old_email, placeholder):
    """Mail sent to them loses its address and text; mail not sent yet never will be. The rows
    stay, so an event announced before is not announced again."""
    attempts = int(current_app.config.get("MAIL_MAX_ATTEMPTS") or 8)
    to_them = OutboxMessage.to_address == old_email
    db.session.execute(
        update(OutboxMessage)
        .where(to_them, OutboxMessage.sent_at.is_(None))
        .values(attempts=attempts, last_error="The recipient deleted the account.")
    )
    db.session.execute(update(OutboxMessage).where(to_them).values(to_address=placeholder, body_text=""))
