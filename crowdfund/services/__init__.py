"""Use cases. Each one runs inside a savepoint (`use_case`): it either finishes
or raises a DomainError having changed nothing. Services flush, never commit;
the request (or CLI command, or job) commits once, in one place.
"""

from functools import wraps

from ..extensions import db


def use_case(fn):
    @wraps(fn)
    def wrapper(*args, **kwargs):
        with db.session.begin_nested():
            return fn(*args, **kwargs)

    return wrapper
