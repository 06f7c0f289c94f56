"""Many requests at once in one web process, as a gthread worker serves them: pledges over the
JSON API (many charges waiting on the processor at the same time), a campaign settling, and
anonymous visitors on cached pages, all in threads of one process against a live server,
two requests running at a time (WEB_ACTIVE_THREADS) and the rest waiting their turn, but for
those waiting on the processor.

Nothing is lost or oversold, every pledge is charged once, the settlement completes, the
ledger balances, and every visitor gets the page they asked for.
"""

import random
import re
import secrets
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select

from crowdfund import after_commit, ledger
from crowdfund.extensions import db
from crowdfund.models import LedgerTransfer, Pledge, RewardTier, SandboxOperation, Settlement
from crowdfund.payments import sandbox as sandbox_module
from crowdfund.request_gate import RequestGate
from crowdfund.services.campaigns import close_due
from crowdfund.workflows import checkout
from tests.support.builders import live_reward_project
from tests.support.factories import PASSWORD, Factories
from tests.support.live_server import serving

LATENCY = 0.05  # each processor call; long enough for calls from different threads to overlap
ACTIVE = 2  # requests running at once (WEB_ACTIVE_THREADS), of 16 threads
PLEDGERS, PLEDGES_EACH, HOT_UNITS, VISITORS, SETTLED_PLEDGES = 12, 5, 25, 3, 8


class InFlight:
    """Stands in for the sandbox module's `time`: sleeps, and counts the processor calls
    waiting at the same moment."""

    def __init__(self):
        self._lock = threading.Lock()
        self.now = self.most = 0

    def sleep(self, seconds):
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)
        try:
            time.sleep(seconds)
        finally:
            with self._lock:
                self.now -= 1


@pytest.fixture()
def server(tmp_path, monkeypatch):
    in_flight = InFlight()
    monkeypatch.setattr(sandbox_module, "time", in_flight)
    most_running = []
    take = RequestGate._take

    def counted_take(gate, **kwargs):
        took = take(gate, **kwargs)
        most_running.append(gate.in_use)
        return took

    monkeypatch.setattr(RequestGate, "_take", counted_take)
    with serving(
        tmp_path / "live",
        SANDBOX_LATENCY=LATENCY,
        SANDBOX_LATENCY_JITTER=0.3,
        PAGE_CACHE_SECONDS=10,
        WEB_THREADS=16,
        WEB_ACTIVE_THREADS=ACTIVE,
    ) as live:
        live.in_flight, live.most_running = in_flight, most_running
        yield live


def api_token(server, email):
    response = requests.post(f"{server.url}/api/v1/tokens", json={"email": email, "password": PASSWORD}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["token"]


def run_threads(targets):
    """Start every callable in `targets` at once (each in a thread); re-raise the first failure."""
    barrier, failures = threading.Barrier(len(targets)), []

    def run(target):
        try:
            barrier.wait(timeout=30)
            target()
        except BaseException as error:  # noqa: BLE001 - reported below, with the others
            failures.append(error)

    threads = [threading.Thread(target=run, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if failures:
        raise failures[0]


@pytest.mark.postgres_only
def test_pledges_settlement_and_cached_pages_at_once_in_one_process(server):
    app = server.app
    with app.app_context():
        make = Factories(db)
        hot = live_reward_project(make, db, tiers=[{"title": "Hot", "price": 2_500, "quantity": HOT_UNITS}])
        spread = [
            live_reward_project(make, db, tiers=[{"title": "Open", "price": 1_000, "quantity": None}]) for _ in range(3)
        ]
        # A campaign closing as the others take pledges: it misses its goal, so every pledge is refunded.
        closing = live_reward_project(make, db, deadline_in=timedelta(days=1))
        for n in range(SETTLED_PLEDGES):
            held = checkout.place_pledge(
                make.user(),
                closing,
                idempotency_key=f"settle-{n}",
                payment_method="pm_card_visa",
                tier_id=closing.tiers[0].id,
            )
            assert held.status == "held"
        backers = [make.user().email for _ in range(PLEDGERS)]
        targets = {"hot": (hot.id, hot.tiers[0].id)} | {f"open{i}": (p.id, p.tiers[0].id) for i, p in enumerate(spread)}
        pages = {f"/p/{p.slug}": p.title for p in [hot, *spread]}
        closing_id, closing_deadline, hot_tier = closing.id, closing.deadline, hot.tiers[0].id
        db.session.remove()
    tokens = [api_token(server, email) for email in backers]

    acknowledged, answers, views = [], Counter(), Counter()
    pledging_done = threading.Event()

    def pledger(token, seed):
        rng, session = random.Random(seed), requests.Session()
        for n in range(PLEDGES_EACH):
            name = "hot" if n % 2 == 0 else f"open{rng.randrange(3)}"
            project_id, tier_id = targets[name]
            response = session.post(
                f"{server.url}/api/v1/projects/{project_id}/pledges",
                timeout=60,
                json={"tier_id": tier_id, "quantity": 1, "payment_method": "pm_card_visa"},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": secrets.token_urlsafe(18)},
            )
            answers[response.status_code] += 1
            if response.status_code == 201:
                assert response.json()["status"] == "held", response.text
                acknowledged.append(response.json()["id"])
            else:
                assert (response.status_code, response.json()["error"]["code"]) == (409, "sold_out"), response.text

    def visitor(seed):
        rng, session = random.Random(seed), requests.Session()
        while not pledging_done.is_set():
            path = rng.choice(sorted(pages))
            response = session.get(server.url + path, timeout=60)
            assert response.status_code == 200, (path, response.status_code)
            title = re.search(r"<h1[^>]*>\s*([^<]+?)\s*<", response.text)
            assert title and title.group(1) == pages[path], (path, title and title.group(1))
            views[path] += 1

    def settle():
        with app.app_context():
            assert close_due(now=closing_deadline + timedelta(seconds=1)) == 1
            db.session.commit()
            after_commit.run()  # no broker: the settlement runs here, to the end
            db.session.remove()

    def pledgers():
        try:
            run_threads([lambda t=token, i=i: pledger(t, i) for i, token in enumerate(tokens)])
        finally:
            pledging_done.set()

    run_threads([pledgers, settle, *(lambda i=i: visitor(1000 + i) for i in range(VISITORS))])

    assert set(answers) <= {201, 409}, answers
    # Charges waited on the processor side by side, more of them than requests may run at
    # once: each stepped out of its turn while it waited.
    assert server.in_flight.most > ACTIVE
    assert max(server.most_running) == ACTIVE
    assert sum(views.values()) >= len(pages)
    with app.app_context():
        # Nothing lost: every acknowledged pledge is held, with its ledger hold.
        held = db.session.scalars(
            select(Pledge.id)
            .join(LedgerTransfer, LedgerTransfer.id == func.concat("pledge:", Pledge.id, ":hold"))
            .where(Pledge.id.in_(acknowledged), Pledge.status == "held")
        ).all()
        assert len(acknowledged) == len(set(acknowledged)) == len(held)
        # Nothing oversold: the hot tier sold out exactly.
        tier = db.session.get(RewardTier, hot_tier)
        units = db.session.scalar(
            select(func.coalesce(func.sum(Pledge.quantity), 0)).where(
                Pledge.tier_id == hot_tier, Pledge.status.in_(("pending", "held"))
            )
        )
        assert tier.sold == units == HOT_UNITS
        # Every pledge charged once, and the closed campaign's refunded once each.
        charges = db.session.scalar(
            select(func.count())
            .select_from(SandboxOperation)
            .where(SandboxOperation.kind == "charge", SandboxOperation.status == "succeeded")
        )
        assert charges == len(acknowledged) + SETTLED_PLEDGES
        settlement = db.session.scalar(select(Settlement).where(Settlement.project_id == closing_id))
        assert settlement.status == "completed"
        statuses = dict(
            db.session.execute(
                select(Pledge.status, func.count()).where(Pledge.project_id == closing_id).group_by(Pledge.status)
            ).all()
        )
        assert statuses == {"refunded": SETTLED_PLEDGES}
        refunds = db.session.scalar(
            select(func.count(func.distinct(SandboxOperation.reference))).where(
                SandboxOperation.kind == "refund", SandboxOperation.status == "succeeded"
            )
        )
        assert refunds == SETTLED_PLEDGES
        assert ledger.verify() == []
        db.session.remove()
