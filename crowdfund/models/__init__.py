"""All models, imported here so metadata and Alembic see every table."""
from .base import UTCDateTime, utcnow  # noqa: F401
from .firm import Firm, FirmMember  # noqa: F401
from .user import ApiToken, User  # noqa: F401
