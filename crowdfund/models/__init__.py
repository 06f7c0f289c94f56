"""All models, imported here so metadata and Alembic see every table."""

from .audit import StateChange
from .backing import PledgeChange, PledgeChangeStatus, RewardAddOn
from .base import UTCDateTime, utcnow  # utcnow's home: crowdfund/domain/clock.py
from .conversation import Comment, CommentReport, MailOptOut
from .delivery import DeliveryPayout, DeliveryStatus, PledgeDelivery, ReleaseModel, Shipment
from .dispute import Dispute, DisputeStatus
from .firm import Firm, FirmChangeRequest, FirmEdit, FirmMember, PayoutAccount
from .firm_people import FirmPerson
from .fx_rate import FxRate
from .investor_checks import InvestorAssessment, InvestorQualification
from .ledger import LedgerAccount, LedgerTransfer
from .material_change import MaterialChange
from .outbox import OutboxMessage
from .payment import SandboxAccount, SandboxOperation, SandboxWebhookEvent, WebhookEvent
from .pledge import InvestorProfile, Pledge, PledgeStatus, ShareHolding
from .project import (
    EquityOffering,
    Project,
    ProjectDocument,
    ProjectEdit,
    ProjectKind,
    ProjectStatus,
    ProjectUpdate,
    Review,
    RewardTier,
)
from .reminders import CampaignReminder, GoalNotice
from .settlement import Settlement, SettlementStatus
from .story_media import StoryImage
from .stretch_goal import FundingModel, StretchGoal
from .two_factor import RecoveryCode, UserTwoFactor
from .user import ApiToken, User, UserSession
