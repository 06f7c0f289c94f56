"""Reference exchange rates: config FX_RATES, with the rates an admin saved laid over it.

Limits compare amounts in several currencies (services/investors.py, services/offerings.py);
these rates, and their date, are what they are converted at. Nothing is paid at them.
"""

from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..domain.clock import utcnow
from ..domain.fx import BASE, ReferenceRates, parse_rate
from ..domain.money import SUPPORTED_CURRENCIES
from ..errors import ValidationError
from ..extensions import db
from ..models import FxRate
from . import use_case
from .reviews import require_admin

# The saved rates, for the same statement as other reads (services/investors.py unions it in).
SAVED_RATES = select(FxRate.currency, FxRate.per_usd, FxRate.as_of)


def configured():
    return ReferenceRates.from_config(current_app.config["FX_RATES"])


def reference_rates():
    """The rates in force: the config's, each replaced by the admin's when one was saved."""
    return configured().with_rates(db.session.execute(SAVED_RATES).all())


def rate_rows():
    """(currency, rate, as of, saved by an admin?) for every supported currency, for the admin page."""
    default = configured()
    saved = {row.currency: row for row in db.session.scalars(select(FxRate))}
    rows = []
    for currency in SUPPORTED_CURRENCIES:
        row = saved.get(currency)
        if row is not None:
            rows.append((currency, row.per_usd, row.as_of, True))
        elif currency in default.per_usd:
            rows.append((currency, str(default.per_usd[currency]), default.as_of, False))
        else:
            rows.append((currency, "", None, False))
    return rows


@use_case
def save_rate(admin, currency, per_usd, as_of):
    """An admin records a reference rate: units of `currency` per US dollar, published on `as_of`."""
    require_admin(admin)
    errors = {}
    currency = (currency or "").strip().upper()
    if currency not in SUPPORTED_CURRENCIES or currency == BASE:
        errors["currency"] = _("Choose a currency other than the US dollar.")
    try:
        rate = parse_rate(per_usd)
    except ValueError:
        errors["per_usd"] = _("Enter the rate as a positive number, like 7.0712.")
    if not isinstance(as_of, date):
        try:
            as_of = date.fromisoformat(str(as_of or "").strip())
        except ValueError:
            errors["as_of"] = _("Enter the date the rate was published, like 2026-12-01.")
    if not errors and as_of > utcnow().date():
        errors["as_of"] = _("The rate's date cannot be in the future.")
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    row = db.session.get(FxRate, currency) or FxRate(currency=currency)
    row.per_usd, row.as_of, row.updated_by_id = str(rate), as_of, admin.id
    db.session.add(row)
    db.session.flush()
    return row
