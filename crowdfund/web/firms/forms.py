from flask_babel import get_locale, lazy_gettext as _l
from wtforms import BooleanField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import CountrySelect, Form, country_choices

# Where the firm is paid is not typed here: it is set up with the payment processor
# (the firm's page, "Set up payouts").


class FirmForm(Form):
    legal_name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=200)])
    country = SelectField(_l("Country of registration"), validators=[DataRequired()], widget=CountrySelect())
    registration_number = StringField(
        _l("Registration number"),
        validators=[DataRequired(), Length(max=40)],
        description=_l("In China, the 18-character Unified Social Credit Code."),
    )
    address = TextAreaField(_l("Registered address"), validators=[DataRequired(), Length(max=1000)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("What the firm does"), validators=[Optional(), Length(max=5000)])
    submit = SubmitField(_l("Save firm"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(str(get_locale() or "en"))


class ChangeRequestForm(Form):
    """Locked details: what the firm's people ask an admin to change."""

    legal_name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=200)])
    country = SelectField(_l("Country of registration"), validators=[DataRequired()], widget=CountrySelect())
    registration_number = StringField(_l("Registration number"), validators=[DataRequired(), Length(max=40)])
    new_payout_account = BooleanField(
        _l("Pay out to a different account"),
        description=_l(
            "You will set up the new account with the payment processor; it is used once an "
            "administrator approves the change."
        ),
    )
    submit = SubmitField(_l("Ask for the change"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(str(get_locale() or "en"))


class PayoutForm(Form):
    """The "Set up payouts" / "Continue setup" button (a CSRF token, and whether to replace)."""

    replace = BooleanField()
