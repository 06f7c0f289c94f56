"""An equity campaign's terms: ordinary shares at a fixed price, how many are offered, the
smallest investment and the valuation they imply. Locked once the project is submitted."""

from flask_babel import gettext as _

from ...errors import ValidationError
from ...extensions import db
from ...models import EquityOffering, ProjectKind
from .. import use_case
from .access import EDITABLE, require_member, require_status
from .editing import amount, raise_errors, whole

SECURITY_TYPES = ("ordinary_shares",)
# The largest share count accepted (share counts are BIGINT columns).
MAX_SHARES = 10**15


def equity_as_input(project):
    """The terms as their editing form shows them (amounts in minor units)."""
    offering = project.equity
    if offering is None:
        return {"security_type": "ordinary_shares", "min_shares": "1"}
    return {
        "security_type": offering.security_type,
        "price_per_share": offering.price_per_share,
        "pre_money_valuation": offering.pre_money_valuation,
        **{key: str(getattr(offering, key)) for key in ("shares_offered", "min_shares", "shares_outstanding")},
    }


def max_raise(project):
    """The most an equity offering can raise: every share offered, at its price."""
    offering = project.equity
    return offering.price_per_share * offering.shares_offered if offering else None


@use_case
def set_equity_terms(user, project, data):
    require_member(user, project)
    if project.kind != ProjectKind.EQUITY.value:
        raise ValidationError(_("Only equity projects have equity terms."))
    require_status(project, EDITABLE, _("The equity terms are locked once the project is submitted and approved."))
    errors = {}
    currency = project.currency
    security_type = (data.get("security_type") or "ordinary_shares").strip()
    if security_type not in SECURITY_TYPES:
        errors["security_type"] = _("Only ordinary shares can be offered.")
    price = amount(data, "price_per_share", currency, errors, required_message=_("Enter the price per share."))
    offered = whole(
        data, "shares_offered", errors, required_message=_("Enter how many shares are offered."), maximum=MAX_SHARES
    )
    min_shares = whole(
        data, "min_shares", errors, required_message=_("Enter the minimum investment in shares."), maximum=MAX_SHARES
    )
    valuation = amount(
        data, "pre_money_valuation", currency, errors, required_message=_("Enter the pre-money valuation.")
    )
    outstanding = whole(
        data,
        "shares_outstanding",
        errors,
        required_message=_("Enter the number of shares that exist before the offering."),
        maximum=MAX_SHARES,
    )
    if offered and min_shares and min_shares > offered:
        errors["min_shares"] = _("The minimum investment cannot be more shares than are offered.")
    if price and offered and project.goal > price * offered:
        errors["shares_offered"] = _(
            "Selling every share offered at this price would not reach the goal; "
            "offer more shares, raise the price or lower the goal."
        )
    if price and outstanding and valuation and abs(valuation - price * outstanding) > outstanding:
        errors["pre_money_valuation"] = _(
            "The pre-money valuation must equal the price per share times the shares outstanding before the offering."
        )
    raise_errors(errors)
    offering = project.equity or EquityOffering(project=project)
    offering.security_type = security_type
    offering.price_per_share = price
    offering.shares_offered = offered
    offering.min_shares = min_shares
    offering.pre_money_valuation = valuation
    offering.shares_outstanding = outstanding
    offering.shares_committed = offering.shares_committed or 0
    db.session.add(offering)
    db.session.flush()
    return offering
