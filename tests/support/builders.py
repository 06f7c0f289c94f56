"""Live campaigns built straight from the models, until the campaigns service lands.

(The projects/review/launch helper builds the real flow; these make the same rows a
launched campaign has: status "live", a deadline in the future, tiers or an offering.)
"""

import itertools
import threading
from datetime import timedelta

from sqlalchemy import func, select

from crowdfund.extensions import db as _db
from crowdfund.models import (
    EquityOffering,
    InvestorAssessment,
    InvestorQualification,
    Project,
    RewardTier,
    SandboxOperation,
    utcnow,
)
from crowdfund.services import investors

_seq = itertools.count(1)


def _project(make, db, kind, *, currency, goal, deadline_in, owner=None, status="live"):
    firm = make.firm(owner=owner)
    n = next(_seq)
    now = utcnow()
    project = Project(
        firm_id=firm.id,
        created_by_id=firm.members[0].user_id,
        kind=kind,
        status=status,
        title=f"Campaign {n}",
        slug=f"campaign-{n}-{kind}",
        summary="Something worth backing.",
        category="design",
        currency=currency,
        goal=goal,
        deadline=now + deadline_in,
        launched_at=now - timedelta(days=1),
        duration_days=30,
    )
    db.session.add(project)
    return project


def live_reward_project(
    make, db, *, tiers=None, currency="CNY", goal=1_000_000, deadline_in=timedelta(days=10), owner=None, status="live"
):
    """A live reward campaign. `tiers`: dicts of RewardTier columns (title, price, quantity, ...)."""
    project = _project(
        make, db, "reward", currency=currency, goal=goal, deadline_in=deadline_in, owner=owner, status=status
    )
    if tiers is None:
        tiers = [{"title": "Early bird", "price": 10_000, "quantity": 100}]
    for position, columns in enumerate(tiers):
        project.tiers.append(RewardTier(position=position, **{"title": f"Tier {position + 1}", **columns}))
    db.session.commit()
    return project


def live_equity_project(
    make,
    db,
    *,
    price_per_share=100,
    shares_offered=10_000,
    min_shares=1,
    currency="USD",
    goal=500_000,
    deadline_in=timedelta(days=10),
    owner=None,
    status="live",
):
    """A live equity campaign selling `shares_offered` shares at `price_per_share` minor units."""
    project = _project(
        make, db, "equity", currency=currency, goal=goal, deadline_in=deadline_in, owner=owner, status=status
    )
    project.equity = EquityOffering(
        price_per_share=price_per_share,
        shares_offered=shares_offered,
        min_shares=min_shares,
        pre_money_valuation=10_000_000,
        shares_outstanding=100_000,
    )
    db.session.commit()
    return project


def investor(
    make,
    db,
    *,
    currency="USD",
    income=10_000_000,
    net_worth=5_000_000,
    accredited=False,
    other=0,
    user=None,
    checks=True,
):
    """A user with a completed investor profile (amounts in minor units). `checks`: also the
    proofs some rulebooks ask for, done (eu_ecsp's test and simulation, cn's approved proof)."""
    user = user or make.user(name="Investor")
    if checks:
        investor_checks_done(db, user, net_worth=net_worth, currency=currency)
    investors.save_profile(
        user,
        {
            "currency": currency,
            "annual_income": income,
            "net_worth": net_worth,
            "accredited": accredited,
            "other_investments_12m": other,
            "risk_acknowledged": True,
        },
    )
    db.session.commit()
    return user


def investor_checks_done(db, user, *, net_worth=5_000_000, currency="USD", at=None):
    """Record `user`'s passed knowledge test and loss simulation, and an approved qualification."""
    at = at or utcnow()
    db.session.add_all(
        [
            InvestorAssessment(
                user_id=user.id, kind="knowledge_test", passed=True, score=5, questions=5, created_at=at
            ),
            InvestorAssessment(
                user_id=user.id,
                kind="loss_simulation",
                passed=True,
                net_worth=net_worth,
                loss_capacity=net_worth // 10,
                currency=currency,
                created_at=at,
            ),
            InvestorQualification(
                user_id=user.id,
                status="approved",
                basis="financial_assets",
                amount=300_000_000,
                currency="CNY",
                evidence_filename="statement.pdf",
                evidence_stored_name="none.pdf",
                evidence_content_type="application/pdf",
                evidence_size=0,
                evidence_sha256="0" * 64,
                submitted_at=at,
                decided_at=at,
            ),
        ]
    )
    db.session.flush()


def charges(db, status="succeeded"):
    """Charges the sandbox processor made (its own book, like a Stripe dashboard)."""
    return db.session.scalar(
        select(func.count())
        .select_from(SandboxOperation)
        .where(SandboxOperation.kind == "charge", SandboxOperation.status == status)
    )


def refunds(db):
    return db.session.scalar(
        select(func.count()).select_from(SandboxOperation).where(SandboxOperation.kind == "refund")
    )


def race(app, n, work):
    """Run `work(i)` in `n` threads at once, each in its own app context (own session).

    Returns what each returned or raised, in order.
    """
    barrier = threading.Barrier(n)
    results = [None] * n

    def run(i):
        with app.app_context():
            try:
                barrier.wait(timeout=30)
                results[i] = work(i)
            except Exception as error:  # noqa: BLE001 - the test looks at every outcome
                results[i] = error
            finally:
                _db.session.remove()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racing thread hung"
    return results
