"""Workflows: the few flows where a payment processor's call sits between two transactions.

Everything under `services/` only flushes, inside the one transaction its caller commits.
The modules here are the exception, and the only code (with the request's unit of work,
jobs and CLI commands) that commits: each commit is visible in a short file.

- `checkout`: a pledge, from the backer's click to money held in escrow (and the
  processor's later answers about it: `check_payment`);
- `cancel`: a backer takes back a pledge; the books first, then the refund;
- `reconcile`: finish what an outage, a lost webhook or an abandoned authentication left;
- `payment_events`: the processor's webhooks, which only ever make us look again.
- `payout_onboarding`: a firm's payout account opened with the processor, and looked at again;
- `account_events`: the processor's `account.updated` webhooks, which make us look again too.
"""
