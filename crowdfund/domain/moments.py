"""Moments as a reader's locale writes them, to the minute: "Dec 7, 2026, 3:00 PM" (en_US),
"7 Dec 2026, 15:00" (en_GB), "2026年12月7日 15:00" (zh). Seconds mean nothing to a person
reading a deadline, so no format here carries them."""

from datetime import tzinfo
from functools import lru_cache

from babel import Locale
from babel.dates import format_date, format_time

DATE_ONLY = "date"


@lru_cache(maxsize=64)
def datetime_pattern(locale: str, fmt: str) -> str:
    """How the locale joins a date and a time ("{1}, {0}", "{1} {0}")."""
    return str(Locale.parse(locale).datetime_formats[fmt])


def format_moment(value, fmt: str, zone: tzinfo, locale: str) -> str:
    """`value` (aware) in `zone`: the locale's `fmt` date ("short", "medium", "long") joined,
    as the locale joins them, with its short time; DATE_ONLY: the medium date alone."""
    local = value.astimezone(zone)
    if fmt == DATE_ONLY:
        return format_date(local, "medium", locale=locale)
    time = format_time(local, "short", locale=locale)
    joined = datetime_pattern(locale, fmt).replace("'", "")
    return joined.replace("{0}", time).replace("{1}", format_date(local, fmt, locale=locale))
