"""A firm's payout account, set up with the processor and looked at again.

Each function commits its own steps, since a processor call cannot sit inside a
transaction: (1) check who asks and what is to be done, in a short transaction; (2) call
the processor with none open; (3) record what it answered. An account is opened with an
idempotency key derived from the firm and how many accounts it has had, so a step 3 that
never committed is replayed by the next try instead of opening a second account.

- `start`: "Set up payouts" / "Continue setup": opens the firm's account if it has none
  (or a replacement, while the firm is not locked) and returns the processor's onboarding
  URL for it.
- `propose`: while the firm is locked, a new account comes only with a change request for
  an admin (services/firm_changes.py); this opens it as `proposed` and files the request.
- `refresh` / `refresh_ref`: ask the processor for the account's status now and record it
  (the founder's return from onboarding, an admin about to approve, `account.updated`).
"""

import logging
from contextlib import contextmanager

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from ..errors import Conflict, DomainError
from ..extensions import db
from ..models import PayoutAccount
from ..payments import GatewayError, get_gateway
from ..services import firm_changes, firms, payout_accounts
from ..services.payout_accounts import CURRENT, PROPOSED

log = logging.getLogger(__name__)


class ProcessorUnavailable(DomainError):
    code = "processor_unavailable"
    status = 503


@contextmanager
def _processor():
    """The processor's refusals as domain errors, for the page or the API to show."""
    try:
        yield
    except GatewayError as error:
        db.session.rollback()
        log.warning("payout account call failed: %s", error)
        if error.transient:
            raise ProcessorUnavailable(
                _("The payment processor could not be reached. Please try again in a moment.")
            ) from error
        raise Conflict(
            _("The payment processor refused: %(reason)s", reason=str(error)), code="processor_refused"
        ) from error


def _account_key(firm_id):
    opened = db.session.scalar(select(func.count()).select_from(PayoutAccount).where(PayoutAccount.firm_id == firm_id))
    return f"firm-{firm_id}-payout-account-{opened + 1}"


def start(user, firm_id, *, return_url, refresh_url, replace=False):
    """Returns (PayoutAccount, onboarding URL). `return_url(firm_id)` / `refresh_url(firm_id)`
    give our pages the processor sends the browser back to."""
    # Step 1.
    firm = firms.get_firm(firm_id)
    firms.require_member(user, firm)
    account = payout_accounts.current(firm.id)
    opening = account is None or replace
    if opening and account is not None and firm_changes.is_locked(firm.id):
        refusal = firm_changes.refusal(user, firm, ["payout_account"])
        db.session.rollback()
        raise refusal
    key, country, email = _account_key(firm.id), firm.country, user.email
    ref = account.processor_ref if account is not None and not replace else None
    db.session.commit()
    # Step 2.
    gateway = get_gateway()
    status = None
    with _processor():
        if opening:
            ref = gateway.create_account(firm_id=firm_id, country=country, email=email, idempotency_key=key)
            status = gateway.account_status(ref)
        url = gateway.onboarding_link(ref, return_url=return_url(firm_id), refresh_url=refresh_url(firm_id))
    # Step 3.
    if opening:
        firm = firms.get_firm(firm_id)
        try:
            account = payout_accounts.by_ref(ref) or payout_accounts.open_account(
                firm, ref, status, processor=gateway.name, role=CURRENT, actor=user
            )
            db.session.commit()
        except IntegrityError:  # the same click twice at once: the other one recorded the account
            db.session.rollback()
            account = payout_accounts.by_ref(ref)
            if account is None:
                raise
    return account, url


def propose(user, firm_id, data, *, return_url, refresh_url):
    """A change request with a new payout account. Returns (FirmChangeRequest, onboarding URL)."""
    # Step 1: refuse what step 3 would refuse before the processor opens anything.
    firm = firms.get_firm(firm_id)
    firms.require_member(user, firm)
    firms.clean({**{key: getattr(firm, key) for key in firms.FIRM_FIELDS}, **data}, existing=firm)
    if firm_changes.pending_request(firm.id) is not None:
        db.session.rollback()
        raise Conflict(firm_changes.pending_message(), code="change_request_pending")
    key, country, email = _account_key(firm.id), firm.country, user.email
    db.session.commit()
    # Step 2.
    gateway = get_gateway()
    with _processor():
        ref = gateway.create_account(firm_id=firm_id, country=country, email=email, idempotency_key=key)
        status = gateway.account_status(ref)
        url = gateway.onboarding_link(ref, return_url=return_url(firm_id), refresh_url=refresh_url(firm_id))
    # Step 3.
    firm = firms.get_firm(firm_id)
    account = payout_accounts.by_ref(ref) or payout_accounts.open_account(
        firm, ref, status, processor=gateway.name, role=PROPOSED, actor=user
    )
    request = firm_changes.request_change(user, firm, data, payout_account=account)
    db.session.commit()
    return request, url


def onboarding_url(user, firm_id, account_id, *, return_url, refresh_url):
    """A fresh onboarding link for one of the firm's accounts (an expired link's refresh)."""
    firm = firms.get_firm(firm_id)
    firms.require_member(user, firm)
    account = db.session.get(PayoutAccount, account_id)
    if account is None or account.firm_id != firm.id or account.role == "retired":
        account = payout_accounts.current(firm.id)
    ref = account.processor_ref if account is not None else None
    db.session.commit()
    if ref is None:
        return None
    with _processor():
        return get_gateway().onboarding_link(ref, return_url=return_url(firm_id), refresh_url=refresh_url(firm_id))


def refresh(firm_id):
    """Ask the processor about the firm's current and proposed accounts; record the answers.
    Returns the current account's status (None without one). Raises GatewayError."""
    refs = db.session.scalars(
        select(PayoutAccount.processor_ref).where(
            PayoutAccount.firm_id == firm_id, PayoutAccount.role.in_((CURRENT, PROPOSED))
        )
    ).all()
    db.session.commit()
    for ref in refs:
        refresh_ref(ref)
    status = payout_accounts.status_of(firm_id)
    db.session.commit()
    return status


def refresh_ref(ref, *, note="as the processor reports it"):
    """Ask the processor about the account `ref` and record its status. Returns the status,
    or None for an account that is not one of ours (nothing asked)."""
    known = db.session.scalar(select(PayoutAccount.id).where(PayoutAccount.processor_ref == ref))
    db.session.commit()
    if known is None:
        return None
    status = get_gateway().account_status(ref)
    account = db.session.scalar(
        select(PayoutAccount)
        .where(PayoutAccount.id == known)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    payout_accounts.set_status(account, status, note=note)
    db.session.commit()
    return status


def refresh_quietly(firm_id):
    """`refresh`, for a page: the processor not answering leaves the last known status."""
    try:
        return refresh(firm_id)
    except GatewayError as error:
        db.session.rollback()
        log.warning("could not ask the processor about the payout accounts of firm %s: %s", firm_id, error)
        return payout_accounts.status_of(firm_id)
