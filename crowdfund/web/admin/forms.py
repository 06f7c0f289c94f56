from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, RadioField, SelectField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import Form
from ..projects.forms import choices

CHECKLIST_LABELS = {
    "identity_verified": _l("The founders' identity is verified"),
    "registration_valid": _l("The firm's registration is valid"),
    "financials_present": _l("The business plan and financial statements are present and plausible"),
    "rewards_feasible": _l("The rewards and delivery dates are feasible"),
    "risks_disclosed": _l("The risks are honestly disclosed"),
}
DECISION_LABELS = {"approve": _l("Approve"), "request_changes": _l("Request changes"), "reject": _l("Reject")}


class ReviewForm(Form):
    identity_verified = BooleanField(CHECKLIST_LABELS["identity_verified"])
    registration_valid = BooleanField(CHECKLIST_LABELS["registration_valid"])
    financials_present = BooleanField(CHECKLIST_LABELS["financials_present"])
    rewards_feasible = BooleanField(CHECKLIST_LABELS["rewards_feasible"])
    risks_disclosed = BooleanField(CHECKLIST_LABELS["risks_disclosed"])
    risk_grade = SelectField(
        _l("Risk grade"),
        validators=[Optional()],
        choices=choices(
            [("", "—"), ("A", _l("A: lowest risk")), ("B", "B"), ("C", "C"), ("D", "D"), ("E", _l("E: highest risk"))]
        ),
        description=_l("Shown to backers on the project page."),
    )
    decision = RadioField(_l("Decision"), choices=choices(DECISION_LABELS.items()), validators=[DataRequired()])
    note = TextAreaField(
        _l("Note for the founder"),
        validators=[Optional(), Length(max=5000)],
        description=_l("Required when you request changes or reject; the founder sees it."),
    )
    submit = SubmitField(_l("Record the decision"))


class SuspendForm(Form):
    note = TextAreaField(_l("Why is the campaign suspended?"), validators=[DataRequired(), Length(max=5000)])
    submit = SubmitField(_l("Suspend the campaign"))
