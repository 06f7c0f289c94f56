"""The investor's own checks before investing: the entry knowledge test and the loss-bearing
simulation (eu_ecsp, services/entry_checks.py) and the proof of being a qualified investor
(cn, services/qualifications.py)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, RadioField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ...domain.clock import utcnow
from ...domain.money import SUPPORTED_CURRENCIES, to_minor
from ...errors import ValidationError
from ...services import entry_checks, investors, qualifications
from ..forms import Form, apply_domain_error, safe_next, submit_form
from ..projects.forms import choices
from . import bp


class KnowledgeTestForm(Form):
    next = HiddenField()
    submit = SubmitField(_l("Send my answers"))


for _question in entry_checks.QUESTIONS:  # one radio group per question, named after it
    setattr(
        KnowledgeTestForm,
        _question.key,
        RadioField(
            _question.text,
            choices=choices(_question.choices),
            validate_choice=False,  # the service checks the answer, naming the question
            validators=[InputRequired(_l("Choose an answer."))],
        ),
    )


class SimulationForm(Form):
    currency = SelectField(_l("Currency"), choices=choices((c, c) for c in SUPPORTED_CURRENCIES))
    net_worth = StringField(
        _l("Your net worth"),
        validators=[DataRequired(_l("Enter your net worth (0 if none).")), Length(max=30)],
        description=_l("What you own minus what you owe, not counting your main home."),
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    acknowledge = BooleanField(_l("I have seen how much I can bear to lose, and I will not invest more than that."))
    next = HiddenField()
    submit = SubmitField(_l("Show and record"))


class QualificationForm(Form):
    basis = RadioField(_l("What you show"), choices=choices(qualifications.BASES.items()), validators=[Optional()])
    amount = StringField(
        _l("The amount"),
        validators=[DataRequired(_l("Enter the amount.")), Length(max=30)],
        render_kw={"inputmode": "decimal"},
    )
    file = FileField(
        _l("Evidence"),
        description=_l("A bank or brokerage statement, or a tax record: a PDF or an image (JPEG or PNG)."),
    )
    submit = SubmitField(_l("Send for review"))


def _answers(form):
    return {q.key: getattr(form, q.key).data for q in entry_checks.QUESTIONS}


@bp.route("/me/investor-checks", methods=["GET", "POST"])
@login_required
def investor_checks():
    test_form = KnowledgeTestForm(prefix="test", next=request.args.get("next", ""))
    simulation = SimulationForm(prefix="sim", next=request.args.get("next", ""))
    profile = investors.get_profile(current_user)
    if request.method == "GET" and profile is not None:
        simulation.currency.data = profile.currency
    status, result, capacity = 200, None, None
    # Which of the two forms came back: by its fields' prefix (a form sent without pressing
    # its button, by Enter in a field or a script, still counts).
    sent = {key.split("-", 1)[0] for key in request.form if "-" in key} if request.method == "POST" else set()
    if request.method == "POST" and not sent & {"test", "sim"}:
        status = 422  # neither form: nothing to do
    elif "test" in sent:
        outcome = submit_form(test_form, lambda: entry_checks.take_test(current_user, _answers(test_form)))
        status, result = outcome.status, outcome.result
        if result is not None and result.passed:
            flash(
                _("You passed the test (%(score)d of %(total)d).", score=result.score, total=result.questions),
                "success",
            )
            return redirect(url_for("pledges.investor_checks", next=test_form.next.data or None))
    elif "sim" in sent:
        status, capacity = _simulate(simulation)
        if status == 303:
            flash(_("Your loss simulation is recorded."), "success")
            return redirect(safe_next(simulation.next.data, "pledges.investor_checks"))
    checks = entry_checks.checks_of(current_user)
    return render_template(
        "pledges/investor_checks.html",
        test_form=test_form,
        simulation=simulation,
        result=result,
        capacity=capacity,
        checks=checks,
        now=utcnow(),
        applies=entry_checks.applies(profile),
        pass_mark=min(entry_checks.rulebook().knowledge_test_pass_mark, len(entry_checks.QUESTIONS)),
        questions=entry_checks.QUESTIONS,
    ), status


def _simulate(form):
    """(status, the loss capacity to show): 303 once recorded; 200 with the amount shown first."""
    if not form.validate_on_submit():
        return 422, None
    currency = form.currency.data
    try:
        net_worth = to_minor((form.net_worth.data or "").strip(), currency)
    except ValueError as error:
        form.net_worth.errors = list(form.net_worth.errors) + [str(error)]
        return 422, None
    capacity = (entry_checks.loss_capacity(net_worth), currency) if net_worth >= 0 else None
    try:
        entry_checks.acknowledge_simulation(
            current_user, net_worth=net_worth, currency=currency, acknowledged=bool(form.acknowledge.data)
        )
    except ValidationError as error:
        if error.code == "simulation_not_acknowledged":
            return 200, capacity  # the amount is shown now; ticking the box records it
        apply_domain_error(form, error)
        return error.status, None
    return 303, capacity


@bp.route("/me/qualification", methods=["GET", "POST"])
@login_required
def qualification():
    form = QualificationForm()
    book = investors.rulebook()
    status = 200
    if form.validate_on_submit():
        upload = form.file.data
        try:
            amount = to_minor((form.amount.data or "").strip(), book.currency)
        except ValueError as error:
            form.amount.errors = list(form.amount.errors) + [str(error)]
            status = 422
        else:
            outcome = submit_form(
                form,
                lambda: qualifications.submit(
                    current_user,
                    basis=form.basis.data,
                    amount=amount,
                    filename=getattr(upload, "filename", None),
                    content_type=getattr(upload, "mimetype", None),
                    stream=getattr(upload, "stream", None),
                ),
            )
            if outcome.done:
                flash(_("Your proof is sent; an administrator will review it."), "success")
                return redirect(url_for("pledges.qualification"))
            status = outcome.status
    elif form.is_submitted():
        status = 422
    return render_template(
        "pledges/qualification.html",
        form=form,
        current=qualifications.latest(current_user),
        required=qualifications.required(),
        thresholds=qualifications.thresholds(),
        currency=book.currency,
        status_words=qualifications.STATUS_WORDS,
        bases=qualifications.BASES,
    ), status
