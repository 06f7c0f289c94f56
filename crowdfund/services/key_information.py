"""The key investment information sheet (KIIS) of an equity offering, generated from its data
(Regulation (EU) 2020/1503, Art. 23 and Annex I, in short): the issuer, the offering's terms,
its risks, the fees, the investor's rights, and how and until when an investment may be
cancelled or revoked. One structure, `sheet(project)`, read by the page and by the PDF
(domain/pdf.py), in the reader's language.
"""

from dataclasses import dataclass
from datetime import timedelta

from babel.numbers import format_decimal
from flask import current_app
from flask_babel import get_locale, gettext as _, ngettext

from ..domain import pdf, rulebooks
from ..domain.clock import utcnow
from ..domain.money import format_money
from .firms import country_names
from .projects.equity_terms import max_raise


@dataclass(frozen=True)
class Section:
    key: str
    heading: str
    rows: tuple  # (label, value); a None label is a paragraph of its own


def _locale():
    return str(get_locale() or "en")


def _money(minor, currency):
    return format_money(minor, currency, locale=_locale())


def _moment(value):
    return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else "-"


def _percent(numerator, denominator):
    return f"{numerator * 100 / denominator:.2f}%" if denominator else "-"


def sheet(project):
    """The sections of the sheet of `project` (an equity campaign with its terms)."""
    book = rulebooks.from_config(current_app.config)
    firm, offer, currency = project.firm, project.equity, project.currency
    config = current_app.config
    after = offer.shares_outstanding + offer.shares_offered
    min_amount = offer.min_shares * offer.price_per_share
    issuer = [
        (_("Legal name"), firm.legal_name),
        (_("Country"), country_names(_locale()).get(firm.country, firm.country)),
        (_("Registration number"), firm.registration_number),
        (_("Address"), " ".join((firm.address or "").split())),
    ]
    if firm.website:
        issuer.append((_("Website"), firm.website))
    terms = [
        (_("Offering"), project.title),
        (_("Security"), _("Ordinary shares")),
        (_("Price per share"), _money(offer.price_per_share, currency)),
        (
            _("Minimum investment"),
            f"{offer.min_shares} × {_money(offer.price_per_share, currency)} = {_money(min_amount, currency)}",
        ),
        (_("Shares offered"), format_decimal(offer.shares_offered, locale=_locale())),
        (_("Shares outstanding before the offering"), format_decimal(offer.shares_outstanding, locale=_locale())),
        (_("Pre-money valuation"), _money(offer.pre_money_valuation, currency)),
        (_("Minimum raise (goal)"), _money(project.goal, currency)),
        (_("Maximum raise"), _money(max_raise(project), currency)),
        (_("Deadline"), _moment(project.deadline)),
    ]
    risks = [
        (None, _("You may lose all the money you invest.")),
        (
            None,
            _(
                "Shares in a small firm are hard to sell: there is usually no market for them, and you may have to "
                "hold them for years."
            ),
        ),
        (None, _("The firm may pay no dividends, and later issues of shares may reduce (dilute) your stake.")),
        (None, _("Your investment is not covered by a deposit guarantee scheme or an investor compensation scheme.")),
    ]
    if (project.risks or "").strip():
        risks.append((_("The firm's own statement of its risks"), project.risks.strip()))
    fees = [
        (None, _("Investors pay no fee to the platform: the amount you commit is the price of your shares.")),
        (
            None,
            _(
                "If the offering succeeds, the platform keeps %(percent)s of the money raised as its fee, paid by "
                "the firm.",
                percent="%g%%" % (config["PLATFORM_FEE_BPS"] / 100),
            ),
        ),
    ]
    rights = [
        (
            None,
            _(
                "Each share carries the same rights as the firm's other ordinary shares: a vote at the general "
                "meeting and a share of any dividend."
            ),
        ),
        (
            _("Your stake for the minimum investment"),
            _percent(offer.min_shares, after),
        ),
        (_("All the shares offered, once sold"), _percent(offer.shares_offered, after)),
    ]
    cut_off = config["EQUITY_CANCEL_CUTOFF"]
    cancelling = [
        (
            None,
            ngettext(
                "You may cancel your investment until %(num)d hour before the offering closes; your money is "
                "returned in full.",
                "You may cancel your investment until %(num)d hours before the offering closes; your money is "
                "returned in full.",
                cut_off // 3600,
            ),
        ),
    ]
    if project.deadline is not None:
        cancelling.append((_("Cancel until"), _moment(project.deadline - timedelta(seconds=cut_off))))
    if book.reflection_period:
        cancelling.append(
            (
                None,
                ngettext(
                    "You may also revoke your investment without giving a reason for %(num)d day after making it, "
                    "even in those last hours.",
                    "You may also revoke your investment without giving a reason for %(num)d days after making it, "
                    "even in those last hours.",
                    book.reflection_period // 86400,
                ),
            )
        )
    cancelling.append(
        (None, _("If the offering does not reach its goal by its deadline, every investment is returned in full."))
    )
    custodian = (config.get("CUSTODIAN_NAME") or "").strip()
    if custodian:
        cancelling.append((_("Funds held by"), custodian))
    return [
        Section("issuer", _("The issuer"), tuple(issuer)),
        Section("terms", _("The offering"), tuple(terms)),
        Section("risks", _("Main risks"), tuple(risks)),
        Section("fees", _("Fees and costs"), tuple(fees)),
        Section("rights", _("Your rights as an investor"), tuple(rights)),
        Section("cancelling", _("Cancelling, revoking and refunds"), tuple(cancelling)),
    ]


def title(project):
    return _("Key investment information sheet: %(title)s", title=project.title)


def as_pdf(project):
    """The sheet as a PDF file (bytes), in the reader's language."""
    blocks = [
        pdf.Block("text", _("Generated on %(date)s from the offering's data.", date=_moment(utcnow()))),
    ]
    for section in sheet(project):
        blocks.append(pdf.Block("heading", section.heading))
        for label, value in section.rows:
            blocks.append(pdf.Block("text", f"{label}: {value}" if label else value))
    return pdf.render(title(project), blocks)
