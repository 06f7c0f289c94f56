"""The viewer's time zone, for reading and showing times typed in local time."""

from zoneinfo import ZoneInfo

from flask_babel import get_timezone


def viewer_zone():
    """The viewer's zone (flask_babel's choice: their account, else the browser's cookie, else UTC)."""
    return ZoneInfo(str(get_timezone() or "UTC"))
