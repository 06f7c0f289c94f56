"""Workflows: the few flows where a payment processor's call sits between two transactions.

Everything under `services/` only flushes, inside the one transaction its caller commits.
The modules here are the exception, and the only code (with the request's unit of work,
jobs and CLI commands) that commits: each commit is visible in a short file, and each is
followed by `after_commit.run()` (or `run_mail()`) when what it wrote asked for more.

- `checkout`: a pledge, from the backer's click to money held in escrow (and the
  processor's later answers about it: `check_payment`);
- `cancel`: a backer takes back a pledge; the books first, then the refund;
- `reconcile`: finish what an outage, a lost webhook or an abandoned authentication left;
- `closing`: campaigns past their deadline closed, then settled (the CLI, the scheduler
  and Celery beat all run it);
- `settlement`: a closed campaign's pledges released to the firm or refunded, in batches;
- `payouts`: the firm paid after PAYOUT_DELAY, a reserve later, waiting out a short balance;
- `refund_failures`: a refund the backer's bank refused later, booked back, parked, retried;
- `payment_events`: the processor's webhooks, which only ever make us look again.
- `payout_onboarding`: a firm's payout account opened with the processor, and looked at again;
- `account_events`: the processor's `account.updated` webhooks, which make us look again too.
- `dispute_events`: the processor's `charge.dispute.*` webhooks: the dispute looked at again,
  booked, and settled with the firm's connected account;
- `announcements`: a founder's update mailed to the campaign's backers, one update at a time.
"""
