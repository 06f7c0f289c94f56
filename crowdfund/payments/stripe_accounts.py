"""Stripe Connect for StripeGateway: the firms' Express accounts, which payouts are sent to.

- create_account: an Express account (`accounts.create`) asking for the `transfers`
  capability, which is all a firm needs to receive Transfers from the platform (charges
  are the platform's own: separate charges and transfers). Our firm id and idempotency key
  go in its metadata, to find it from the dashboard.
- onboarding_link: an Account Link (`account_onboarding`), Stripe's hosted pages where the
  firm's people give Stripe their details and bank account. Links are single-use and
  short-lived: Stripe sends an expired one's visitor to `refresh_url` for a new one.
- account_status: the Account as Stripe has it now (`accounts.retrieve`), folded into our
  three words (`status_of`).

Every request names the gateway's API version and goes through its StripeClient, as the
payments do; tests/payments/test_stripe_conformance.py checks these parameters too.
"""

import stripe
from stripe.params import AccountCreateParams, AccountLinkCreateParams

from .base import ACCOUNT_PENDING, ACCOUNT_RESTRICTED, ACCOUNT_VERIFIED


def status_of(account):
    """An Account (a plain dict) as pending | verified | restricted.

    Verified only when Stripe pays out to it AND its transfers capability is active (a
    Transfer to it would succeed). Restricted when Stripe has stopped it or something is
    past due: its holder must act. Anything else is onboarding still in progress."""
    requirements = account.get("requirements") or {}
    capabilities = account.get("capabilities") or {}
    if account.get("payouts_enabled") and capabilities.get("transfers") == "active":
        return ACCOUNT_VERIFIED
    if requirements.get("disabled_reason") or requirements.get("past_due"):
        return ACCOUNT_RESTRICTED
    return ACCOUNT_PENDING


class StripeAccountsMixin:
    """create_account, onboarding_link and account_status. Needs StripeGateway's `client`."""

    client: stripe.StripeClient  # set by StripeGateway

    def create_account(self, *, firm_id, country, email, idempotency_key):
        from .stripe_results import _gateway_error, _metadata

        params: AccountCreateParams = {
            "type": "express",
            "country": country,
            "capabilities": {"transfers": {"requested": True}},
            "metadata": _metadata({"firm_id": firm_id}, idempotency_key),
        }
        if email:
            params["email"] = email
        try:
            account = self.client.v1.accounts.create(params, {"idempotency_key": idempotency_key})
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        return account.id

    def onboarding_link(self, ref, *, return_url, refresh_url):
        from .stripe_results import _gateway_error

        # No idempotency key: a link changes nothing, and each one may be used only once.
        params: AccountLinkCreateParams = {
            "account": ref,
            "type": "account_onboarding",
            "return_url": return_url,
            "refresh_url": refresh_url,
        }
        try:
            link = self.client.v1.account_links.create(params)
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        return link.url

    def account_status(self, ref):
        from .stripe_results import _gateway_error

        try:
            account = self.client.v1.accounts.retrieve(ref)
        except stripe.StripeError as error:
            raise _gateway_error(error) from error
        return status_of(account.to_dict())
