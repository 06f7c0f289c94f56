"""Reading the numbers people type: digits 0-9 only, written as the page's language writes them.

The separators come from CLDR through Babel: in English and Chinese "1,250.50", a comma only
between groups of three digits; in German "1.250,50". Anything else (an exponent, full-width
or Arabic-Indic digits, "1_000", "12,50" in English, a misplaced group separator) is not a
number here, so nothing is ever read as a different amount than the one a person meant.
"""

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.numbers import get_decimal_symbol, get_group_symbol

# Past any maximum a caller has: a longer run of digits is not converted at all.
MAX_DIGITS = 30
BEYOND_ANY_MAXIMUM = 10**MAX_DIGITS


@dataclass(frozen=True)
class Syntax:
    decimal: str
    group: str
    primary: int  # digits in the last group ("1,250": 3)
    secondary: int  # digits in the groups before it (3, or 2 in Indian grouping: "1,25,000")
    regex: re.Pattern


@lru_cache(maxsize=32)
def syntax(locale):
    try:
        parsed = Locale.parse(str(locale).replace("-", "_"))
    except (UnknownLocaleError, ValueError, TypeError):
        parsed = Locale.parse("en")
    decimal, group = get_decimal_symbol(parsed), get_group_symbol(parsed)
    primary, secondary = parsed.decimal_formats[None].grouping
    # A space-like group separator (French: a narrow no-break space) is typed as a plain space.
    groups = [group] + ([" ", "\u00a0", "\u202f"] if unicodedata.category(group) == "Zs" else [])
    g = "(?:" + "|".join(re.escape(s) for s in groups) + ")"
    whole = rf"[0-9]+|[0-9]{{1,{secondary}}}(?:{g}[0-9]{{{secondary}}})*{g}[0-9]{{{primary}}}"
    regex = re.compile(rf"(?P<sign>-?)(?P<whole>{whole})(?:{re.escape(decimal)}(?P<fraction>[0-9]+))?")
    return Syntax(decimal, group, primary, secondary, regex)


@dataclass(frozen=True)
class Reading:
    negative: bool
    whole: str  # the digits before the decimal separator
    fraction: str  # the digits after it ("" without one)

    @property
    def decimal(self):
        return Decimal(("-" if self.negative else "") + self.whole + ("." + self.fraction if self.fraction else ""))


def read(text, locale):
    """`text` as a number written in `locale`, or None when it is not one."""
    match = syntax(locale).regex.fullmatch(str(text).strip())
    if match is None:
        return None
    whole = re.sub(r"[^0-9]", "", match["whole"])
    return Reading(match["sign"] == "-", whole, match["fraction"] or "")


def read_whole(text, locale):
    """The whole number written in `text` (digits, with the language's group separators in
    their places), or None. A number too long to be meant is BEYOND_ANY_MAXIMUM."""
    reading = read(text, locale)
    if reading is None or reading.fraction:
        return None
    digits = reading.whole.lstrip("0") or "0"
    value = int(digits) if len(digits) <= MAX_DIGITS else BEYOND_ANY_MAXIMUM
    return -value if reading.negative else value


def example(locale, places):
    """1250.50 written as `locale` writes it, with `places` decimals: "1,250.50", "1,250"."""
    s = syntax(locale)
    text = "1" + s.group + "250"
    return text + (s.decimal + ("5" + "0" * (places - 1)) if places else "")


def whole_example(locale):
    """1250 written as `locale` writes it: "1,250"."""
    return "1" + syntax(locale).group + "250"
