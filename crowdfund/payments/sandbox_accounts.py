"""The sandbox processor's connected accounts: Stripe Connect's Express accounts in miniature.

`SandboxGateway` inherits this. Like its charges, the accounts live in the sandbox's own
book (`sandbox_accounts`), written on its own connection and committed at once, so an
account the processor opened survives a rollback on our side, and the same idempotency
key opens it only once.

Onboarding: `onboarding_link` answers the sandbox's page `/sandbox/onboard/<acct id>`
(crowdfund/web/sandbox), which stands in for Stripe's hosted onboarding: whoever holds the
link finishes it (`outcome=verified`) or leaves the account restricted
(`outcome=restricted`), and the browser goes back to the link's `return_url`. Every
change of status queues an `account.updated` webhook event in the same sandbox
transaction, as Stripe sends it to a platform.

SANDBOX_ACCOUNTS_VERIFY: `instant` (development, and the tests that are not about
onboarding) opens accounts already verified, as if their holder had finished at once;
`manual` opens them pending until the onboarding page is used.
"""

import secrets

from sqlalchemy import bindparam, select, update

from ..database import insert_new_returning
from ..domain.clock import utcnow
from ..models import SandboxAccount
from .base import ACCOUNT_PENDING, ACCOUNT_RESTRICTED, ACCOUNT_VERIFIED, GatewayError
from .sandbox_host import SandboxHost

ONBOARD_PATH = "/sandbox/onboard/{}"  # the page standing in for Stripe's onboarding (crowdfund/web/sandbox)
OUTCOMES = (ACCOUNT_VERIFIED, ACCOUNT_RESTRICTED)  # what a person can answer on that page

_ACCOUNTS = SandboxAccount.__table__
_ACCOUNT_BY_ID = select(_ACCOUNTS).where(_ACCOUNTS.c.id == bindparam("ref"))
_ACCOUNT_BY_KEY = select(_ACCOUNTS).where(_ACCOUNTS.c.idempotency_key == bindparam("key"))


def account_object(account):
    """A sandbox account as Stripe's Account object (its webhook events carry it)."""
    status = account["status"]
    verified, restricted = status == ACCOUNT_VERIFIED, status == ACCOUNT_RESTRICTED
    return {
        "id": account["id"],
        "object": "account",
        "type": "express",
        "country": account["country"],
        "email": account["email"],
        "charges_enabled": verified,
        "payouts_enabled": verified,
        "details_submitted": status != ACCOUNT_PENDING,
        "capabilities": {"transfers": "active" if verified else "inactive" if restricted else "pending"},
        "requirements": {
            "currently_due": ["external_account"] if status == ACCOUNT_PENDING else [],
            "past_due": ["external_account"] if restricted else [],
            "disabled_reason": "requirements.past_due" if restricted else None,
        },
        "metadata": dict((account.get("extra") or {}).get("metadata") or {}),
    }


class SandboxAccountsMixin(SandboxHost):
    """create_account, onboarding_link and account_status of the sandbox; its onboarding
    page's `finish_onboarding`. Needs SandboxGateway's `_engine`, `_call`, `_fault` and events."""

    def create_account(self, *, firm_id, country, email, idempotency_key):
        self._call("account")
        instant = (self.app.config.get("SANDBOX_ACCOUNTS_VERIFY") or "instant") == "instant"
        now = utcnow()
        row = {
            "id": f"acct_sbx_{secrets.token_hex(8)}",
            "idempotency_key": idempotency_key,
            "status": ACCOUNT_VERIFIED if instant else ACCOUNT_PENDING,
            "country": country,
            "email": email,
            "extra": {"metadata": {"firm_id": str(firm_id)}},
            "created_at": now,
            "updated_at": now,
        }
        with self._engine().begin() as conn:
            written = conn.execute(
                insert_new_returning(_ACCOUNTS, "idempotency_key", _ACCOUNTS.c.id, dialect_name=conn.dialect.name), row
            ).first()
            account = (
                row if written is not None else conn.execute(_ACCOUNT_BY_KEY, {"key": idempotency_key}).mappings().one()
            )
        if account["country"] != country or account["email"] != email:
            raise GatewayError(
                f"Idempotency key {idempotency_key} was used with different parameters.", code="idempotency_conflict"
            )
        self._fault("account", after=True)
        return account["id"]

    def onboarding_link(self, ref, *, return_url, refresh_url):
        self._call("account")
        # Kept on the account, as Stripe keeps them behind its one-time link: the page sends
        # the browser only where we asked (never where a query string says).
        with self._engine().begin() as conn:
            account = self._account(conn, ref)
            extra = {**(account.get("extra") or {}), "return_url": return_url, "refresh_url": refresh_url}
            conn.execute(update(_ACCOUNTS).where(_ACCOUNTS.c.id == ref).values(extra=extra))
        return self.onboarding_url(ref)

    def account_status(self, ref):
        self._call("account")
        with self._engine().connect() as conn:
            status = self._account(conn, ref)["status"]
        self._fault("account", after=True)
        return status

    # -- the sandbox's onboarding page ------------------------------------------------------
    def account(self, ref):
        """The sandbox's record of the account `ref` as a dict, or None (its own page; no faults)."""
        with self._engine().connect() as conn:
            row = conn.execute(_ACCOUNT_BY_ID, {"ref": ref}).mappings().first()
        return dict(row) if row is not None else None

    def finish_onboarding(self, ref, outcome):
        """The holder's answer on the onboarding page: the account becomes `outcome`
        (verified or restricted), with its `account.updated` event. Returns the account."""
        if outcome not in OUTCOMES:
            raise GatewayError(f"{outcome!r} is not an onboarding outcome.", code="invalid_outcome")
        queued = 0
        with self._engine().begin() as conn:
            changed = conn.execute(
                update(_ACCOUNTS)
                .where(_ACCOUNTS.c.id == ref, _ACCOUNTS.c.status != outcome)
                .values(status=outcome, updated_at=utcnow())
            ).rowcount
            account = self._account(conn, ref)
            if changed:
                queued = self._queue_events(conn, [("account.updated", account_object(account))])
        if queued:
            self._events_recorded()
        return account

    def onboarding_url(self, ref):
        """The onboarding page of `ref` (the founder is sent there)."""
        return self.public_url("sandbox.onboard", ONBOARD_PATH.format(ref), account_id=ref)

    @staticmethod
    def _account(conn, ref):
        row = conn.execute(_ACCOUNT_BY_ID, {"ref": ref}).mappings().first()
        if row is None:
            raise GatewayError(f"No such account: {ref}.", code="resource_missing")
        return dict(row)
