"""Locale and time-zone choice, and the template filters that format for them."""

from datetime import date, datetime, timezone
from functools import lru_cache
from urllib.parse import unquote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime as babel_format_datetime, format_skeleton, format_time
from babel.numbers import format_compact_currency, format_decimal, format_percent
from flask import current_app, g, has_request_context, request, session
from flask_babel import format_datetime, get_locale, get_timezone, get_translations
from flask_login import current_user

from ..domain.moments import DATE_ONLY, datetime_pattern, format_moment
from ..domain.money import format_money, to_major


def select_locale():
    """The request's language: ?lang=, then the switch in the page (session), then the account's
    choice, then the browser's Accept-Language. Outside a request (CLI, jobs): the default."""
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    chosen = request.args.get("lang") or session.get("lang")
    account = current_user.locale if getattr(current_user, "is_authenticated", False) else None
    return locale_for(chosen, account, request.accept_languages, current_app.config)


def locale_for(chosen, account_locale, accept_languages, config):
    """`select_locale` from its inputs (also for a request Flask has not seen: page_cache.Front)."""
    languages = config["LANGUAGES"]
    if chosen in languages:
        return chosen
    if account_locale in languages:
        return account_locale
    return accept_languages.best_match(languages) or config["BABEL_DEFAULT_LOCALE"]


def regional_locale(language, accept_languages):
    """The locale dates and numbers are written in: the page's `language`, with the region the
    reader's browser asks for in it ("en-GB" -> "en_GB": 7 Dec 2026, not Dec 7, 2026), when
    Babel knows that locale; else the language itself."""
    for value, _quality in accept_languages or ():
        tag = value.replace("-", "_")
        if tag.split("_", 1)[0].lower() != language or "_" not in tag:
            continue
        name = _known_regional(tag)
        if name:
            return name
    return language


@lru_cache(maxsize=256)
def _known_regional(tag):
    try:
        return str(Locale.parse(tag))
    except (ValueError, UnknownLocaleError):
        return None


def valid_timezone(name):
    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False


def select_timezone():
    if not has_request_context():
        return "UTC"
    account = current_user.timezone if getattr(current_user, "is_authenticated", False) else None
    return zone_for(account, request.cookies.get("tz"))


def zone_for(account_zone, cookie):
    """The account's zone, else the one the browser reports in a cookie (set by static/js/app.js,
    URL-encoded: "Asia%2FShanghai"), else UTC."""
    for name in (account_zone, unquote(cookie or "")):
        if name and valid_timezone(name):
            return name
    return "UTC"


def _language():
    return str(get_locale() or "en")


def _locale():
    """The locale of this request's dates and numbers (see `regional_locale`), looked up once."""
    language = _language()
    if not has_request_context():
        return language
    cached = g.get("_format_locale")
    if cached is None or cached[0] != language:
        cached = (language, regional_locale(language, request.accept_languages))
        g._format_locale = cached
    return cached[1]


def money_filter(minor, currency):
    return format_money(minor, currency, locale=_locale())


# Dates and times as the reader's locale writes them, to the minute (no seconds): "Dec 7, 2026,
# 3:00 PM" (en_US), "7 Dec 2026, 15:00" (en_GB), "2026年12月7日 15:00" (zh); `short`: "12/7/26" style.
def datetime_filter(value, fmt="medium"):
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    if fmt not in ("short", "medium", "long", DATE_ONLY):
        return format_datetime(value, fmt)
    return format_moment(value, fmt, get_timezone() or ZoneInfo("UTC"), _locale())


def date_filter(value):
    """A day with its year in the viewer's zone: "Dec 7, 2026", "7 Dec 2026", "2026年12月7日"."""
    return datetime_filter(value, DATE_ONLY)


def zoned_datetime_filter(value):
    """An exact moment in the viewer's zone, with the zone named: "Jun 1, 2026, 3:00:00 PM China Standard Time"."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    zone = get_timezone() or ZoneInfo("UTC")
    when = format_moment(value, "medium", zone, _locale())
    name = babel_format_datetime(value, "zzzz", tzinfo=zone, locale=_locale())
    return f"{when} ({name})" if _language() != "zh" else f"{when}（{name}）"


def money_compact_filter(minor, currency):
    """A short amount for chart axes: "$12K", "US$1.2万"."""
    return format_compact_currency(to_major(minor or 0, currency), currency, locale=_locale(), fraction_digits=1)


def day_filter(value):
    """A day in the viewer's zone without the year: "Jun 1", "6月1日"."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return format_skeleton("MMMd", value.astimezone(get_timezone() or ZoneInfo("UTC")), locale=_locale())


def day_time_filter(value):
    """A day and time in the viewer's zone, for the axis of a short campaign: "Dec 7, 3:00 PM",
    "7 Dec, 15:00", "12月7日 15:00"."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    local = value.astimezone(get_timezone() or ZoneInfo("UTC"))
    pattern = datetime_pattern(_locale(), "medium")
    day = format_skeleton("MMMd", local, locale=_locale())
    return pattern.replace("'", "").replace("{0}", format_time(local, "short", locale=_locale())).replace("{1}", day)


def number_filter(value):
    """A whole number with the locale's grouping: 12,500."""
    if value is None:
        return ""
    return format_decimal(value, locale=_locale())


def percent_filter(value):
    """`value` is a whole percentage (42 -> "42%")."""
    return format_percent((value or 0) / 100, locale=_locale())


def month_filter(value):
    """A "YYYY-MM" month (a reward's estimated delivery) for the locale: "Sep 2026", "2026年9月"."""
    if not value:
        return ""
    try:
        year, month = (int(part) for part in str(value).split("-", 1))
        return format_skeleton("yMMM", date(year, month, 1), locale=_locale())
    except (ValueError, TypeError):
        return str(value)


def iso_filter(value):
    """Machine-readable time for <time datetime="...">."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return ""


def _catalogue():
    """The catalogue for the locale in effect, looked up once per request and locale.

    flask-babel's template callables look it up again for every string (the locale, the
    domain, the cache key): a tenth of rendering a campaign page. `force_locale` and
    `refresh` set a new locale object, which is looked up afresh."""
    if not g:  # no app context: flask-babel's own answer
        return get_translations()
    state = g.get("_flask_babel")
    cached = getattr(state, "crowdfund_catalogue", None)
    if cached is not None and cached[0] is getattr(state, "babel_locale", None):
        return cached[1]
    catalogue = get_translations()  # also makes g._flask_babel and sets its locale
    g._flask_babel.crowdfund_catalogue = (g._flask_babel.babel_locale, catalogue)
    return catalogue


def init_app(app):
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _catalogue().ugettext(s),
        ngettext=lambda s, p, n: _catalogue().ungettext(s, p, n),
        pgettext=lambda c, s: _catalogue().upgettext(c, s),
        npgettext=lambda c, s, p, n: _catalogue().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.add_template_filter(money_filter, "money")
    app.add_template_filter(datetime_filter, "datetime")
    app.add_template_filter(date_filter, "date")
    app.add_template_filter(zoned_datetime_filter, "zoned")
    app.add_template_filter(number_filter, "number")
    app.add_template_filter(money_compact_filter, "money_compact")
    app.add_template_filter(day_filter, "day")
    app.add_template_filter(day_time_filter, "day_time")
    app.add_template_filter(percent_filter, "percent")
    app.add_template_filter(month_filter, "month")
    app.add_template_filter(iso_filter, "iso")

    @app.context_processor
    def inject_locale():
        return {"current_locale": _language()}
