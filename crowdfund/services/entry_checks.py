"""eu_ecsp, Art. 21 of Regulation (EU) 2020/1503: what a non-sophisticated investor proves
before investing, and the warning on a large investment.

- the entry knowledge test (`QUESTIONS`, `KNOWLEDGE_TEST_PASS_MARK` right answers) and the
  loss-bearing simulation (the investor states their net worth and is shown
  `LOSS_BEARING_CAPACITY_BPS` of it as what they can bear to lose, and acknowledges it): both
  before the first investment and again once `INVESTOR_CHECKS_VALID_DAYS` have passed;
- a warning, to acknowledge for the commitment, when what the investor puts into one project
  goes above the greater of `LARGE_INVESTMENT_WARNING` (the rulebook's currency) and
  `LARGE_INVESTMENT_WARNING_NET_WORTH_BPS` of their net worth, converted at the reference rates.

Sophisticated investors (the profile's "accredited") are asked for neither.
"""

from dataclasses import dataclass
from datetime import timedelta

from flask import has_request_context, url_for
from flask_babel import get_locale, gettext as _, lazy_gettext as _l
from sqlalchemy import func, select

from ..domain.clock import utcnow
from ..domain.fx import UnknownRate
from ..domain.investment_limits import major_to_minor
from ..domain.money import SUPPORTED_CURRENCIES, format_money, max_minor
from ..errors import Conflict, ValidationError
from ..extensions import db
from ..models import InvestorAssessment, Pledge
from ..models.investor_checks import KNOWLEDGE_TEST, LOSS_SIMULATION
from . import fx_rates, use_case
from .investors import COUNTED_STATUSES, rulebook


@dataclass(frozen=True)
class Question:
    key: str
    text: object
    choices: tuple  # (choice key, text)
    right: str


QUESTIONS = (
    Question(
        "q1",
        _l("If the firm you invest in fails, what happens to the money you invested?"),
        (
            ("a", _l("The platform pays it back.")),
            ("b", _l("You may lose all of it.")),
            ("c", _l("A deposit guarantee scheme pays it back.")),
        ),
        "b",
    ),
    Question(
        "q2",
        _l("Can you sell your shares whenever you want?"),
        (
            ("a", _l("Yes, on the platform at any time.")),
            ("b", _l("No: there is usually no market for them, and you may not be able to sell for years.")),
            ("c", _l("Yes: the firm must buy them back on request.")),
        ),
        "b",
    ),
    Question(
        "q3",
        _l("Is an investment made here covered by a deposit guarantee or investor compensation scheme?"),
        (
            ("a", _l("Yes, up to EUR 100,000.")),
            ("b", _l("Only when the firm is based in the EU.")),
            ("c", _l("No.")),
        ),
        "c",
    ),
    Question(
        "q4",
        _l("Will a small firm pay you dividends?"),
        (
            ("a", _l("Yes, every year.")),
            ("b", _l("Rarely: you may get no return for many years, or ever.")),
            ("c", _l("Yes: dividends are guaranteed by the platform.")),
        ),
        "b",
    ),
    Question(
        "q5",
        _l("What does spreading your money over several investments do?"),
        (
            ("a", _l("It lowers what you lose if one firm fails.")),
            ("b", _l("It guarantees a profit.")),
            ("c", _l("Nothing at all.")),
        ),
        "a",
    ),
)


def applies(profile=None):
    """Whether the rulebook asks this investor (None: any non-sophisticated one) for the checks."""
    return rulebook().entry_checks and not (profile is not None and profile.accredited)


def checks_url():
    return url_for("pledges.investor_checks", _external=True) if has_request_context() else "/me/investor-checks"


@dataclass(frozen=True)
class Checks:
    test_passed_at: object
    simulation_at: object
    valid_days: int

    def valid_until(self, moment):
        return moment + timedelta(days=self.valid_days) if moment is not None else None

    def test_valid(self, now):
        return self.test_passed_at is not None and now < self.valid_until(self.test_passed_at)

    def simulation_valid(self, now):
        return self.simulation_at is not None and now < self.valid_until(self.simulation_at)


def checks_of(user):
    """The newest passed test and acknowledged simulation of `user` (one statement)."""
    rows = db.session.execute(
        select(InvestorAssessment.kind, func.max(InvestorAssessment.created_at))
        .where(InvestorAssessment.user_id == user.id, InvestorAssessment.passed.is_(True))
        .group_by(InvestorAssessment.kind)
    ).all()
    newest = dict(rows)
    return Checks(newest.get(KNOWLEDGE_TEST), newest.get(LOSS_SIMULATION), rulebook().entry_checks_valid_days)


def require_entry_checks(user, profile, now):
    """Conflict 409 `knowledge_test_required` / `loss_simulation_required` until both are done and fresh."""
    if not applies(profile):
        return
    checks = checks_of(user)
    if not checks.test_valid(now):
        raise Conflict(
            _(
                "Before investing, please pass the short test on the risks of investing (it is asked again "
                "every %(days)d days): %(url)s",
                days=checks.valid_days,
                url=checks_url(),
            ),
            code="knowledge_test_required",
        )
    if not checks.simulation_valid(now):
        raise Conflict(
            _(
                "Before investing, please complete the simulation of the loss you can bear (it is asked again "
                "every %(days)d days): %(url)s",
                days=checks.valid_days,
                url=checks_url(),
            ),
            code="loss_simulation_required",
        )


# -- the test --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TestResult:
    passed: bool
    score: int
    questions: int
    pass_mark: int
    wrong: tuple  # keys of the questions answered wrongly
    at: object


@use_case
def take_test(user, answers):
    """Score `answers` ({question key: choice key}); every question must be answered. Each
    attempt is recorded; a pass counts for INVESTOR_CHECKS_VALID_DAYS."""
    answers = answers if isinstance(answers, dict) else {}
    errors = {}
    for question in QUESTIONS:
        choice = answers.get(question.key)
        if choice not in {key for key, _text in question.choices}:
            errors[f"answers.{question.key}"] = _("Choose an answer.")
    if errors:
        raise ValidationError(_("Please answer every question."), fields=errors)
    wrong = tuple(q.key for q in QUESTIONS if answers[q.key] != q.right)
    score = len(QUESTIONS) - len(wrong)
    pass_mark = min(rulebook().knowledge_test_pass_mark, len(QUESTIONS))
    now = utcnow()
    db.session.add(
        InvestorAssessment(
            user_id=user.id,
            kind=KNOWLEDGE_TEST,
            passed=score >= pass_mark,
            score=score,
            questions=len(QUESTIONS),
            created_at=now,
        )
    )
    db.session.flush()
    return TestResult(score >= pass_mark, score, len(QUESTIONS), pass_mark, wrong, now)


# -- the simulation --------------------------------------------------------------------------------


def loss_capacity(net_worth):
    return net_worth * rulebook().loss_capacity_bps // 10_000


def _money(minor, currency):
    return format_money(minor, currency, locale=str(get_locale() or "en"))


@use_case
def acknowledge_simulation(user, *, net_worth, currency, acknowledged):
    """The investor states their net worth (minor units of `currency`), is shown the share of it
    they can bear to lose, and acknowledges it. Returns the recorded assessment."""
    errors = {}
    currency = (currency or "").strip().upper() if isinstance(currency, str) else ""
    if currency not in SUPPORTED_CURRENCIES:
        errors["currency"] = _("Choose the currency of your net worth.")
    if type(net_worth) is not int or net_worth < 0:
        errors["net_worth"] = _("Enter your net worth as a whole amount (0 if none).")
    elif currency in SUPPORTED_CURRENCIES and net_worth > max_minor(currency):
        errors["net_worth"] = _("That net worth is too large.")
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)
    capacity = loss_capacity(net_worth)
    if acknowledged is not True:
        message = _(
            "Please confirm that you have seen that you can bear to lose %(amount)s: %(percent)s%% of your net worth.",
            amount=_money(capacity, currency),
            percent="%g" % (rulebook().loss_capacity_bps / 100),
        )
        raise ValidationError(message, code="simulation_not_acknowledged", fields={"acknowledge": message})
    record = InvestorAssessment(
        user_id=user.id,
        kind=LOSS_SIMULATION,
        passed=True,
        net_worth=net_worth,
        loss_capacity=capacity,
        currency=currency,
        created_at=utcnow(),
    )
    db.session.add(record)
    db.session.flush()
    return record


# -- the warning on a large investment -------------------------------------------------------------


def warning_mark(profile, currency):
    """The amount in `currency` above which one project needs the warning acknowledged, or None."""
    book = rulebook()
    if book.large_investment_warning is None or not applies(profile):
        return None
    rates = fx_rates.reference_rates()
    share = profile.net_worth * book.large_investment_net_worth_bps // 10_000
    in_rule = max(
        major_to_minor(book.large_investment_warning, book.currency),
        rates.convert(share, profile.currency, book.currency),
    )
    return rates.convert(in_rule, book.currency, currency)


def require_warning_acknowledged(user, profile, project, total, acknowledged):
    """422 `large_investment_not_acknowledged` naming `acknowledge_large_investment` when this
    commitment takes the investor's total in `project` above the warning mark. Returns True
    when the warning applied (the pledge records its acknowledgement)."""
    try:
        mark = warning_mark(profile, project.currency)
    except UnknownRate as missing:
        raise Conflict(
            _("There is no reference exchange rate for %(currency)s.", currency=str(missing)), code="fx_rate_missing"
        ) from None
    if mark is None:
        return False
    earlier = db.session.scalar(
        select(func.coalesce(func.sum(Pledge.amount), 0)).where(
            Pledge.project_id == project.id, Pledge.backer_id == user.id, Pledge.status.in_(COUNTED_STATUSES)
        )
    )
    in_project = int(earlier or 0) + total
    if in_project <= mark:
        return False
    if acknowledged is not True:
        message = _(
            "Warning: with this commitment you would invest %(amount)s in this project, more than %(mark)s "
            "(the greater of %(floor)s and %(percent)s%% of your net worth). You may lose all of it. Please "
            "confirm that you have read this warning to go ahead.",
            amount=_money(in_project, project.currency),
            mark=_money(mark, project.currency),
            floor=_money(major_to_minor(rulebook().large_investment_warning, rulebook().currency), rulebook().currency),
            percent="%g" % (rulebook().large_investment_net_worth_bps / 100),
        )
        raise ValidationError(
            message, code="large_investment_not_acknowledged", fields={"acknowledge_large_investment": message}
        )
    return True
