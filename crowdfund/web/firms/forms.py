from flask_babel import get_locale, lazy_gettext as _l
from wtforms import SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import CountrySelect, Form, country_choices


class FirmForm(Form):
    legal_name = StringField(_l("Legal name"), validators=[DataRequired(), Length(max=200)])
    country = SelectField(_l("Country of registration"), validators=[DataRequired()], widget=CountrySelect())
    registration_number = StringField(
        _l("Registration number"), validators=[DataRequired(), Length(max=40)],
        description=_l("In China, the 18-character Unified Social Credit Code."))
    address = TextAreaField(_l("Registered address"), validators=[DataRequired(), Length(max=1000)])
    website = StringField(_l("Website"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("What the firm does"), validators=[Optional(), Length(max=5000)])
    payout_account_ref = StringField(
        _l("Payout account"), validators=[Optional(), Length(max=100)],
        description=_l("Your Stripe connected account id (acct_…). Leave empty for a sandbox account."))
    submit = SubmitField(_l("Save firm"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.country.choices = country_choices(str(get_locale() or "en"))
