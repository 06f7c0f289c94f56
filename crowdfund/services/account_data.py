"""Everything we hold about a person, as one JSON document ("Download my data"). Reads only.

Secrets are never part of it: no password hash, no token or its digest, no session key,
no second-factor secret, no payment processor's client secret, and the one-time links in
mails sent to them (password reset, address confirmation) are blanked.
"""

import re
from datetime import datetime, timezone

from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    ApiToken,
    FirmMember,
    InvestorProfile,
    OutboxMessage,
    Pledge,
    Project,
    RecoveryCode,
    ShareHolding,
    StateChange,
    User,
    UserSession,
    UserTwoFactor,
)

FORMAT_NOTE = {
    "amounts": "integers in the currency's minor unit (cents, fen): 1250 USD is $12.50",
    "times": "UTC, ISO 8601",
}
# User columns that are secrets, by any part of their name (password_hash, totp_secret, ...).
SECRET_WORDS = ("password", "secret", "hash", "token", "digest", "recovery", "key")
# A path segment or query value of a link that may be a one-time key: long, and of mixed
# case (a random key; the site's own slugs are lower case).
_LINK_PART = re.compile(r"(?<=[/=])[A-Za-z0-9_\-.~]{20,}")
_URL = re.compile(r"https?://\S+")


def export(user, *, now=None):
    """The person's data as a dict ready for `json.dumps`."""
    return {
        "exported_at": _time(now or datetime.now(timezone.utc)),
        "format": FORMAT_NOTE,
        "profile": profile(user),
        "firms": firms(user),
        "projects_founded": projects_founded(user),
        "pledges": pledges(user),
        "investor_profile": investor_profile(user),
        "holdings": holdings(user),
        "api_tokens": api_tokens(user),
        "sessions": sessions(user),
        "two_factor": two_factor(user),
        "audit": audit(user),
        "mail": mail(user),
    }


def profile(user):
    """Every column of the account except its secrets (so columns added later appear too)."""
    return {
        column.key: _value(getattr(user, column.key))
        for column in User.__mapper__.column_attrs
        if not any(word in column.key for word in SECRET_WORDS)
    }


def firms(user):
    rows = db.session.scalars(
        select(FirmMember)
        .where(FirmMember.user_id == user.id)
        .options(joinedload(FirmMember.firm))
        .order_by(FirmMember.id)
    ).all()
    return [
        {
            "firm_id": m.firm_id,
            "legal_name": m.firm.legal_name,
            "country": m.firm.country,
            "registration_number": m.firm.registration_number,
            "role": m.role,
            "member_since": _time(m.created_at),
        }
        for m in rows
    ]


def projects_founded(user):
    rows = db.session.scalars(select(Project).where(Project.created_by_id == user.id).order_by(Project.id)).all()
    return [
        {
            "id": p.id,
            "title": p.title,
            "slug": p.slug,
            "kind": p.kind,
            "status": p.status,
            "firm_id": p.firm_id,
            "currency": p.currency,
            "goal": p.goal,
            "pledged_amount": p.pledged_amount,
            "created_at": _time(p.created_at),
            "launched_at": _time(p.launched_at),
            "deadline": _time(p.deadline),
            "closed_at": _time(p.closed_at),
        }
        for p in rows
    ]


def pledges(user):
    rows = db.session.scalars(
        select(Pledge)
        .where(Pledge.backer_id == user.id)
        .options(joinedload(Pledge.project), joinedload(Pledge.tier))
        .order_by(Pledge.id)
    ).all()
    # Not `next_action`: it carries the processor's client secret while a payment waits.
    return [
        {
            "id": p.id,
            "project": {"id": p.project_id, "title": p.project.title, "slug": p.project.slug},
            "status": p.status,
            "amount": p.amount,
            "currency": p.currency,
            "reward_amount": p.reward_amount,
            "extra_amount": p.extra_amount,
            "shipping_fee": p.shipping_fee,
            "reward": p.tier.title if p.tier else None,
            "quantity": p.quantity,
            "shares": p.shares,
            "shipping_address": p.shipping_address,
            "payment_method": p.payment_method,
            "payment_reference": p.charge_ref,
            "refund_reference": p.refund_ref,
            "failure_code": p.failure_code,
            "failure_message": p.failure_message,
            "created_at": _time(p.created_at),
            "held_at": _time(p.held_at),
            "ended_at": _time(p.ended_at),
        }
        for p in rows
    ]


def investor_profile(user):
    p = db.session.scalar(select(InvestorProfile).where(InvestorProfile.user_id == user.id))
    if p is None:
        return None
    return {
        "currency": p.currency,
        "annual_income": p.annual_income,
        "net_worth": p.net_worth,
        "accredited": p.accredited,
        "other_investments_12m": p.other_investments_12m,
        "risk_acknowledged_at": _time(p.risk_acknowledged_at),
        "updated_at": _time(p.updated_at),
    }


def holdings(user):
    rows = db.session.scalars(
        select(ShareHolding)
        .where(ShareHolding.user_id == user.id)
        .options(joinedload(ShareHolding.firm))
        .order_by(ShareHolding.id)
    ).all()
    return [
        {
            "firm_id": h.firm_id,
            "firm": h.firm.legal_name,
            "project_id": h.project_id,
            "pledge_id": h.pledge_id,
            "shares": h.shares,
            "price_per_share": h.price_per_share,
            "currency": h.currency,
            "security_type": h.security_type,
            "acquired_at": _time(h.acquired_at),
        }
        for h in rows
    ]


def api_tokens(user):
    rows = db.session.scalars(select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)).all()
    return [
        {
            "id": t.id,
            "label": t.label,
            "created_at": _time(t.created_at),
            "expires_at": _time(t.expires_at),
            "revoked_at": _time(t.revoked_at),
        }
        for t in rows
    ]


def sessions(user):
    rows = db.session.scalars(select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)).all()
    return [
        {
            "id": s.id,
            "signed_in_at": _time(s.created_at),
            "last_seen_at": _time(s.last_seen_at),
            "browser": s.user_agent,
            "ip": s.ip,
            "ended_at": _time(s.ended_at),
        }
        for s in rows
    ]


def two_factor(user):
    """Whether a second factor is on, and how many recovery codes are left: never the secret or a code."""
    row = db.session.get(UserTwoFactor, user.id)
    left = db.session.scalar(
        select(func.count())
        .select_from(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
    )
    return {"enabled_at": _time(row.enabled_at) if row else None, "recovery_codes_left": left}


def audit(user):
    """Changes of the account's standing, and every state change the person made themselves.
    Who else acted is said by role only: an administrator's identity is theirs, not ours to give."""
    rows = db.session.scalars(
        select(StateChange)
        .where(
            or_((StateChange.entity == "user") & (StateChange.entity_id == user.id), StateChange.actor_id == user.id)
        )
        .order_by(StateChange.id)
    ).all()
    return [
        {
            "about": row.entity,
            "id": row.entity_id,
            "from": row.from_state,
            "to": row.to_state,
            "by": _actor(row, user),
            "note": row.note,
            "at": _time(row.created_at),
        }
        for row in rows
    ]


def _actor(row, user):
    if row.actor_id is None:
        return "system"
    return "you" if row.actor_id == user.id else "staff"


def mail(user):
    rows = db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_address == user.email).order_by(OutboxMessage.id)
    ).all()
    return [
        {
            "subject": m.subject,
            "body": without_link_keys(m.body_text),
            "queued_at": _time(m.created_at),
            "sent_at": _time(m.sent_at),
        }
        for m in rows
    ]


def without_link_keys(text):
    """`text` with the key of every one-time link blanked ("https://x/account/reset/[removed]")."""
    return _URL.sub(lambda url: _LINK_PART.sub(_blank_if_random, url.group(0)), text or "")


def _blank_if_random(part):
    value = part.group(0)
    mixed = any(c.isupper() for c in value) and any(c.islower() for c in value)
    return "[removed]" if mixed and any(c.isdigit() for c in value) else value


def _time(value):
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _value(value):
    return _time(value) if isinstance(value, datetime) else value
