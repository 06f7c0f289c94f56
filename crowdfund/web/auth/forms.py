from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from ..forms import Form


class RegisterForm(Form):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired()],
        description=_l("At least 10 characters; a phrase is easiest to remember."),
    )
    confirm = PasswordField(
        _l("Repeat the password"), validators=[DataRequired(), EqualTo("password", _l("The two passwords differ."))]
    )
    # Its label, with links to both pages, is written in templates/auth/register.html.
    accept_terms = BooleanField(
        _l("I accept the terms of use and the privacy notice."),
        validators=[DataRequired(_l("Please accept the terms of use and the privacy notice to open an account."))],
    )
    submit = SubmitField(_l("Create account"))


class LoginForm(Form):
    email = EmailField(_l("Email address"), validators=[DataRequired()])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class ChangePasswordForm(Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired()])
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("new_password", _l("The two passwords differ."))],
    )
    submit = SubmitField(_l("Change password"))


class LogoutForm(Form):
    submit = SubmitField(_l("Log out"))
