"""What a campaign's money did, read from the ledger: the statement, holdings, the register.

Statement identity, to the cent (tested against the ledger):

    gross - refunded == in_escrow + fee + processor_fees_firm + paid_out + awaiting_payout

`gross` is every amount that ever reached the campaign's escrow; `refunded` is everything
that went back to backers, of which `cancelled` is the part backers cancelled themselves.
`processor_fees` is what the payment processor kept of the campaign's charges (refunded
ones included: it keeps its fee); `processor_fees_firm` is the part the firm bore at release
(PROCESSOR_FEES_PAID_BY = "firm"), and `processor_fees_paid_by` says who bore the rest.
"""
import csv
import io

from sqlalchemy import case, func, select

from .. import ledger
from ..domain.spreadsheets import csv_cell
from ..errors import NotFound, PermissionDenied
from ..extensions import db
from ..models import LedgerTransfer, Pledge, Project, Settlement, ShareHolding, User
from ..models.pledge import PledgeStatus as PS

# The first seven in the order the CSV has always had them; what came later is appended.
STATEMENT_KEYS = ("gross", "cancelled", "refunded", "fee", "paid_out", "awaiting_payout", "in_escrow",
                  "processor_fees", "processor_fees_firm")


def statement(project):
    """The campaign's money, in minor units of `project.currency`."""
    sums = dict.fromkeys(STATEMENT_KEYS, 0)
    by_code = db.session.execute(
        select(LedgerTransfer.code,
               func.sum(case((Pledge.status == PS.CANCELLED.value, LedgerTransfer.amount), else_=0)),
               func.sum(LedgerTransfer.amount))
        .join(Pledge, Pledge.id == LedgerTransfer.pledge_id)
        .where(Pledge.project_id == project.id).group_by(LedgerTransfer.code)).all()
    totals = {code: (int(cancelled or 0), int(total or 0)) for code, cancelled, total in by_code}
    sums["gross"] = totals.get(ledger.PLEDGE_HOLD, (0, 0))[1]
    sums["cancelled"], sums["refunded"] = totals.get(ledger.PLEDGE_REFUND, (0, 0))
    sums["fee"] = totals.get(ledger.RELEASE_FEE, (0, 0))[1]
    sums["processor_fees"] = totals.get(ledger.PROCESSOR_FEE, (0, 0))[1]
    sums["processor_fees_firm"] = totals.get(ledger.RELEASE_PROCESSOR_FEE, (0, 0))[1]
    net = totals.get(ledger.RELEASE_NET, (0, 0))[1]
    settlement_id = db.session.scalar(select(Settlement.id).where(Settlement.project_id == project.id))
    if settlement_id is not None:
        sums["paid_out"] = int(db.session.scalar(select(func.coalesce(func.sum(LedgerTransfer.amount), 0)).where(
            LedgerTransfer.settlement_id == settlement_id, LedgerTransfer.code == ledger.PAYOUT)) or 0)
    sums["awaiting_payout"] = net - sums["paid_out"]
    account = ledger.accounts.find_account(ledger.escrow_key(project.id))
    sums["in_escrow"] = ledger.balance(account.key) if account is not None else 0
    sums["currency"] = project.currency
    sums["processor_fees_paid_by"] = "firm" if sums["processor_fees_firm"] else "platform"
    return sums


def statement_csv(project):
    data = statement(project)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["project_id", "currency", *STATEMENT_KEYS, "processor_fees_paid_by"])
    writer.writerow([project.id, project.currency, *(data[key] for key in STATEMENT_KEYS),
                     data["processor_fees_paid_by"]])
    return out.getvalue()


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
    return db.session.scalars(select(ShareHolding).where(ShareHolding.user_id == user.id)
                              .order_by(ShareHolding.acquired_at.desc(), ShareHolding.id.desc())).all()


def register_csv(project):
    """The share register of one equity campaign, streamed as CSV lines."""
    yield "holder_name,holder_email,shares,price_per_share,currency,security_type,acquired_at,pledge_id\r\n"
    rows = db.session.execute(
        select(User.name, User.email, ShareHolding.shares, ShareHolding.price_per_share, ShareHolding.currency,
               ShareHolding.security_type, ShareHolding.acquired_at, ShareHolding.pledge_id)
        .join(User, User.id == ShareHolding.user_id)
        .where(ShareHolding.project_id == project.id).order_by(ShareHolding.id)
        .execution_options(yield_per=1000))
    for row in rows:
        out = io.StringIO()
        csv.writer(out).writerow([csv_cell(row[0]), csv_cell(row[1]), *row[2:6], row[6].isoformat(), row[7]])
        yield out.getvalue()


def settlement_overview(limit=100):
    """Recent settlements with how many pledges are still held or parked, newest first."""
    held = (select(Pledge.project_id, func.count().label("held"),
                   func.sum(case((Pledge.parked.is_(True), 1), else_=0)).label("parked"))
            .where(Pledge.status == PS.HELD.value).group_by(Pledge.project_id).subquery())
    rows = db.session.execute(
        select(Settlement, func.coalesce(held.c.held, 0), func.coalesce(held.c.parked, 0))
        .outerjoin(held, held.c.project_id == Settlement.project_id)
        .order_by(Settlement.id.desc()).limit(limit)).all()
    return [(s, int(h), int(p)) for s, h, p in rows]


def parked_pledges():
    return db.session.scalars(select(Pledge).where(Pledge.parked.is_(True), Pledge.status == PS.HELD.value)
                              .order_by(Pledge.id)).all()
