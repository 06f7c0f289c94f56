"""How the pledge changes (workflows/pledge_change.py) look at the processor, for the
reconciliation of our books with its records (services/reconciliation.py).

A change leaves its traces on charges other than the pledge's current one:
- an upgrade's new charge became the pledge's; the charge it replaced was refunded in full
  (`superseded`), and the fee we booked for the current charge is the change's;
- a downgrade refunded part of the pledge's charge (`partly_refunded`), which our books show
  as the change's decrease, not as a return of the pledge;
- an upgrade refused after its payment (the campaign closed meanwhile) was refunded in full.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select

from ..extensions import db
from ..models import PledgeChange, PledgeChangeStatus as CS


@dataclass
class ChangeView:
    superseded: dict = field(default_factory=dict)  # charge ref -> pledge id (to be refunded in full)
    partly_refunded: dict = field(default_factory=lambda: defaultdict(int))  # charge ref -> refunded by changes
    fees: dict = field(default_factory=dict)  # charge ref -> the fee booked for it by a change

    def charge_problems(self, ref, charge, refunded):
        """Problems with a charge a change replaced or refused (it must be refunded in full).
        `refunded`: by the processor's records, less what earlier changes refunded of it."""
        refunded += self.partly_refunded.get(ref, 0)
        if refunded >= charge.amount:
            return []
        return [
            f"Pledge {self.superseded[ref]}: its earlier charge {ref} ({charge.amount} {charge.currency}) was "
            f"replaced by a change, but the processor refunded only {refunded} of it."
        ]


def processor_view():
    view = ChangeView()
    rows = db.session.execute(
        select(
            PledgeChange.pledge_id,
            PledgeChange.status,
            PledgeChange.charge_ref,
            PledgeChange.old_charge_ref,
            PledgeChange.refund_ref,
            PledgeChange.amount_before,
            PledgeChange.amount_after,
            PledgeChange.processor_fee,
        ).order_by(PledgeChange.id)
    ).all()
    for pledge_id, status, charge_ref, old_ref, refund_ref, before, after, fee in rows:
        upgrade = charge_ref is not None
        if upgrade and status in (CS.DONE.value, CS.REFUND_PENDING.value) and old_ref:
            view.superseded[old_ref] = pledge_id
            view.fees[charge_ref] = fee or 0
        elif upgrade and status == CS.FAILED.value:
            view.superseded[charge_ref] = pledge_id  # refused after payment: refunded in full
        elif not upgrade and refund_ref and old_ref and after < before:
            view.partly_refunded[old_ref] += before - after
    return view
