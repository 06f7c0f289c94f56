"""The payment gateway interface. Gateways never touch our own database session."""

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime


class GatewayError(Exception):
    """The processor could not do what was asked, and retrying will not help."""

    transient = False

    def __init__(self, message, *, code=None):
        super().__init__(message)
        self.code = code


class TransientGatewayError(GatewayError):
    """A timeout, a 5xx, a lost connection: safe to retry with the same idempotency key."""

    transient = True


# A payout's error code (both gateways, Stripe's word) when the processor's available balance
# cannot cover it yet, e.g. card funds still pending: a reason to wait, not a failure.
BALANCE_INSUFFICIENT = "balance_insufficient"


# What a payment can be, as the processor reports it (Stripe's PaymentIntent statuses, folded).
SUCCEEDED = "succeeded"  # the money is taken
REQUIRES_ACTION = "requires_action"  # the backer must authenticate or pay in a wallet; comes back later
PROCESSING = "processing"  # taken by the processor, outcome not known yet: look again later
DECLINED = "declined"  # refused, cancelled or abandoned: final, nothing was taken


# What a connected account can be, as `account_status` reports it.
ACCOUNT_PENDING = "pending"  # onboarding not finished: no payout yet
ACCOUNT_VERIFIED = "verified"  # the processor will pay out to it
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
    (`source` is the charge's ref), refund_failure (a refund that failed came back to our
    balance; `source` is the charge's ref) or payout (money sent on to a firm); for disputes,
    dispute (`ref` the dispute, `source` the charge: `amount` withdrawn from our balance and
    the dispute `fee`), dispute_won (the same `ref`: `amount` and any `fee` given back) and
    payout_reversal (money taken back from a firm's account; `source` is the payout's ref).
    Amounts are positive minor units; `currency` upper case."""

    kind: str
    ref: str
    amount: int
    currency: str
    fee: int = 0
    source: str | None = None


@dataclass(frozen=True)
class RefundResult:
    """The processor's current answer about one refund (`retrieve_refund`).

    `status`: succeeded, pending, failed or canceled (Stripe's words); a failed or canceled
    refund's money is back in our balance. `key` is the idempotency key it was made with
    (Stripe: our `crowdfund_key` metadata), which names the pledge and the attempt."""

    ref: str
    status: str
    amount: int
    currency: str
    charge_ref: str | None = None
    key: str | None = None
    failure_reason: str | None = None

    @property
    def failed(self):
        return self.status in ("failed", "canceled")


@dataclass(frozen=True)
class DisputeInfo:
    """The processor's current answer about a dispute (a chargeback) of one of our charges.

    `status` in our words: needs_response | under_review | won | lost. `amount` is what the
    backer disputes; `funds_withdrawn` what the processor took from our balance for it (0 for
    an inquiry that never took money) and `funds_reinstated` what it gave back of that (a
    dispute won): both, not only what it holds now, so an answer seen only once it was won
    still says the money went and came back. `fee` is what the processor charges us for it
    now (minor units, the dispute's currency). `charge_ref` is our payment's ref (Stripe: the
    PaymentIntent), `pledge_id` the pledge its metadata names, when it names one.
    `evidence_url`: where to answer it."""

    ref: str
    charge_ref: str | None
    amount: int
    currency: str  # upper case
    reason: str
    status: str
    evidence_due_by: datetime | None = None
    fee: int = 0
    funds_withdrawn: int = 0
    funds_reinstated: int = 0
    evidence_url: str | None = None
    pledge_id: int | None = None


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
    def charge(
        self,
        *,
        amount,
        currency,
        payment_method,
        idempotency_key,
        transfer_group,
        description="",
        metadata=None,
        return_url=None,
    ) -> ChargeResult:
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

    def retrieve_refund(self, ref) -> RefundResult:
        """The processor's current answer about the refund `ref` (a refund can fail days after
        it was accepted: the backer's bank refused it)."""
        raise GatewayError(f"{self.name} cannot look refunds up.", code="not_supported")

    def activity(self, *, since=None, until=None) -> "list[ProcessorRecord]":
        """Every charge, refund and payout in the processor's own books (between `since` and
        `until`, datetimes in UTC, when given): what `flask ledger reconcile` compares our
        ledger against."""
        raise GatewayError(f"{self.name} cannot list its activity.", code="not_supported")

    def retrieve_dispute(self, ref) -> DisputeInfo:
        """The dispute `ref` as the processor has it now (its webhooks only say "look again")."""
        raise GatewayError(f"{self.name} cannot show disputes.", code="not_supported")

    def reverse_payout(self, payout_ref, *, amount, idempotency_key) -> MoneyMovement:
        """Take `amount` of the payout `payout_ref` back from the firm's connected account
        (a chargeback after the firm was paid). The same key again returns the first reversal."""
        raise GatewayError(f"{self.name} cannot reverse payouts.", code="not_supported")

    def refund_many(self, requests) -> "list[MoneyMovement | GatewayError]":
        """Refund a batch; returns a MoneyMovement or the exception, per request, in order."""
        results: list[MoneyMovement | GatewayError] = []
        for request in requests:
            try:
                results.append(
                    self.refund(
                        charge_ref=request.charge_ref,
                        amount=request.amount,
                        currency=request.currency,
                        idempotency_key=request.idempotency_key,
                    )
                )
            except GatewayError as error:
                results.append(error)
        return results
