"""Rows built directly (the pledge and campaign services are written elsewhere), for
the notification and delivery tests."""

from datetime import datetime, timezone

from crowdfund.models import Pledge, Project, Review, RewardTier, Settlement
from tests.support.factories import next_number


def project(make, *, owner=None, firm=None, currency="CNY", status="live", kind="reward", title=None):
    firm = firm or make.firm(owner=owner)
    n = next_number()
    row = Project(
        firm_id=firm.id,
        created_by_id=firm.members[0].user_id,
        kind=kind,
        status=status,
        title=title or f"Lantern Tea {n}",
        slug=f"lantern-tea-{n}",
        summary="Tea from family gardens.",
        category="food",
        currency=currency,
        goal=100_000,
        deadline=datetime(2031, 5, 1, 12, 0, tzinfo=timezone.utc),
    )
    make.db.session.add(row)
    make.db.session.flush()
    return row


def tier(make, project, title="A tin of spring tea", price=2500):
    row = RewardTier(project_id=project.id, title=title, price=price)
    make.db.session.add(row)
    make.db.session.flush()
    return row


def pledge(make, project, backer=None, *, amount=2500, status="held", tier=None, quantity=1):
    backer = backer or make.user(name="Bo Backer")
    n = next_number()
    row = Pledge(
        project_id=project.id,
        backer_id=backer.id,
        status=status,
        idempotency_key=f"key-{n}",
        tier_id=tier.id if tier else None,
        quantity=quantity,
        reward_amount=amount,
        amount=amount,
        currency=project.currency,
        payment_method="pm_card_visa",
    )
    make.db.session.add(row)
    make.db.session.flush()
    return row


def settlement(make, project, *, payout_amount=95_000, payout_ref="po_sbx_123"):
    row = Settlement(
        project_id=project.id,
        outcome="release",
        status="completed",
        currency=project.currency,
        payout_amount=payout_amount,
        payout_ref=payout_ref,
    )
    make.db.session.add(row)
    make.db.session.flush()
    return row


def review(make, project, decision="approve", note=""):
    reviewer = make.admin()
    row = Review(project_id=project.id, reviewer_id=reviewer.id, decision=decision, note=note)
    make.db.session.add(row)
    make.db.session.flush()
    return row
