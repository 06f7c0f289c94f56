"""The platform's clock: every time it records or compares is an aware UTC datetime."""

from datetime import datetime, timezone


def utcnow():
    return datetime.now(timezone.utc)
