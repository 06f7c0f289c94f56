"""Failed sign-ins counted per account, in the rate limiter's own store.

Flask-Limiter's per-address limit (`RATELIMIT_LOGIN`) slows one client down; an attacker with
many addresses is slowed by counting failures per account as well: wrong passwords
(`RATELIMIT_LOGIN_ACCOUNT`) and wrong two-factor codes (`RATELIMIT_TWO_FACTOR`). The web login
and the API's token request count against the same budget. A spent budget refuses even the
right password until its window ends, and is checked before the password is, so a locked
account costs no password hash and tells nothing.

An address is counted by a digest of its normalised form, whether or not an account has it:
the answer for an unknown address is the same, and the store holds no addresses.

The counts live where Flask-Limiter keeps its own (`limiter.limiter`: Redis in production),
so they hold across processes. When that store cannot be reached, an in-process store stands
in for a while (and it is logged), as Flask-Limiter does for its routes with
`RATELIMIT_IN_MEMORY_FALLBACK_ENABLED`: sign-in keeps working, limited per process.
"""

import hashlib
import logging
import math
import time

from flask import current_app
from flask_babel import ngettext
from limits import parse_many
from limits.storage import MemoryStorage
from limits.strategies import STRATEGIES

from ..errors import DomainError, ValidationError
from ..extensions import limiter
from . import accounts

log = logging.getLogger(__name__)

# After the shared store failed, how long to count in-process before asking it again.
STORE_RETRY_SECONDS = 30


class TooManyAttempts(DomainError):
    code = "rate_limited"
    status = 429


class _Fallback:
    """This process's stand-in store, and until when (time.monotonic()) it is used; and whether
    Flask-Limiter was last seen on its own (its warning goes to a logger with no handler)."""

    strategy = None
    until = 0.0
    flask_limiter_fell_back = False


def _enabled():
    return current_app.config.get("RATELIMIT_ENABLED", True)


def _strategy():
    if time.monotonic() < _Fallback.until:
        return _Fallback.strategy
    strategy = limiter.limiter  # Flask-Limiter's own choice: the shared store, or its in-memory stand-in
    fell_back = strategy.storage is not limiter.storage
    if fell_back != _Fallback.flask_limiter_fell_back:
        _Fallback.flask_limiter_fell_back = fell_back
        if fell_back:
            log.warning(
                "Rate limit storage unreachable: sign-in limits are counted in this process until it answers again"
            )
        else:
            log.warning("Rate limit storage answers again: sign-in limits are shared again")
    return strategy


def _call(method, item, *identifiers):
    strategy = _strategy()
    try:
        return getattr(strategy, method)(item, *identifiers)
    except Exception as error:  # whatever the store's client raises when it cannot be reached
        if strategy is _Fallback.strategy or not current_app.config.get("RATELIMIT_IN_MEMORY_FALLBACK_ENABLED"):
            raise
        log.warning(
            "Rate limit storage unreachable (%s): counting failed sign-ins in this process for %d s",
            error.__class__.__name__,
            STORE_RETRY_SECONDS,
        )
        if _Fallback.strategy is None:
            name = current_app.config.get("RATELIMIT_STRATEGY", "fixed-window")
            _Fallback.strategy = STRATEGIES[name](MemoryStorage())
        _Fallback.until = time.monotonic() + STORE_RETRY_SECONDS
        return getattr(_Fallback.strategy, method)(item, *identifiers)


def _items(config_key):
    return parse_many(current_app.config[config_key])


def _seconds_left(items, scope, key):
    """Seconds until every spent limit of `items` allows another attempt."""
    reset = max(_call("get_window_stats", item, scope, key).reset_time for item in items)
    return max(1, math.ceil(reset - time.time()))


def _refuse_when_spent(config_key, scope, key, message):
    if not _enabled():
        return
    items = _items(config_key)
    spent = [item for item in items if not _call("test", item, scope, key)]
    if spent:
        minutes = math.ceil(_seconds_left(spent, scope, key) / 60)
        raise TooManyAttempts(message(minutes))


def _count_failure(config_key, scope, key):
    if _enabled():
        for item in _items(config_key):
            _call("hit", item, scope, key)


def _forget(config_key, scope, key):
    if _enabled():
        for item in _items(config_key):
            _call("clear", item, scope, key)


def account_key(email):
    try:
        email = accounts.normalise_email(email)
    except ValidationError:
        email = (email or "").strip().lower()
    return hashlib.sha256(email.encode("utf-8", "surrogatepass")).hexdigest()


def _locked_message(minutes):
    return ngettext(
        "Too many failed sign-ins for this account. Try again in %(num)d minute.",
        "Too many failed sign-ins for this account. Try again in %(num)d minutes.",
        minutes,
    )


def authenticate(email, password):
    """`accounts.authenticate`, refused with TooManyAttempts while the address's budget of
    failed sign-ins is spent; a failure here spends one."""
    key = account_key(email)
    _refuse_when_spent("RATELIMIT_LOGIN_ACCOUNT", "sign-in-account", key, _locked_message)
    user = accounts.authenticate(email, password)
    if user is None:
        _count_failure("RATELIMIT_LOGIN_ACCOUNT", "sign-in-account", key)
    return user


def signed_in(email):
    """The whole sign-in succeeded: earlier slips of this account's owner are forgiven."""
    _forget("RATELIMIT_LOGIN_ACCOUNT", "sign-in-account", account_key(email))


def _codes_message(minutes):
    return ngettext(
        "Too many wrong codes. Try again in %(num)d minute.",
        "Too many wrong codes. Try again in %(num)d minutes.",
        minutes,
    )


def check_code_attempts(user_id):
    """Refuse (TooManyAttempts) while the user's budget of wrong two-factor codes is spent."""
    _refuse_when_spent("RATELIMIT_TWO_FACTOR", "two-factor", str(user_id), _codes_message)


def code_failed(user_id):
    _count_failure("RATELIMIT_TWO_FACTOR", "two-factor", str(user_id))


def code_accepted(user_id):
    _forget("RATELIMIT_TWO_FACTOR", "two-factor", str(user_id))


# --- other per-account budgets (comments: services/comments.py), counted the same way ---------


def refuse_when_spent(config_key, scope, key, message):
    """Raise TooManyAttempts with `message(minutes)` while `key`'s budget `config_key` is spent."""
    _refuse_when_spent(config_key, scope, key, message)


def spend(config_key, scope, key):
    """Count one use of `key`'s budget `config_key`."""
    _count_failure(config_key, scope, key)
