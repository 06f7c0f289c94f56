"""Every connection of the app killed every 0.7 s while backers pledge, as in a failover."""

import re
import secrets
import threading
import time
from collections import Counter

import psycopg
import pytest
import requests
from sqlalchemy import select

from crowdfund.extensions import db
from crowdfund.models import OutboxMessage, Pledge, SandboxOperation
from crowdfund.services import api_tokens
from tests.support import factories
from tests.support.builders import live_reward_project

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

KILL_EVERY = 0.7
KILL_FOR = 6.0
TERMINATE_OTHERS = (
    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
)


class ConnectionKiller(threading.Thread):
    """Terminates every other connection to the database every KILL_EVERY seconds."""

    def __init__(self, database_url):
        super().__init__(name="connection-killer", daemon=True)
        self.url = database_url.replace("postgresql+psycopg://", "postgresql://")
        self.stop = threading.Event()
        self.killed = 0

    def run(self):
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self.stop.wait(KILL_EVERY):
                self.killed += conn.execute(TERMINATE_OTHERS).fetchone()[0]


def hidden(page, name):
    match = re.search(rf'name="{name}" type="hidden" value="([^"]+)"', page)
    return match.group(1) if match else None


def api_backer(server, email, stop, answers):
    while not stop.is_set():
        key = f"api-{secrets.token_hex(8)}"
        response = requests.post(
            f"{server.url}/api/v1/projects/{server.project_id}/pledges",
            json={"tier_id": server.tier_id, "payment_method": "pm_card_visa"},
            headers={"Authorization": f"Bearer {server.tokens[email]}", "Idempotency-Key": key},
            timeout=60,
        )
        answers.append(("api", key, response))


def web_backer(server, email, stop, answers):
    browser, signed_in = requests.Session(), False
    while not signed_in and not stop.is_set():  # signing in may meet the outage too: a person tries again
        login = browser.get(f"{server.url}/account/login", timeout=60)
        answers.append(("page", None, login))
        if login.status_code == 200:
            response = browser.post(
                f"{server.url}/account/login",
                allow_redirects=False,
                timeout=60,
                data={"email": email, "password": factories.PASSWORD, "csrf_token": hidden(login.text, "csrf_token")},
            )
            answers.append(("page", None, response))
            signed_in = response.status_code == 302
    back = f"{server.url}/p/{server.slug}/back"
    while not stop.is_set():
        form = browser.get(back, timeout=60)
        answers.append(("page", None, form))
        if form.status_code != 200:
            continue
        key = hidden(form.text, "idempotency_key")
        response = browser.post(
            back,
            data={
                "csrf_token": hidden(form.text, "csrf_token"),
                "idempotency_key": key,
                "tier_id": str(server.tier_id),
                "quantity": "1",
                "payment_method": "pm_card_visa",
            },
            allow_redirects=False,
            timeout=60,
        )
        answers.append(("web", key, response))


def test_no_pledge_answers_500_while_connections_are_killed(live):
    server = live()
    app = server.app
    with app.app_context():
        make = factories.Factories(db)
        project = live_reward_project(make, db, tiers=[{"title": "Mug", "price": 5_000, "quantity": 100_000}])
        server.project_id, server.slug, server.tier_id = project.id, project.slug, project.tiers[0].id
        api_people = [make.user() for _ in range(4)]
        web_people = [make.user() for _ in range(4)]
        server.tokens = {}
        for person in api_people:
            server.tokens[person.email] = api_tokens.issue_token(person.email, factories.PASSWORD)[0]
        db.session.commit()
        api_emails, web_emails = [p.email for p in api_people], [p.email for p in web_people]
        db.session.remove()

    stop, answers = threading.Event(), []
    backers = [threading.Thread(target=api_backer, args=(server, email, stop, answers)) for email in api_emails] + [
        threading.Thread(target=web_backer, args=(server, email, stop, answers)) for email in web_emails
    ]
    killer = ConnectionKiller(server.database_url)
    for thread in backers:
        thread.start()
    killer.start()
    time.sleep(KILL_FOR)
    killer.stop.set()
    killer.join(timeout=10)
    stop.set()
    for thread in backers:
        thread.join(timeout=120)

    statuses = Counter((kind, response.status_code) for kind, _key, response in answers)
    assert killer.killed >= 5, "the killer never got to kill"
    assert not [r for _kind, _key, r in answers if r.status_code >= 500 and r.status_code != 503], statuses
    assert statuses[("api", 201)] + statuses[("web", 302)] > 0, statuses
    for kind, _key, response in answers:
        if response.status_code == 503:
            assert response.headers["Retry-After"].isdigit()
            if kind == "api":
                assert response.json()["error"]["code"] == "payment_being_checked"
            elif kind == "web":
                assert "We are checking your payment" in response.text
            else:
                assert "We will be right back" in response.text
    acknowledged = [
        response.json()["id"] for kind, _key, response in answers if kind == "api" and response.status_code == 201
    ] + [
        int(response.headers["Location"].rsplit("/", 1)[1])
        for kind, _key, response in answers
        if kind == "web" and response.status_code == 302
    ]

    runner = app.test_cli_runner()
    reconciled = runner.invoke(args=["pledges", "reconcile", "--older-than", "0"])
    assert reconciled.exit_code == 0, reconciled.output

    with app.app_context():
        pledges = db.session.scalars(select(Pledge)).all()
        assert {pledge.status for pledge in pledges} <= {"held", "failed"}, Counter(p.status for p in pledges)
        held = {pledge.id for pledge in pledges if pledge.status == "held"}
        assert set(acknowledged) <= held
        # Each backer is told: a receipt for every pledge held, whoever finished it.
        receipts = set(
            db.session.scalars(
                select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.like("pledge_receipt:%"))
            )
        )
        assert receipts == {f"pledge_receipt:{pledge_id}" for pledge_id in held}
        # Never charged twice: one successful charge per pledge held, none for the others.
        charged = db.session.scalars(
            select(SandboxOperation.idempotency_key).where(
                SandboxOperation.kind == "charge", SandboxOperation.status == "succeeded"
            )
        ).all()
        assert sorted(charged) == sorted(f"pledge-{pledge_id}" for pledge_id in held)
        db.session.remove()
    verified = runner.invoke(args=["ledger", "verify"])
    assert verified.exit_code == 0 and "Ledger OK" in verified.output, verified.output
