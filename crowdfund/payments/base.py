"""The payment gateway interface. Gateways never touch our own database session."""
from abc import ABC, abstractmethod
from dataclasses import dataclass, field


class GatewayError(Exception):
    """The processor could not do what was asked, and retrying will not help."""

    transient = False

    def __init__(self, message, *, code=None):
        super().__init__(message)
        self.code = code


class TransientGatewayError(GatewayError):
    """A timeout, a 5xx, a lost connection: safe to retry with the same idempotency key."""

    transient = True


@dataclass(frozen=True)
class ChargeResult:
    ok: bool
    ref: str | None = None  # the processor's charge / PaymentIntent id
    decline_code: str | None = None  # card_declined, insufficient_funds, authentication_required ...
    message: str | None = None
    requires_action: bool = False  # 3-D Secure: the browser must finish the payment
    client_secret: str | None = None


@dataclass(frozen=True)
class MoneyMovement:
    ref: str  # refund id, payout / transfer id
    amount: int
    currency: str


@dataclass(frozen=True)
class RefundRequest:
    charge_ref: str
    amount: int
    currency: str
    idempotency_key: str


@dataclass(frozen=True)
class WebhookEventData:
    id: str
    type: str
    data: dict = field(default_factory=dict)


class PaymentGateway(ABC):
    name = "abstract"

    @abstractmethod
    def charge(self, *, amount, currency, payment_method, idempotency_key, transfer_group,
               description="", metadata=None) -> ChargeResult:
        """Charge the backer now. A decline is a ChargeResult(ok=False), not an exception."""

    @abstractmethod
    def refund(self, *, charge_ref, amount, currency, idempotency_key) -> MoneyMovement:
        """Return money of a charge to the backer."""

    @abstractmethod
    def payout(self, *, amount, currency, destination, idempotency_key, transfer_group) -> MoneyMovement:
        """Pay released money to the firm's account."""

    @abstractmethod
    def parse_webhook(self, payload: bytes, headers) -> WebhookEventData:
        """Verify and parse a webhook from the processor; raise GatewayError if not genuine."""

    def refund_many(self, requests):
        """Refund a batch; returns a MoneyMovement or the exception, per request, in order."""
        results = []
        for request in requests:
            try:
                results.append(self.refund(charge_ref=request.charge_ref, amount=request.amount,
                                           currency=request.currency, idempotency_key=request.idempotency_key))
            except GatewayError as error:
                results.append(error)
        return results
