"""Disputes (chargebacks) and transfer reversals for StripeGateway.

- retrieve_dispute: the Dispute as Stripe has it now (`disputes.retrieve`), its
  PaymentIntent expanded for our `pledge_id` metadata. What Stripe holds back from our
  balance for it, and its dispute fee, are read from the dispute's own balance transactions
  (the withdrawal, and the reinstatement once won); an inquiry (`warning_*`) has none.
- reverse_payout: a reversal of the Transfer that paid the firm
  (`transfers.create_reversal`), to take a chargeback's money back from its connected account.
- activity_record: the balance transactions of both, for `flask ledger reconcile`.

Every request names the gateway's API version and goes through its StripeClient;
tests/payments/test_stripe_conformance.py checks these parameters too.
"""

import logging
from datetime import datetime, timezone

import stripe
from stripe.params import TransferReversalCreateParams

from .base import DisputeInfo, MoneyMovement, ProcessorRecord

log = logging.getLogger(__name__)

# Stripe's dispute statuses in our four words. An inquiry (warning_*) that closes without a
# chargeback, or a dispute prevented before it began, cost us nothing: as good as won.
STATUSES = {
    "warning_needs_response": "needs_response",
    "needs_response": "needs_response",
    "appeal_needs_response": "needs_response",
    "warning_under_review": "under_review",
    "under_review": "under_review",
    "appeal_under_review": "under_review",
    "won": "won",
    "warning_closed": "won",
    "prevented": "won",
    "lost": "lost",
}
# Without balance transactions to read, the statuses of a chargeback (not an inquiry), whose
# amount Stripe took; a won one's it gave back.
WITHDRAWN_STATUSES = {"needs_response", "under_review", "appeal_needs_response", "appeal_under_review", "lost", "won"}
DASHBOARD = "https://dashboard.stripe.com/{mode}disputes/{ref}"


def dispute_info(dispute):
    """A Dispute (a plain dict, its payment_intent expanded or not) as a DisputeInfo."""
    intent = dispute.get("payment_intent")
    metadata = (intent.get("metadata") or {}) if isinstance(intent, dict) else {}
    charge_ref = intent.get("id") if isinstance(intent, dict) else intent
    currency = (dispute.get("currency") or "").upper()
    status = dispute.get("status") or ""
    withdrawn, reinstated, fee = _money_moved(dispute, currency)
    if withdrawn is None:
        amount = int(dispute.get("amount") or 0)
        withdrawn = amount if status in WITHDRAWN_STATUSES else 0
        reinstated = amount if status == "won" else 0
    due_by = (dispute.get("evidence_details") or {}).get("due_by")
    pledge_id = str(metadata.get("pledge_id") or "")
    return DisputeInfo(
        ref=dispute["id"],
        charge_ref=charge_ref,
        amount=int(dispute.get("amount") or 0),
        currency=currency,
        reason=dispute.get("reason") or "general",
        status=STATUSES.get(status, "under_review"),
        evidence_due_by=datetime.fromtimestamp(due_by, timezone.utc) if due_by else None,
        fee=fee,
        funds_withdrawn=withdrawn,
        funds_reinstated=reinstated,
        pledge_id=int(pledge_id) if pledge_id.isdigit() else None,
        evidence_url=DASHBOARD.format(mode="" if dispute.get("livemode") else "test/", ref=dispute["id"]),
    )


def _money_moved(dispute, currency):
    """(withdrawn, reinstated, dispute fee now) from the dispute's balance transactions;
    (None, None, 0) when it has none to read or they are in another currency than the
    dispute (an account settling in another currency): our ledger cannot book them in the
    pledge's."""
    moves = dispute.get("balance_transactions")
    if moves is None:
        return None, None, 0
    if any((move.get("currency") or "").upper() != currency for move in moves):
        log.warning(
            "Dispute %s: Stripe moved money in another currency than %s; booked by its status",
            dispute.get("id"),
            currency,
        )
        return None, None, 0
    amounts = [int(move.get("amount") or 0) for move in moves]
    return (
        -sum(a for a in amounts if a < 0),
        sum(a for a in amounts if a > 0),
        sum(int(move.get("fee") or 0) for move in moves),
    )


def activity_record(item, source):
    """A balance transaction of a dispute or a transfer reversal as a ProcessorRecord (None
    for anything else). Stripe books a dispute's withdrawal and its reinstatement as
    `adjustment`s whose source is the dispute; a transfer reversal as `transfer_refund`."""
    currency, amount = (item.get("currency") or "").upper(), int(item.get("amount") or 0)
    if item.get("type") == "transfer_refund":
        return ProcessorRecord(
            "payout_reversal", source.get("id"), abs(amount), currency, source=source.get("transfer")
        )
    disputed = source.get("object") == "dispute" or item.get("reporting_category") in ("dispute", "dispute_reversal")
    if item.get("type") != "adjustment" or not disputed:
        return None
    intent = source.get("payment_intent")
    charge_ref = intent.get("id") if isinstance(intent, dict) else intent
    fee = int(item.get("fee") or 0)
    if amount < 0:
        return ProcessorRecord("dispute", source.get("id"), -amount, currency, fee=fee, source=charge_ref)
    return ProcessorRecord("dispute_won", source.get("id"), amount, currency, fee=max(-fee, 0), source=charge_ref)


class StripeDisputesMixin:
    """retrieve_dispute and reverse_payout. Needs StripeGateway's `client`."""

    client: stripe.StripeClient  # set by StripeGateway

    def retrieve_dispute(self, ref):
        from .stripe_results import _gateway_error

        try:
            dispute = self.client.v1.disputes.retrieve(ref, {"expand": ["payment_intent"]})
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        return dispute_info(dispute.to_dict())

    def reverse_payout(self, payout_ref, *, amount, idempotency_key):
        from .stripe_results import _gateway_error, _metadata

        params: TransferReversalCreateParams = {"amount": amount, "metadata": _metadata(None, idempotency_key)}
        try:
            reversal = self.client.v1.transfers.reversals.create(
                payout_ref, params, {"idempotency_key": idempotency_key}
            )
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        return MoneyMovement(ref=reversal.id, amount=reversal.amount, currency=reversal.currency.upper())
