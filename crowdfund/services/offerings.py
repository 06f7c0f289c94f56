"""An equity offering's period and size under the rulebook in force (domain/rulebooks.py).

- `min_duration(kind)`: how long a campaign of that kind runs at least (launch uses it);
- `require_within_issuer_cap(project, now)`: what the firm raises over the window stays under
  the issuer cap (launch);
- `require_investor_room(project, backer_id)`: the offering's cap on distinct investors
  (pledging, once the offering's row is locked, so two newcomers cannot both take the last place);
- `close_early(user, project, deadline)`: the founder brings the deadline forward once the
  target is reached and the minimum period has run; every investor is told.
"""

from datetime import timedelta, timezone

from flask import current_app
from flask_babel import get_locale, gettext as _, ngettext
from sqlalchemy import func, select

from .. import change_tokens
from ..domain import rulebooks
from ..domain.fx import UnknownRate
from ..domain.investment_limits import major_to_minor
from ..domain.money import format_money
from ..errors import Conflict, ValidationError
from ..extensions import db
from ..models import EquityOffering, Pledge, Project, ProjectEdit, utcnow
from ..models.pledge import PledgeStatus as PS
from ..models.project import ProjectKind, ProjectStatus as S
from . import fx_rates, investor_notices, use_case
from .projects.access import lock, require_member

# Commitments that hold a place among an offering's investors.
PLACE_HOLDING = (PS.PENDING.value, PS.REQUIRES_ACTION.value, PS.HELD.value)


def rulebook():
    return rulebooks.from_config(current_app.config)


def min_duration(kind):
    """Seconds a campaign of `kind` runs at least: equity offerings follow the rulebook."""
    return rulebooks.shortest_run(kind, current_app.config)


def _money(minor, currency):
    return format_money(minor, currency, locale=str(get_locale() or "en"))


def add_business_days(moment, days):
    """`moment` moved on by `days` working days (Monday to Friday, UTC), at the same time of day."""
    while days > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment


# -- the issuer cap ---------------------------------------------------------------------------------


def require_within_issuer_cap(project, now):
    """Conflict 409 `issuer_cap_exceeded` when launching `project` could take its firm past the
    rulebook's issuer cap: the most each of its offerings launched in the window can raise
    (a successful one: what it raised; a failed or cancelled one: nothing), converted."""
    book = rulebook()
    if book.issuer_cap is None or project.kind != ProjectKind.EQUITY.value or project.equity is None:
        return
    since = now - timedelta(days=book.issuer_cap_window_days)
    rows = db.session.execute(
        select(
            Project.currency,
            Project.status,
            Project.pledged_amount,
            EquityOffering.shares_offered * EquityOffering.price_per_share,
        )
        .join(EquityOffering, EquityOffering.project_id == Project.id)
        .where(
            Project.firm_id == project.firm_id,
            Project.id != project.id,
            Project.launched_at >= since,
            Project.status.in_((S.LIVE.value, S.SUCCESSFUL.value, S.SUSPENDED.value)),
        )
    ).all()
    rates = fx_rates.reference_rates()
    cap = major_to_minor(book.issuer_cap, book.currency)
    try:
        earlier = sum(
            rates.convert(pledged if status == S.SUCCESSFUL.value else most, currency, book.currency, round_up=True)
            for currency, status, pledged, most in rows
        )
        this = rates.convert(
            project.equity.shares_offered * project.equity.price_per_share,
            project.currency,
            book.currency,
            round_up=True,
        )
    except UnknownRate as missing:
        raise Conflict(
            _("There is no reference exchange rate for %(currency)s.", currency=str(missing)), code="fx_rate_missing"
        ) from None
    if earlier + this > cap:
        left = max(cap - earlier, 0)
        raise Conflict(
            _(
                "A firm may raise at most %(cap)s in %(days)d days across its offerings. With its other "
                "offerings, this one could take it to %(total)s; it can offer at most %(left)s more "
                "(at the reference rates of %(date)s).",
                cap=_money(cap, book.currency),
                days=book.issuer_cap_window_days,
                total=_money(earlier + this, book.currency),
                left=_money(left, book.currency),
                date=rates.as_of.isoformat() if rates.as_of else "-",
            ),
            code="issuer_cap_exceeded",
        )


# -- the cap on investors -------------------------------------------------------------------------


def require_investor_room(project, backer_id):
    """Conflict 409 `investor_cap_reached` when this backer would be one investor too many.

    Runs after the offering's guarded UPDATE, whose row lock every commitment to the offering
    queues on: the count below then sees every other commitment already made."""
    most = rulebook().max_investors
    if not most:
        return
    investors = db.session.scalar(
        select(func.count(func.distinct(Pledge.backer_id))).where(
            Pledge.project_id == project.id, Pledge.status.in_(PLACE_HOLDING)
        )
    )
    if investors > most:  # the count includes this commitment: only a new investor can tip it over
        raise Conflict(
            ngettext(
                "This offering accepts at most %(num)d investor, and it has that many already.",
                "This offering accepts at most %(num)d investors, and it has that many already.",
                most,
            ),
            code="investor_cap_reached",
        )


# -- closing early ----------------------------------------------------------------------------------


def earliest_early_close(now=None):
    return add_business_days(now or utcnow(), rulebook().early_close_notice_days)


@use_case
def close_early(user, project, deadline, *, now=None):
    """The founder sets an earlier deadline for a live offering that reached its target, once
    its minimum period has run; the new deadline is at least EARLY_CLOSE_NOTICE_DAYS business
    days ahead. The cancel window moves with the deadline (it is computed from it). Every
    investor is mailed."""
    require_member(user, project)
    project = lock(project)
    now = now or utcnow()
    if project.kind != ProjectKind.EQUITY.value:
        raise Conflict(
            _("Only an equity offering can close early; a reward campaign runs to its deadline."),
            code="not_an_offering",
        )
    if project.status != S.LIVE.value:
        raise Conflict(_("Only a live offering can close early."), code="project_not_live")
    if project.pledged_amount < project.goal:
        raise Conflict(
            _(
                "An offering can close early only once its target of %(goal)s is reached.",
                goal=_money(project.goal, project.currency),
            ),
            code="target_not_reached",
        )
    period_ends = project.launched_at + timedelta(seconds=min_duration(project.kind))
    if now < period_ends:
        raise Conflict(
            _(
                "An offering must stay open until at least %(time)s UTC before it can close early.",
                time=f"{period_ends:%Y-%m-%d %H:%M}",
            ),
            code="minimum_period_not_run",
        )
    if deadline is None:
        raise ValidationError(_("Choose the new deadline."), fields={"deadline": _("Choose the new deadline.")})
    if deadline.tzinfo is None:
        raise TypeError("deadline must be an aware datetime")
    earliest = earliest_early_close(now)
    if deadline < earliest:
        days = rulebook().early_close_notice_days
        message = ngettext(
            "Investors must have %(num)d business day's notice: the new deadline can be %(time)s UTC at the earliest.",
            "Investors must have %(num)d business days' notice: the new deadline can be %(time)s UTC at the earliest.",
            days,
            time=f"{earliest:%Y-%m-%d %H:%M}",
        )
        raise ValidationError(message, code="deadline_too_soon", fields={"deadline": message})
    from . import material_changes  # it uses this module's business days

    material_changes.require_deadline_after_reconfirmation(project, deadline)  # 422 reconfirmation_pending
    if deadline >= project.deadline:
        message = _(
            "The new deadline must be earlier than the current one (%(time)s UTC).",
            time=f"{project.deadline:%Y-%m-%d %H:%M}",
        )
        raise ValidationError(message, code="deadline_not_earlier", fields={"deadline": message})
    old = project.deadline
    project.deadline = deadline.astimezone(timezone.utc)
    db.session.add(
        ProjectEdit(
            project_id=project.id,
            user_id=user.id,
            field="deadline",
            old_value=old.isoformat(),
            new_value=project.deadline.isoformat(),
        )
    )
    change_tokens.campaign_changed(db.session, project.id)
    db.session.flush()
    investor_notices.closes_early(project, old)
    return project
