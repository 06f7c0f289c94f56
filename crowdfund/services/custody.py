"""The monthly custody report: what each equity offering's escrow did in one calendar month
(UTC), read from the ledger, for the custodian bank (CUSTODIAN_NAME) that holds the funds.

Per offering, in minor units of its currency:

    opening_balance + held - refunded - released + other == closing_balance

`held`: commitments paid into escrow; `refunded`: returned to investors (cancellations,
reflection-period revocations, failed offerings); `released`: paid out of escrow when the
offering succeeded (to the firm and the platform's fee); `other`: what disputes (chargebacks)
took from escrow or gave back.
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, timezone

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import case, func, select

from .. import ledger
from ..domain.spreadsheets import csv_cell
from ..errors import ValidationError
from ..extensions import db
from ..models import LedgerAccount, LedgerTransfer, Project
from ..models.project import ProjectKind

RELEASE_CODES = (ledger.RELEASE_NET, ledger.RELEASE_FEE, ledger.RELEASE_PROCESSOR_FEE)
COLUMNS = (
    "month",
    "project_id",
    "project",
    "currency",
    "opening_balance",
    "held",
    "refunded",
    "released",
    "other",
    "closing_balance",
    "custodian",
)


def parse_month(text):
    """ "YYYY-MM" -> (first moment of the month, first moment of the next), UTC."""
    try:
        year, month = (int(part) for part in str(text or "").strip().split("-"))
        start = date(year, month, 1)
        end = date(year + month // 12, month % 12 + 1, 1)
    except ValueError:
        message = _("Choose a month as YYYY-MM.")
        raise ValidationError(message, fields={"month": message}) from None
    return (
        datetime(start.year, start.month, 1, tzinfo=timezone.utc),
        datetime(end.year, end.month, 1, tzinfo=timezone.utc),
    )


@dataclass
class Line:
    project_id: int
    title: str
    currency: str
    opening_balance: int = 0
    held: int = 0
    refunded: int = 0
    released: int = 0
    other: int = 0

    @property
    def closing_balance(self):
        return self.opening_balance + self.held - self.refunded - self.released + self.other


def _movements(side, start, end):
    """(project, code, before the month?, sum) of transfers into (side "credit") or out of
    (side "debit") equity offerings' escrow accounts up to the month's end."""
    account_column = LedgerTransfer.credit_account_id if side == "credit" else LedgerTransfer.debit_account_id
    before = case((LedgerTransfer.created_at < start, True), else_=False).label("before")
    return db.session.execute(
        select(LedgerAccount.project_id, LedgerTransfer.code, before, func.sum(LedgerTransfer.amount))
        .join(LedgerAccount, LedgerAccount.id == account_column)
        .join(Project, Project.id == LedgerAccount.project_id)
        .where(
            LedgerAccount.kind == "escrow",
            Project.kind == ProjectKind.EQUITY.value,
            LedgerTransfer.created_at < end,
        )
        .group_by(LedgerAccount.project_id, LedgerTransfer.code, before)
    ).all()


def report(month):
    """The month's lines, one per equity offering whose escrow held or moved money."""
    start, end = parse_month(month)
    lines = {}

    def line(project_id):
        if project_id not in lines:
            lines[project_id] = Line(project_id, "", "")
        return lines[project_id]

    for sign, side in ((1, "credit"), (-1, "debit")):
        for project_id, code, before, amount in _movements(side, start, end):
            entry, amount = line(project_id), int(amount or 0)
            if before:
                entry.opening_balance += sign * amount
            elif code == ledger.PLEDGE_HOLD and sign > 0:
                entry.held += amount
            elif code == ledger.PLEDGE_REFUND and sign < 0:
                entry.refunded += amount
            elif code in RELEASE_CODES and sign < 0:
                entry.released += amount
            else:
                entry.other += sign * amount
    if lines:
        for project_id, title, currency in db.session.execute(
            select(Project.id, Project.title, Project.currency).where(Project.id.in_(sorted(lines)))
        ):
            lines[project_id].title, lines[project_id].currency = title, currency
    return [
        lines[key]
        for key in sorted(lines)
        if lines[key].opening_balance
        or lines[key].held
        or lines[key].refunded
        or lines[key].released
        or lines[key].other
    ]


def report_csv(month):
    custodian = current_app.config.get("CUSTODIAN_NAME") or ""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    month_text = parse_month(month)[0].strftime("%Y-%m")
    for line in report(month):
        writer.writerow(
            [
                month_text,
                line.project_id,
                csv_cell(line.title),
                line.currency,
                line.opening_balance,
                line.held,
                line.refunded,
                line.released,
                line.other,
                line.closing_balance,
                csv_cell(custodian),
            ]
        )
    return out.getvalue()
