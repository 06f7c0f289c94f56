"""The editor's "Shipping fees by destination": one destination and its fee a line, read into
the `shipping_rates` the services take ([{"to", "fee"}], crowdfund/domain/shipping.py)."""

from flask_babel import gettext as _, lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import StopValidation

from ...domain.money import to_major, to_minor

NOT_SHIPPED = ("-", "—", "no", "none", "不寄送")
DESCRIPTION = _l(
    "Optional. One a line: where, then the fee, or “-” where it does not ship. Where: domestic, "
    "rest_of_world, a region (eu, europe, north_america, east_asia, southeast_asia, oceania) or a "
    "country code. For example “domestic 5”, “eu 12.50”, “US -”."
)


class ShippingRatesField(TextAreaField):
    """`data`: the list of rates, or None when empty; read in the form's `currency`."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("description", DESCRIPTION)
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        self.data = None  # read in pre_validate, with the form's currency

    def pre_validate(self, form):
        text = (self.raw_data or [""])[0]
        if not isinstance(text, str) or not text.strip():
            return
        rates = []
        for number, line in enumerate(text.splitlines(), 1):
            parts = line.strip().split(None, 1)
            if not parts:
                continue
            fee_text = parts[1].strip() if len(parts) > 1 else ""
            if fee_text.lower() in NOT_SHIPPED or not fee_text:
                fee = None
            else:
                try:
                    fee = to_minor(fee_text, form.currency)
                except (ArithmeticError, ValueError) as error:
                    raise StopValidation(_("Line %(num)d: %(problem)s", num=number, problem=str(error))) from None
            rates.append({"to": parts[0], "fee": fee})
        self.data = rates or None

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        currency = getattr(self._form, "currency", None)
        if not self.data or not currency:
            return ""
        return "\n".join(
            f"{rate['to']} {'-' if rate['fee'] is None else to_major(rate['fee'], currency)}" for rate in self.data
        )
