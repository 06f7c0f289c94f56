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


# What a connected account can be, as `account_status` reports it.
ACCOUNT_PENDING = "pending"        # onboarding not finished: no payout yet
ACCOUNT_VERIFIED = "verified"      # the processor will pay out to it
ACCOUNT_RESTRICTED = "restricted"  # the processor will not, until its holder acts
ACCOUNT_STATUSES = (ACCOUNT_PENDING, ACCOUNT_VERIFIED, ACCOUNT_RESTRICTED)


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
    # What the processor keeps of a successful payment (minor units), when it says so; it
    # does not give it back on a refund (Stripe's fee on a card charge).
    fee: int | None = None

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
class ProcessorRecord:
    """One money movement in the processor's own books, for reconciliation.

    `kind`: charge (a payment taken: `amount`, and the `fee` the processor kept), refund
    (`source` is the charge's ref) or payout (money sent on to a firm). Amounts are
    positive minor units; `currency` upper case."""

    kind: str
    ref: str
    amount: int
    currency: str
    fee: int = 0
    source: str | None = None


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

    # -- connected accounts: where a firm is paid (Stripe Connect; the sandbox's own) -------
    @abstractmethod
    def create_account(self, *, firm_id, country, email, idempotency_key) -> str:
        """Open a connected account for the firm `firm_id` (an ISO country code, the contact
        `email`) and return its ref (acct_...). The same key again returns the same account.
        It starts `pending` until its holder finishes the processor's onboarding."""

    @abstractmethod
    def onboarding_link(self, ref, *, return_url, refresh_url) -> str:
        """A URL of the processor's own onboarding pages for the account `ref`, where the
        firm's people give the processor what it needs. The processor sends their browser to
        `return_url` when they leave it, or to `refresh_url` when the link has expired."""

    @abstractmethod
    def account_status(self, ref) -> str:
        """What the processor says of the account `ref` now: ACCOUNT_VERIFIED (it can receive
        payouts), ACCOUNT_RESTRICTED (it cannot until its holder does something) or
        ACCOUNT_PENDING (onboarding not finished)."""

    @abstractmethod
    def parse_webhook(self, payload: bytes, headers) -> WebhookEventData:
        """Verify and parse a webhook from the processor; raise GatewayError if not genuine."""

    def find_charge(self, idempotency_key) -> "ChargeResult | None":
        """The payment made under `idempotency_key`, as `retrieve` answers it, or None when the
        processor has none. For a charge call that never answered, once the processor has
        forgotten the key (Stripe: after 24 hours), so a retry cannot replay it."""
        raise GatewayError(f"{self.name} cannot look payments up by key.", code="not_supported")

    def activity(self, *, since=None, until=None) -> "list[ProcessorRecord]":
        """Every charge, refund and payout in the processor's own books (between `since` and
        `until`, datetimes in UTC, when given): what `flask ledger reconcile` compares our
        ledger against."""
        raise GatewayError(f"{self.name} cannot list its activity.", code="not_supported")

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
