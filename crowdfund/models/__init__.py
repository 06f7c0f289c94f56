"""All models, imported here so metadata and Alembic see every table."""
from .audit import StateChange  # noqa: F401
from .base import UTCDateTime, utcnow  # noqa: F401
from .dispute import Dispute, DisputeStatus  # noqa: F401
from .firm import Firm, FirmChangeRequest, FirmEdit, FirmMember, PayoutAccount  # noqa: F401
from .ledger import LedgerAccount, LedgerTransfer  # noqa: F401
from .payment import SandboxAccount, SandboxOperation, SandboxWebhookEvent, WebhookEvent  # noqa: F401
from .pledge import InvestorProfile, Pledge, PledgeStatus, ShareHolding  # noqa: F401
from .project import (EquityOffering, Project, ProjectDocument, ProjectEdit, ProjectKind,  # noqa: F401
                      ProjectStatus, ProjectUpdate, Review, RewardTier)
from .settlement import OutboxMessage, Settlement  # noqa: F401
from .two_factor import RecoveryCode, UserTwoFactor  # noqa: F401
from .user import ApiToken, User, UserSession  # noqa: F401
