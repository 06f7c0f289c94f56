"""Locale and time-zone choice, and the template filters that format for them."""
from datetime import timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import current_app, request, session
from flask_babel import format_datetime, get_locale
from flask_login import current_user

from ..domain.money import format_money


def select_locale():
    languages = current_app.config["LANGUAGES"]
    chosen = request.args.get("lang") or session.get("lang")
    if chosen in languages:
        return chosen
    if getattr(current_user, "is_authenticated", False) and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def valid_timezone(name):
    try:
        ZoneInfo(name)
        return True
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return False


def select_timezone():
    # The browser reports its zone in a cookie (set by static/js/app.js).
    for name in (getattr(current_user, "timezone", None) if getattr(current_user, "is_authenticated", False) else None,
                 request.cookies.get("tz")):
        if name and valid_timezone(name):
            return name
    return "UTC"


def money_filter(minor, currency):
    return format_money(minor, currency, locale=str(get_locale() or "en"))


def datetime_filter(value, fmt="medium"):
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return format_datetime(value, fmt)


def init_app(app):
    app.add_template_filter(money_filter, "money")
    app.add_template_filter(datetime_filter, "datetime")

    @app.context_processor
    def inject_locale():
        return {"current_locale": str(get_locale() or "en")}
