"""Forms of password reset, email verification and the sessions page."""

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from ..forms import Form


class ForgotForm(Form):
    email = EmailField(
        _l("Email address"),
        validators=[DataRequired(), Length(max=254)],
        description=_l("The address you signed up with."),
    )
    submit = SubmitField(_l("Send me a link"))


class ResetForm(Form):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired()],
        description=_l("At least 10 characters; a phrase is easiest to remember."),
    )
    confirm = PasswordField(
        _l("Repeat the new password"), validators=[DataRequired(), EqualTo("password", _l("The two passwords differ."))]
    )
    submit = SubmitField(_l("Set the new password"))


class ResendForm(Form):
    submit = SubmitField(_l("Send the link again"))


class EndForm(Form):
    """One button: end a session, revoke a token, end every other session."""

    submit = SubmitField(_l("End"))
