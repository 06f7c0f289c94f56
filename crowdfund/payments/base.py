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


# What a payment can be, as the processor reports it (Stripe's PaymentIntent statuses, folded).
SUCCEEDED = "succeeded"              # the money is taken
REQUIRES_ACTION = "requires_action"  # the backer must authenticate or pay in a wallet; comes back later
PROCESSING = "processing"            # taken by the processor, outcome not known yet: look again later
DECLINED = "declined"                # refused, cancelled or abandoned: final, nothing was taken


@dataclass(frozen=True)
class NextAction:
    """What the backer must do before a payment can succeed.

    `type` is Stripe's word: `redirect_to_url` (3-D Secure, Alipay) or
    `wechat_pay_display_qr_code`; `url` is the page the backer is sent to (for WeChat Pay,
    a page showing the QR code)."""

    type: str
    url: str | None = None


@dataclass(frozen=True)
class ChargeResult:
    """The processor's answer about one payment: to `charge`, `retrieve` or `cancel`.

    `ref` (the processor's charge / PaymentIntent id) is kept on every answer that has one,
    final or not: it is what `retrieve` and `cancel` take later."""

    ok: bool
    ref: str | None = None  # the processor's charge / PaymentIntent id
    decline_code: str | None = None  # card_declined, insufficient_funds, authentication_failed ...
    message: str | None = None
    requires_action: bool = False  # the backer must authenticate or pay in a wallet first
    client_secret: str | None = None  # Stripe: for Stripe.js / a mobile SDK to finish the payment
    next_action: NextAction | None = None
    amount: int | None = None  # as the processor recorded it (None when it did not say)
    currency: str | None = None  # upper case
    processing: bool = False  # neither taken nor refused yet: look again later

    @property
    def status(self):
        if self.ok:
            return SUCCEEDED
        if self.requires_action:
            return REQUIRES_ACTION
        if self.processing:
            return PROCESSING
        return DECLINED

    @property
    def final(self):
        """True when the payment can no longer change (succeeded, or declined for good)."""
        return self.status in (SUCCEEDED, DECLINED)


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
               description="", metadata=None, return_url=None) -> ChargeResult:
        """Charge the backer now. A decline is a ChargeResult(ok=False), not an exception.

        When the backer must act first (3-D Secure, a wallet), the result has
        `requires_action` and a `next_action`; once done, the processor sends the backer's
        browser to `return_url` and sends a webhook. The outcome is then `retrieve(ref)`."""

    @abstractmethod
    def retrieve(self, ref) -> ChargeResult:
        """The processor's current answer about the payment `ref` (never a new charge)."""

    @abstractmethod
    def cancel(self, ref, *, idempotency_key) -> ChargeResult:
        """Abandon a payment that has not succeeded. Returns what became of it: a payment
        that succeeded meanwhile cannot be cancelled and comes back `ok` (refund it instead)."""

    @abstractmethod
    def refund(self, *, charge_ref, amount, currency, idempotency_key) -> MoneyMovement:
        """Return money of a charge to the backer."""

    @abstractmethod
    def payout(self, *, amount, currency, destination, idempotency_key, transfer_group) -> MoneyMovement:
        """Pay released money to the firm's account."""

    @abstractmethod
    def parse_webhook(self, payload: bytes, headers) -> WebhookEventData:
        """Verify and parse a webhook from the processor; raise GatewayError if not genuine."""

    def find_charge(self, idempotency_key) -> "ChargeResult | None":
        """The payment made under `idempotency_key`, as `retrieve` answers it, or None when the
        processor has none. For a charge call that never answered, once the processor has
        forgotten the key (Stripe: after 24 hours), so a retry cannot replay it."""
        raise GatewayError(f"{self.name} cannot look payments up by key.", code="not_supported")

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
