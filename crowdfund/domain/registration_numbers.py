"""Company registration number checks by country.

China: the 18-character Unified Social Credit Code of GB 32100-2015, whose last
character is a check character over the first 17 (weights 3^i mod 31, alphabet
without I, O, S, V, Z). Other countries get a format check; unknown countries a
generic one.
"""

import re

from flask_babel import gettext as _, lazy_gettext as _l

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_USCC_SHAPE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")

_FORMATS = {
    "GB": (
        re.compile(r"^(\d{8}|[A-Z]{2}\d{6})$"),
        _l("8 digits, or 2 letters and 6 digits (e.g. 01234567 or SC123456)"),
    ),
    "US": (re.compile(r"^\d{2}-?\d{7}$"), _l("an EIN of 9 digits (e.g. 12-3456789)")),
    "DE": (re.compile(r"^HR[AB] ?\d{1,6}( ?[A-Z]{1,2})?$"), _l("a commercial register number (e.g. HRB 123456)")),
    "FR": (re.compile(r"^\d{9}$"), _l("a 9-digit SIREN")),
    "HK": (re.compile(r"^\d{7,8}$"), _l("a 7 or 8-digit company number")),
    "SG": (re.compile(r"^(\d{8,9}[A-Z]|[STR]\d{2}[A-Z]{2}\d{4}[A-Z])$"), _l("a UEN (e.g. 201912345K)")),
}
_GENERIC = re.compile(r"^[A-Z0-9][A-Z0-9 ./-]{2,38}[A-Z0-9]$")


def normalise(number):
    return re.sub(r"\s+", " ", (number or "").strip().upper())


def uscc_check_character(first17):
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code):
    """Why `code` is not a valid Unified Social Credit Code, or None."""
    if len(code) != 18:
        return _("A Unified Social Credit Code has 18 characters.")
    if not _USCC_SHAPE.match(code):
        return _(
            "A Unified Social Credit Code uses digits and capital letters except I, O, S, V, Z, "
            "with a 6-digit region code in positions 3 to 8."
        )
    if code[17] != uscc_check_character(code[:17]):
        return _("The check character of this Unified Social Credit Code is wrong; please check for a typo.")
    return None


def luhn_ok(digits):
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def registration_number_problem(country, number):
    """Why `number` is not a plausible registration number in `country`, or None."""
    country = (country or "").upper()
    number = normalise(number)
    if not number:
        return _("Enter the registration number.")
    if country == "CN":
        return uscc_problem(number)
    if country in _FORMATS:
        pattern, shape = _FORMATS[country]
        if not pattern.match(number):
            return _(
                "This does not look like a registration number for %(country)s: expected %(shape)s.",
                country=country,
                shape=shape,
            )
        if country == "FR" and not luhn_ok(number):
            return _("This SIREN fails its check digit; please check for a typo.")
        return None
    if not _GENERIC.match(number):
        return _("A registration number has 4 to 40 letters, digits, spaces, dots, dashes or slashes.")
    return None
