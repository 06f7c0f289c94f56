"""The base of every web form, and helpers shared by the forms."""

import re
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any
from urllib.parse import urlsplit

from babel import support
from babel.numbers import get_currency_symbol
from flask import current_app, request, url_for
from flask_babel import get_locale, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, PasswordField, StringField, TextAreaField
from wtforms.fields.choices import Choice
from wtforms.i18n import messages_path
from wtforms.validators import Length, StopValidation, ValidationError
from wtforms.widgets import Select

from ..domain.money import SUPPORTED_CURRENCIES, page_locale, to_major, to_minor
from ..domain.numbers import syntax
from ..errors import DomainError
from ..services.firms import country_names


class Form(FlaskForm):
    """FlaskForm, with WTForms' own messages ("This field is required.") translated from a
    catalogue read once per language and process: Flask-WTF reads it from disk again on
    every request that builds a form.

    Every field of every form also refuses what no field means (`plain_input`): a NUL
    character (which PostgreSQL cannot store), control characters in text, and numbers
    not written in digits 0-9."""

    class Meta:
        def get_translations(self, form):
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return FlaskForm.Meta.get_translations(self, form)
            return wtforms_catalogue(str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]))

    def validate(self, extra_validators=None):
        extra = {name: [*(extra_validators or {}).get(name, ()), plain_input] for name in self._fields}
        return super().validate(extra_validators=extra)


# Control characters (C0, DEL, C1). A line of text may hold none; a multi-line text its tabs
# and line breaks only. Passwords are left as typed (only NUL is refused there).
LINE_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
TEXT_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
ASCII_INTEGER = re.compile(r"\s*[+-]?[0-9]+\s*")
LARGEST_NUMBER = 2**63 - 1
LONGEST_LINE = 1000


def plain_input(form, field):
    """Refuse, with a message, what a field was sent that it cannot mean."""
    sent = [value for value in (field.raw_data or ()) if isinstance(value, str)]
    if any("\x00" in value for value in sent):
        raise ValidationError(_l("Remove the NUL character (an invisible control character) from this field."))
    if isinstance(field, IntegerField):
        if field.process_errors:  # not a number at all: WTForms said so
            return
        if any(value.strip() and not ASCII_INTEGER.fullmatch(value) for value in sent):  # int() takes "１２"
            raise ValidationError(_l("Enter a whole number in digits 0-9."))
        if isinstance(field.data, int) and abs(field.data) > LARGEST_NUMBER:  # past every column
            raise ValidationError(_l("That number is too large."))
        return
    if not isinstance(field, StringField):
        return
    multi_line = isinstance(field, TextAreaField)
    if (
        not multi_line
        and not any(isinstance(v, Length) for v in field.validators)
        and any(len(value) > LONGEST_LINE for value in sent)
    ):
        # A line with no bound of its own (an email address to sign in with, a password):
        # the services' checks of a 100 KB line cost seconds of CPU (email_validator's parser).
        raise ValidationError(_l("This is too long (at most %(max)d characters).", max=LONGEST_LINE))
    if isinstance(field, PasswordField):
        return
    controls = TEXT_CONTROLS if multi_line else LINE_CONTROLS
    if any(controls.search(value) for value in sent):
        raise ValidationError(
            _l("Remove the control characters (such as escapes) from this text; tabs and line breaks are fine.")
            if multi_line
            else _l("Remove the control characters (such as tabs or line breaks) from this line.")
        )


class MoneyField(StringField):
    """An amount of money as a person types it, read into integer minor units (`data`) of the
    currency named by the form's attribute `currency` (a field the person chooses it in, or
    a plain code the form was made with).

    The number is read as the page's language writes numbers (`to_minor`: "1,234.50",
    "1234.5"; no more decimals than the currency has, none for JPY), and may carry the
    currency's own sign or code before or after it ("¥1,234", "1,234 CNY", "1234元"). A sign of
    another currency is not read: it would be a different amount. Empty: `data` is None.
    """

    def __init__(self, label=None, validators=None, *, currency="currency", **kwargs):
        self.currency_attribute = currency
        super().__init__(label, validators, **kwargs)

    def currency(self):
        """The currency code, or None while the person has not chosen a supported one."""
        value = getattr(self._form, self.currency_attribute, None)  # WTForms keeps the form in `_form`
        value = getattr(value, "data", value)  # a field: what was chosen in it
        return value if value in SUPPORTED_CURRENCIES else None

    def process_formdata(self, valuelist):
        self.data = None  # read in pre_validate, once the currency field has its value too

    def pre_validate(self, form):
        typed = (self.raw_data or [""])[0]
        currency = self.currency()
        if not isinstance(typed, str) or not typed.strip() or currency is None:
            return  # nothing typed (the validators say whether that will do), or no currency to read it in
        try:
            self.data = to_minor(without_currency_mark(typed, currency), currency)
        except ValueError as error:
            raise StopValidation(str(error)) from None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        currency = self.currency()
        if self.data is None or currency is None:
            return ""
        return str(to_major(self.data, currency)).replace(".", syntax(page_locale()).decimal)


# How an amount's currency is written besides its CLDR signs: full-width signs from a Chinese
# keyboard, and the yuan as Chinese writes it after an amount.
FULL_WIDTH = str.maketrans({"￥": "¥", "＄": "$", "￡": "£"})
LOCAL_MARKS = {"CNY": ("元",)}


@cache
def currency_marks(currency):
    """The ways `currency` is written next to an amount, longest first ("CN¥" before "¥")."""
    marks = {currency, *LOCAL_MARKS.get(currency, ())}
    for locale in ("en", "zh"):
        symbol = get_currency_symbol(currency, locale)
        marks.add(symbol)
        if symbol != currency and symbol.endswith(("¥", "$", "£", "€")):
            marks.add(symbol[-1])  # "CN¥", "US$": the bare sign as most people type it
    return tuple(sorted(marks, key=len, reverse=True))


def without_currency_mark(text, currency):
    """`text` with one sign or code of `currency` taken off its start or its end."""
    text = text.strip().translate(FULL_WIDTH)
    for mark in currency_marks(currency):
        if text.startswith(mark):
            return text[len(mark) :].strip()
        if text.endswith(mark):
            return text[: -len(mark)].strip()
    return text


@cache  # one entry per language the site offers (config LANGUAGES)
def wtforms_catalogue(locale):
    return support.Translations.load(messages_path(), [locale], domain="wtforms")


class CountrySelect(Select):
    """WTForms' <select>, each <option> rendered once per process and then reused: the ~250
    countries would otherwise be rendered again every time a form with one is shown."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        return _option_html(choice.value, choice.label, choice.selected)


@lru_cache(maxsize=2048)  # each country once per language, and once more as the one selected
def _option_html(value, label, selected):
    return Select.render_option(Choice(value, label, selected, None))


@cache  # one entry per language the site offers
def country_choices(locale):
    """A country <select>'s choices in `locale`, by name (the backing and firm forms)."""
    return (("", "—"),) + tuple(sorted(country_names(locale).items(), key=lambda item: item[1]))


def apply_domain_error(form, error):
    """Put a service's DomainError back onto the form: per field where it names one."""
    placed = False
    for name, message in (error.fields or {}).items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(field.errors) + [message]
            placed = True
    if not placed:
        form.form_errors.append(error.message)


def prefilled_form(form_class, *args, **values):
    """`form_class(*args)`, shown filled in with `values` (`data=` or `obj=`: what is stored,
    or a suggestion) but, once sent, holding only what was sent.

    Given `values` on a POST, WTForms fills each field missing from the POST with its value,
    so a POST of the CSRF token alone would pass as "everything unchanged". Without them a
    missing field is empty, as a browser sends an empty field, and a required one is refused.
    """
    if request.method == "POST":
        return form_class(*args)
    return form_class(*args, **values)


@dataclass(frozen=True)
class FormOutcome:
    done: bool  # the form was valid and the service accepted it
    status: int = 200  # when not done: the status to show the form again with
    result: Any = None  # when done: what the service returned


def submit_form(form, action):
    """Call the service (`action()`) when `form` comes back valid.

    Not sent yet: status 200. Refused by the form itself (a field, an expired CSRF token): 422.
    Refused by the service: its DomainError goes onto the form, with the error's status.
    """
    if not form.validate_on_submit():
        return FormOutcome(False, 422 if form.is_submitted() else 200)
    try:
        return FormOutcome(True, result=action())
    except DomainError as error:
        apply_domain_error(form, error)
        return FormOutcome(False, error.status)


def safe_next(target, fallback_endpoint="main.index"):
    """`target` if it is a path on this site; otherwise the fallback. Refuses open redirects."""
    fallback = url_for(fallback_endpoint)
    if not target or not isinstance(target, str):
        return fallback
    target = target.strip()
    if "\\" in target or any(ord(c) < 32 for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target
