from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import DateTimeLocalField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ...domain.money import SUPPORTED_CURRENCIES
from ..forms import Form, MoneyField
from ..timezones import viewer_zone
from .shipping_rates_field import ShippingRatesField

CATEGORY_LABELS = {
    "design": _l("Design"),
    "technology": _l("Technology"),
    "food": _l("Food"),
    "publishing": _l("Publishing"),
    "games": _l("Games"),
    "crafts": _l("Crafts"),
    "fashion": _l("Fashion"),
    "film": _l("Film"),
    "music": _l("Music"),
    "community": _l("Community"),
}
KIND_LABELS = {
    "reward": _l("Reward campaign: pre-sell products in tiers"),
    "equity": _l("Equity campaign: sell shares at a fixed price"),
}
SHIPPING_LABELS = {
    "none": _l("Nothing to ship"),
    "domestic": _l("Ships domestically"),
    "worldwide": _l("Ships worldwide"),
}
DOCUMENT_KIND_LABELS = {
    "cover": _l("Cover image (JPEG, PNG, WebP or GIF)"),
    "business_plan": _l("Business plan (PDF)"),
    "financial_statements": _l("Financial statements (PDF)"),
}
LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]
MONEY_ATTRS = {"inputmode": "decimal", "autocomplete": "off"}
WHOLE_ATTRS = {"inputmode": "numeric", "autocomplete": "off"}


def choices(pairs):
    return [SelectChoice(value, label) for value, label in pairs]


CATEGORY_CHOICES = choices([("", "—")] + list(CATEGORY_LABELS.items()))
CURRENCY_CHOICES = choices((code, code) for code in SUPPORTED_CURRENCIES)


class BasicsForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=120)])
    summary = StringField(
        _l("Summary"),
        validators=[DataRequired(), Length(max=300)],
        description=_l("One sentence that says what backers get or invest in."),
    )
    category = SelectField(_l("Category"), choices=CATEGORY_CHOICES, validators=[DataRequired()])
    currency = SelectField(_l("Currency"), choices=CURRENCY_CHOICES, validators=[DataRequired()])
    goal = MoneyField(
        _l("Funding goal"),
        validators=[InputRequired()],
        render_kw=MONEY_ATTRS,
        description=_l("In the currency above, e.g. 25000 or 25000.50. Equity: the minimum raise."),
    )
    duration_days = StringField(
        _l("Planned duration (days)"),
        validators=[Optional()],
        render_kw=WHOLE_ATTRS,
        description=_l("You choose the exact deadline when you launch."),
    )
    funding_model = SelectField(
        _l("Funding model"),
        choices=choices(
            [
                ("all_or_nothing", _l("All or nothing: the firm is paid only if the goal is met")),
                ("flexible", _l("Flexible: the firm keeps what is raised, even below the goal")),
            ]
        ),
        default="all_or_nothing",
        validators=[Optional()],
        description=_l("Flexible funding is for reward campaigns only; equity offerings are all or nothing."),
    )
    release_model = SelectField(
        _l("When the firm is paid"),
        choices=choices(
            [
                ("at_success", _l("At success: everything is released when the campaign succeeds")),
                ("on_delivery", _l("On delivery: part at success, the rest as backers receive their rewards")),
            ]
        ),
        default="at_success",
        validators=[Optional()],
        description=_l("Release on delivery is for reward campaigns only; backers trust it more."),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[Optional(), Length(max=50000)],
        description=_l("Markdown: **bold**, *italic*, lists, links and headings."),
    )
    risks = TextAreaField(_l("Risks and challenges"), validators=[Optional(), Length(max=50000)])
    use_of_funds = TextAreaField(_l("Use of funds"), validators=[Optional(), Length(max=50000)])
    submit = SubmitField(_l("Save"))


class NewProjectForm(BasicsForm):
    firm_id = SelectField(_l("Firm"), coerce=int, validators=[DataRequired()])
    kind = RadioField(
        _l("Kind of campaign"), choices=choices(KIND_LABELS.items()), default="reward", validators=[DataRequired()]
    )
    submit = SubmitField(_l("Create project"))

    def __init__(self, firms, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.firm_id.choices = choices((firm.id, firm.legal_name) for firm in firms)


class StoryForm(Form):
    """After approval only the story may change (and each change is logged)."""

    summary = StringField(_l("Summary"), validators=[DataRequired(), Length(max=300)])
    description = TextAreaField(
        _l("Description"),
        validators=[DataRequired(), Length(max=50000)],
        description=_l("Markdown: **bold**, *italic*, lists, links and headings."),
    )
    risks = TextAreaField(_l("Risks and challenges"), validators=[DataRequired(), Length(max=50000)])
    use_of_funds = TextAreaField(_l("Use of funds"), validators=[DataRequired(), Length(max=50000)])
    submit = SubmitField(_l("Save changes"))


class StockItemForm(Form):
    """What a reward tier and an add-on share: a limited stock, sent or not, priced in the
    project's `currency` (their titles, prices and shipping fee differ in wording only)."""

    def __init__(self, currency, *args, **kwargs):
        self.currency = currency
        super().__init__(*args, **kwargs)

    description = TextAreaField(_l("What the backer gets"), validators=[Optional(), Length(max=5000)])
    quantity = StringField(
        _l("Quantity available"),
        validators=[Optional()],
        render_kw=WHOLE_ATTRS,
        description=_l("Leave empty for no limit."),
    )
    # InputRequired: a POST without it is refused rather than given the default.
    shipping = SelectField(
        _l("Shipping"),
        choices=choices(SHIPPING_LABELS.items()),
        default="none",
        validators=[InputRequired(_l("Choose no shipping, domestic or worldwide."))],
    )
    shipping_rates = ShippingRatesField(_l("Shipping fees by destination"), validators=[Optional()])


class TierForm(StockItemForm):
    """A reward tier."""

    title = StringField(_l("Reward title"), validators=[DataRequired(_l("Give the reward a title.")), Length(max=120)])
    price = MoneyField(_l("Price"), validators=[InputRequired(_l("Enter the reward's price."))], render_kw=MONEY_ATTRS)
    per_backer_limit = StringField(
        _l("Limit per backer"),
        validators=[Optional()],
        render_kw=WHOLE_ATTRS,
        description=_l("Leave empty for no limit."),
    )
    estimated_delivery = StringField(
        _l("Estimated delivery (YYYY-MM)"),
        validators=[DataRequired(_l("Enter the month you expect to deliver (YYYY-MM)."))],
        render_kw={"placeholder": "2026-09", "autocomplete": "off"},
    )
    shipping_fee = MoneyField(
        _l("Shipping fee"),
        validators=[Optional()],
        render_kw=MONEY_ATTRS,
        description=_l("Added to the price when the reward is shipped."),
    )
    available_from = DateTimeLocalField(
        _l("Available from"), format=LOCAL_FORMATS, tz=viewer_zone, validators=[Optional()]
    )
    available_until = DateTimeLocalField(
        _l("Available until"), format=LOCAL_FORMATS, tz=viewer_zone, validators=[Optional()]
    )
    submit = SubmitField(_l("Save reward"))


class EquityForm(Form):
    """Equity terms; the amounts are in the project's `currency`."""

    def __init__(self, currency, *args, **kwargs):
        self.currency = currency
        super().__init__(*args, **kwargs)

    security_type = SelectField(
        _l("Security"),
        choices=choices([("ordinary_shares", _l("Ordinary shares"))]),
        invalid_choice_message=_l("Only ordinary shares can be offered."),
    )
    price_per_share = MoneyField(
        _l("Price per share"), validators=[InputRequired(_l("Enter the price per share."))], render_kw=MONEY_ATTRS
    )
    shares_offered = StringField(
        _l("Shares offered (the most that can be sold)"),
        validators=[DataRequired(_l("Enter how many shares are offered."))],
        render_kw=WHOLE_ATTRS,
    )
    min_shares = StringField(
        _l("Minimum investment (shares)"),
        validators=[DataRequired(_l("Enter the minimum investment in shares."))],
        render_kw=WHOLE_ATTRS,
    )  # "1" for new terms comes from equity_as_input
    pre_money_valuation = MoneyField(
        _l("Pre-money valuation"),
        validators=[InputRequired(_l("Enter the pre-money valuation."))],
        render_kw=MONEY_ATTRS,
    )
    shares_outstanding = StringField(
        _l("Shares outstanding before the offering"),
        validators=[DataRequired(_l("Enter the number of shares that exist before the offering."))],
        render_kw=WHOLE_ATTRS,
    )
    submit = SubmitField(_l("Save equity terms"))


class DocumentForm(Form):
    kind = SelectField(_l("Document"), validators=[DataRequired()])
    file = FileField(_l("File"), validators=[FileRequired(_l("Choose a file to upload."))])
    submit = SubmitField(_l("Upload"))

    def __init__(self, kinds, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices((kind, DOCUMENT_KIND_LABELS[kind]) for kind in kinds)


class LaunchForm(Form):
    deadline = DateTimeLocalField(
        _l("Deadline"), format=LOCAL_FORMATS, tz=viewer_zone, validators=[DataRequired(_l("Choose the deadline."))]
    )
    submit = SubmitField(_l("Launch the campaign"))


class NoteForm(Form):
    note = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=5000)])
    submit = SubmitField(_l("Confirm"))


class ConfirmForm(Form):
    """A button and its CSRF token (submit for review, delete a tier)."""

    submit = SubmitField(_l("Confirm"))


class UpdateForm(Form):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(
        _l("Update"),
        validators=[DataRequired(), Length(max=20000)],
        description=_l("Markdown: **bold**, *italic*, lists, links and headings."),
        render_kw={"rows": 10},
    )
    audience = RadioField(
        _l("Who may read it"),
        choices=[
            SelectChoice("public", _l("Everyone who visits the project page")),
            SelectChoice("backers", _l("Backers only (others see the title, locked)")),
        ],
        default="public",  # a form sent without it (an older page) posts for everyone
        validate_choice=False,  # the service refuses anything else, naming the field
    )
    submit = SubmitField(_l("Post the update"))
