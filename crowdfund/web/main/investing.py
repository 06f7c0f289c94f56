"""/how-investing-works: the investor-protection rules in force, with their actual figures."""

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l

from ...domain.investment_limits import major_to_minor
from ...domain.rulebooks import ALWAYS
from ...services import entry_checks, fx_rates, offerings, qualifications
from . import bp

RULEBOOK_NAMES = {
    "us_reg_cf": _l("US Regulation Crowdfunding"),
    "eu_ecsp": _l("EU Regulation on crowdfunding service providers (2020/1503)"),
    "cn": _l("China: Guiding Opinions on Internet finance and the Securities Law"),
}


@bp.get("/how-investing-works")
def how_investing_works():
    book = offerings.rulebook()
    limit = book.limit
    figures = {
        "threshold": major_to_minor(limit.threshold, book.currency) if limit.threshold < ALWAYS else None,
        "floor": major_to_minor(limit.floor, book.currency),
        "cap": major_to_minor(limit.cap, book.currency) if limit.cap < ALWAYS else None,
        "issuer_cap": major_to_minor(book.issuer_cap, book.currency) if book.issuer_cap else None,
        "large_investment_warning": (
            major_to_minor(book.large_investment_warning, book.currency) if book.large_investment_warning else None
        ),
        "qualification": qualifications.thresholds(),
        "questions": len(entry_checks.QUESTIONS),
    }
    return render_template(
        "main/how_investing_works.html",
        book=book,
        name=RULEBOOK_NAMES.get(book.key, book.key),
        figures=figures,
        rates=fx_rates.reference_rates(),
        cancel_hours=current_app.config["EQUITY_CANCEL_CUTOFF"] / 3600,
        min_days=book.equity_min_duration / 86400,
    )
