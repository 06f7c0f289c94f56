import secrets

from babel.numbers import get_currency_name
from flask import current_app
from flask_babel import get_locale, lazy_gettext as _l
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional

from ...domain.money import SUPPORTED_CURRENCIES
from ..forms import CountrySelect, Form, country_choices

# The sandbox's test cards, in the viewer's language (TEST_CARDS holds their English names).
TEST_CARD_LABELS = {
    "pm_card_visa": _l("Visa •••• 4242 (succeeds)"),
    "pm_card_mastercard": _l("Mastercard •••• 4444 (succeeds)"),
    "pm_card_unionpay": _l("UnionPay •••• 0005 (succeeds)"),
    "pm_card_chargeDeclined": _l("Visa •••• 0002 (declined)"),
    "pm_card_insufficientFunds": _l("Visa •••• 9995 (insufficient funds)"),
    "pm_card_threeDSecure2Required": _l("Visa •••• 3220 (asks for 3-D Secure)"),
    "pm_card_authenticationRequired": _l("Visa •••• 3184 (bank asks to confirm)"),
    "pm_card_createDispute": _l("Visa •••• 0259 (succeeds, then the backer disputes it)"),
    "pm_alipay": _l("Alipay (redirects)"),
    "pm_wechat_pay": _l("WeChat Pay (QR code)"),
}


def new_attempt_key():
    """One per rendered form: the same form sent twice is the same pledge."""
    return secrets.token_urlsafe(18)


class BackForm(Form):
    idempotency_key = HiddenField(validators=[DataRequired()])
    tier_id = StringField(_l("Reward"), validators=[Optional(), Length(max=20)])
    quantity = IntegerField(_l("Quantity"), default=1, validators=[Optional()])
    amount = StringField(
        _l("Amount"), validators=[Optional(), Length(max=30)], description=_l("Only when you back without a reward.")
    )
    extra = StringField(_l("Add an extra amount (optional)"), validators=[Optional(), Length(max=30)])
    shares = IntegerField(_l("Number of shares"), validators=[Optional()])
    # Equity: asked again for every commitment (the service refuses one without it).
    acknowledge_risks = BooleanField(
        _l("I understand that I may lose all the money I invest in this offering and that its shares are hard to sell.")
    )
    # eu_ecsp: asked when one project goes above the warning mark (services/entry_checks.py).
    acknowledge_large_investment = BooleanField(
        _l("I have read the warning: this is a large investment for me, and I may lose all of it.")
    )
    shipping_name = StringField(_l("Recipient's name"), validators=[Optional(), Length(max=200)])
    shipping_line1 = StringField(_l("Street address"), validators=[Optional(), Length(max=200)])
    shipping_line2 = StringField(_l("Address line 2 (optional)"), validators=[Optional(), Length(max=200)])
    shipping_city = StringField(_l("City"), validators=[Optional(), Length(max=200)])
    shipping_postal_code = StringField(_l("Postal code"), validators=[Optional(), Length(max=20)])
    shipping_country = SelectField(
        _l("Country"), validators=[Optional()], validate_choice=False, widget=CountrySelect()
    )
    payment_method = SelectField(_l("Pay with"), validators=[DataRequired()])
    submit = SubmitField(_l("Pledge now"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.shipping_country.choices = country_choices(str(get_locale() or "en"))
        if current_app.config["PAYMENT_GATEWAY"] == "sandbox":
            from ...payments.sandbox_methods import TEST_CARDS

            self.payment_method.choices = [(value, TEST_CARD_LABELS.get(value, label)) for value, label in TEST_CARDS]
        else:  # filled in the browser by the gateway's card element (Stripe helper)
            self.payment_method.choices = []
            self.payment_method.validate_choice = False

    def shipping_address(self):
        return {
            key: getattr(self, f"shipping_{key}").data or ""
            for key in ("name", "line1", "line2", "city", "postal_code", "country")
        }


class CancelForm(Form):
    next = HiddenField()
    submit = SubmitField(_l("Cancel pledge"))


class InvestorProfileForm(Form):
    currency = SelectField(_l("Currency"), validators=[DataRequired()])
    annual_income = StringField(_l("Annual income"), validators=[DataRequired(), Length(max=30)])
    net_worth = StringField(
        _l("Net worth"),
        validators=[DataRequired(), Length(max=30)],
        description=_l("Not counting the value of your main home."),
    )
    other_investments_12m = StringField(
        _l("Invested on other crowdfunding platforms in the last 12 months"),
        default="0",
        validators=[Optional(), Length(max=30)],
    )
    accredited = BooleanField(
        _l("I am an accredited investor"), description=_l("Accredited investors have no 12-month investment limit.")
    )
    risk_acknowledged = BooleanField(
        _l(
            "I understand that I may lose all the money I invest, that shares in a small firm are hard to "
            "sell, and that I may receive no dividends."
        )
    )
    next = HiddenField()
    submit = SubmitField(_l("Save my investor profile"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        locale = str(get_locale() or "en")
        self.currency.choices = [
            (code, f"{code} · {get_currency_name(code, locale=locale)}") for code in SUPPORTED_CURRENCIES
        ]
