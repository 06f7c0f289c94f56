"""What a campaign's money did, read from the ledger: the statement, holdings, the register.

Statement identity, to the cent (tested against the ledger):

    gross - refunded - disputed == in_escrow + held_for_delivery + fee + processor_fees_firm
                                   + paid_out + awaiting_payout

`held_for_delivery` is what an on_delivery campaign keeps back until each backer's reward is
delivered (services/delivery_records.py); delivered, it moves to `awaiting_payout`, refunded,
to `refunded`.

`gross` is every amount that ever reached the campaign's escrow; `refunded` is everything
that went back to backers, of which `cancelled` is the part backers cancelled themselves.
`processor_fees` is what the payment processor kept of the campaign's charges (refunded
ones included: it keeps its fee); `processor_fees_firm` is the part the firm bore at release
(PROCESSOR_FEES_PAID_BY = "firm"), and `processor_fees_paid_by` says who bore the rest.

`awaiting_payout` is what the firm is owed and has not been paid yet; `reserved` is the part
of it held back against chargebacks (PAYOUT_RESERVE_BPS) until `reserved_until`, so
`reserved <= awaiting_payout` and the identity above is unchanged. `payout_due_at` is when
the payout (the firm's share minus the reserve) is sent, PAYOUT_DELAY after success.
`refunds_owed` is money backers are owed because their refund failed at their bank and is
being sent again (crowdfund/workflows/refund_failures.py). It is outside the identity:
`refunded` counts what left escrow for backers, failed or not (the money came back to the
processor, not to escrow).

`disputed` is what the payment processor took back for backers who disputed their payment
(chargebacks) and has not given back: open disputes and lost ones (`_apply_disputes`). Taken
after release, it is no longer the platform's `fee`, the firm's processor-fee part or the
firm's to be paid; what was taken back from the firm's account after its payout (and paid
to it again when a dispute was won) counts in `paid_out`.
"""

import csv
import io
from datetime import timezone

from flask import current_app
from sqlalchemy import case, func, select

from .. import ledger
from ..domain.spreadsheets import csv_cell
from ..errors import NotFound, PermissionDenied
from ..extensions import db
from ..models import LedgerTransfer, Pledge, Project, Settlement, ShareHolding, User
from ..models.pledge import PledgeStatus as PS
from . import delivery_records

# The first seven in the order the CSV has always had them; what came later is appended.
STATEMENT_KEYS = (
    "gross",
    "cancelled",
    "refunded",
    "fee",
    "paid_out",
    "awaiting_payout",
    "in_escrow",
    "processor_fees",
    "processor_fees_firm",
    "reserved",
    "reserved_until",
    "payout_due_at",
    "refunds_owed",
    "disputed",
)
# Release on delivery (services/delivery_records.py): after processor_fees_paid_by in the CSV.
DELIVERY_KEYS = ("held_for_delivery",)
# The keys that are moments, not amounts: datetimes here, ISO 8601 in the CSV and the API
# (empty / null while there is none).
STATEMENT_TIMES = ("reserved_until", "payout_due_at")


def statement(project):
    """The campaign's money, in minor units of `project.currency`."""
    sums = dict.fromkeys(STATEMENT_KEYS, 0)
    by_code = db.session.execute(
        select(
            LedgerTransfer.code,
            func.sum(case((Pledge.status == PS.CANCELLED.value, LedgerTransfer.amount), else_=0)),
            func.sum(LedgerTransfer.amount),
        )
        .join(Pledge, Pledge.id == LedgerTransfer.pledge_id)
        .where(Pledge.project_id == project.id)
        .group_by(LedgerTransfer.code)
    ).all()
    totals = {code: (int(cancelled or 0), int(total or 0)) for code, cancelled, total in by_code}
    # Pledges changed while live (workflows/pledge_change.py) moved escrow by the difference.
    sums["gross"] = (
        totals.get(ledger.PLEDGE_HOLD, (0, 0))[1]
        + totals.get(ledger.PLEDGE_INCREASE, (0, 0))[1]
        - totals.get(ledger.PLEDGE_DECREASE, (0, 0))[1]
    )
    sums["cancelled"], sums["refunded"] = totals.get(ledger.PLEDGE_REFUND, (0, 0))
    sums["fee"] = totals.get(ledger.RELEASE_FEE, (0, 0))[1]
    sums["processor_fees"] = (
        totals.get(ledger.PROCESSOR_FEE, (0, 0))[1] + totals.get(ledger.CHANGE_PROCESSOR_FEE, (0, 0))[1]
    )
    sums["processor_fees_firm"] = totals.get(ledger.RELEASE_PROCESSOR_FEE, (0, 0))[1]
    net = totals.get(ledger.RELEASE_NET, (0, 0))[1]
    settlement_id = db.session.scalar(select(Settlement.id).where(Settlement.project_id == project.id))
    if settlement_id is not None:
        sums["paid_out"] = int(
            db.session.scalar(
                select(func.coalesce(func.sum(LedgerTransfer.amount), 0)).where(
                    LedgerTransfer.settlement_id == settlement_id, LedgerTransfer.code == ledger.PAYOUT
                )
            )
            or 0
        )
    sums["awaiting_payout"] = net - sums["paid_out"]
    account = ledger.accounts.find_account(ledger.escrow_key(project.id))
    sums["in_escrow"] = ledger.balance(account.key) if account is not None else 0
    delivery_records.apply_to_statement(sums, totals, project)  # release on delivery
    sums["currency"] = project.currency
    sums["processor_fees_paid_by"] = "firm" if sums["processor_fees_firm"] else "platform"
    sums["custodian"] = custodian_name()
    sums["funding_model"] = project.funding_model or "all_or_nothing"
    sums["goal_met"] = project.pledged_amount >= project.goal
    sums.update(_payout_schedule(project.id), refunds_owed=_refunds_owed(totals))
    _apply_disputes(sums, totals)
    _reserve_within_what_is_owed(sums)
    return sums


def _apply_disputes(sums, totals):
    """`disputed`, and what disputes took from the release's parts (see the module docstring)."""

    def amount(code):
        return totals.get(code, (0, 0))[1]

    def still_taken(code):
        return amount(code) - amount(ledger.DISPUTE_RETURNS[code])

    sums["disputed"] = sum(still_taken(code) for code in ledger.DISPUTE_TAKES)
    sums["fee"] -= still_taken(ledger.DISPUTE_RELEASE_FEE)
    sums["processor_fees_firm"] -= still_taken(ledger.DISPUTE_RELEASE_PFEE)
    taken_back = amount(ledger.PAYOUT_REVERSAL) - amount(ledger.DISPUTE_REPAY)
    sums["paid_out"] -= taken_back
    sums["awaiting_payout"] += taken_back - still_taken(ledger.DISPUTE_NET) - still_taken(ledger.DISPUTE_DELIVERY)


def _payout_schedule(project_id):
    """reserved, reserved_until and payout_due_at, from the settlement's payout plan
    (crowdfund/workflows/payouts.py; none before its campaign's money is all released)."""
    plan = db.session.execute(
        select(
            Settlement.reserve_amount, Settlement.reserve_ref, Settlement.reserve_due_at, Settlement.payout_due_at
        ).where(Settlement.project_id == project_id)
    ).first()
    if plan is None:
        return {"reserved": 0, "reserved_until": None, "payout_due_at": None}
    reserved = int(plan.reserve_amount or 0) if plan.reserve_ref is None else 0
    return {
        "reserved": reserved,
        "reserved_until": plan.reserve_due_at if reserved else None,
        "payout_due_at": plan.payout_due_at,
    }


def _reserve_within_what_is_owed(sums):
    """A chargeback booked while the reserve is held comes out of it (the reserve payout is
    cut the same way, crowdfund/workflows/payouts.py): it is never more than is still owed."""
    sums["reserved"] = min(sums["reserved"], max(sums["awaiting_payout"], 0))
    if not sums["reserved"]:
        sums["reserved_until"] = None


def _refunds_owed(totals):
    return totals.get(ledger.REFUND_FAILED, (0, 0))[1] - totals.get(ledger.REFUND_RETRY, (0, 0))[1]


def iso(moment):
    """A statement's moment as the API writes it ("2030-01-31T18:00:00Z"); None stays None."""
    return (
        None if moment is None else moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    )


def statement_csv(project):
    data = statement(project)
    out = io.StringIO()
    writer = csv.writer(out)
    header = ["project_id", "currency", *STATEMENT_KEYS, "processor_fees_paid_by", *DELIVERY_KEYS]
    row = [
        project.id,
        project.currency,
        *(iso(data[key]) if key in STATEMENT_TIMES else data[key] for key in STATEMENT_KEYS),
        data["processor_fees_paid_by"],
        *(data[key] for key in DELIVERY_KEYS),
    ]
    if data["custodian"]:  # the bank that holds the funds (CUSTODIAN_NAME), as a last column
        header, row = [*header, "custodian"], [*row, csv_cell(data["custodian"])]
    writer.writerow(header)
    writer.writerow(row)
    return out.getvalue()


def custodian_name():
    """CUSTODIAN_NAME, the bank that holds investors' funds, or None."""
    return (current_app.config.get("CUSTODIAN_NAME") or "").strip() or None


def require_statement_access(user, project):
    if not (user.is_authenticated and (user.is_admin or project.firm.has_member(user))):
        raise PermissionDenied("Only the firm's people and admins can see this statement.")


def get_project(project_id):
    project = db.session.get(Project, project_id)
    if project is None:
        raise NotFound("There is no such project.")
    return project


def holdings_of(user):
    """The user's entries in the share register, newest first."""
    return db.session.scalars(
        select(ShareHolding)
        .where(ShareHolding.user_id == user.id)
        .order_by(ShareHolding.acquired_at.desc(), ShareHolding.id.desc())
    ).all()


def register_csv(project):
    """The share register of one equity campaign, streamed as CSV lines.

    What it needs of `project` is read now, while the request's session holds it: the lines
    are written after the view returned and the request committed, in the session of the
    app context `stream_with_context` gives them, to which `project` does not belong."""
    return _register_lines(project.id)


def _register_lines(project_id):
    yield "holder_name,holder_email,shares,price_per_share,currency,security_type,acquired_at,pledge_id\r\n"
    rows = db.session.execute(
        select(
            User.name,
            User.email,
            ShareHolding.shares,
            ShareHolding.price_per_share,
            ShareHolding.currency,
            ShareHolding.security_type,
            ShareHolding.acquired_at,
            ShareHolding.pledge_id,
        )
        .join(User, User.id == ShareHolding.user_id)
        .where(ShareHolding.project_id == project_id)
        .order_by(ShareHolding.id)
        .execution_options(yield_per=1000)
    )
    for row in rows:
        out = io.StringIO()
        csv.writer(out).writerow([csv_cell(row[0]), csv_cell(row[1]), *row[2:6], row[6].isoformat(), row[7]])
        yield out.getvalue()


def settlement_overview(limit=100):
    """Recent settlements with how many pledges are still held or parked, newest first."""
    held = (
        select(
            Pledge.project_id,
            func.count().label("held"),
            func.sum(case((Pledge.parked.is_(True), 1), else_=0)).label("parked"),
        )
        .where(Pledge.status == PS.HELD.value)
        .group_by(Pledge.project_id)
        .subquery()
    )
    rows = db.session.execute(
        select(Settlement, func.coalesce(held.c.held, 0), func.coalesce(held.c.parked, 0))
        .outerjoin(held, held.c.project_id == Settlement.project_id)
        .order_by(Settlement.id.desc())
        .limit(limit)
    ).all()
    return [(s, int(h), int(p)) for s, h, p in rows]


def parked_pledges():
    """Refunds waiting for an admin: a held pledge's settlement refund, or a refund that failed
    at the backer's bank after it was made (any returned pledge)."""
    return db.session.scalars(select(Pledge).where(Pledge.parked.is_(True)).order_by(Pledge.id)).all()
