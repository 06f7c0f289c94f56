"""Delivering the sandbox processor's webhook events (`sandbox_webhook_events`).

How a delivery starts: when SandboxGateway commits an event it calls its hook,
`wake_delivery` (installed by crowdfund/web/sandbox), which asks for this sweep once the
caller's own transaction commits (`after_commit.start_sweep`). So the pledge an event is
about is in our database before the event arrives, as it would be with Stripe. The
periodic run (PERIODIC: every 5 s under Celery beat) picks up the rest: retries that came
due, events held back, events whose caller rolled back or runs no after-commit work (a
job, the CLI). `flask sandbox deliver-webhooks` and `deliver_due(app)` run one by hand.

What a run does: claim the due events (undelivered, attempts left, `deliver_after`
passed), oldest first, pushing their `deliver_after` CLAIM_SECONDS ahead in the same
statement, so a concurrent run skips them and the events of a run that died come back.
Each body is signed as `SandboxGateway.parse_webhook` verifies it (`Sandbox-Signature`:
HMAC-SHA256 of the body) and POSTed to /webhooks/sandbox: through this app's own WSGI
stack, in-process, so the real endpoint code runs; or, with SANDBOX_WEBHOOK_URL set, over
HTTP to that address. A 2xx answer marks the event delivered; anything else, or no
answer, counts an attempt and waits RETRY_BASE * 2**attempts seconds, until
SANDBOX_WEBHOOK_MAX_ATTEMPTS, after which the event stays undelivered with its error.

At least once: a run that dies between the POST and recording it sends the event again;
the endpoint handles each event id once (services/webhooks.receive_event).

SANDBOX_WEBHOOK_CHAOS (tests, demos): like a processor on a bad day, a run delivers some
events twice, its batch in shuffled order, and holds some back for a later run. Seeded
(the setting itself when it is a number, else 0), so a test sees the same pattern each time.
"""

import json
import logging
import random
from dataclasses import asdict, dataclass
from datetime import timedelta

import click
import requests
from flask import current_app, has_app_context
from flask.cli import AppGroup
from sqlalchemy import func, select, update
from werkzeug.test import Client

from .. import after_commit
from ..database import one_of
from ..domain.clock import utcnow
from ..extensions import db
from ..models import SandboxWebhookEvent
from . import job

log = logging.getLogger(__name__)

JOB = "deliver_sandbox_webhooks"
ENDPOINT = "/webhooks/sandbox"
BATCH = 100
CLAIM_SECONDS = 60  # a run's hold on the events it claimed, should it die
RETRY_BASE = 5  # seconds before the 2nd attempt; doubles with each failure after it
HTTP_TIMEOUT = 10
# Chaos: the share of events held back to a later run, and of those sent twice.
HOLD_BACK, TWICE, HOLD_SECONDS = 0.25, 0.3, (1.0, 10.0)

_EVENTS = SandboxWebhookEvent.__table__


@dataclass
class DeliveryReport:
    delivered: int = 0
    failed: int = 0  # failed this run, will be tried again
    gave_up: int = 0  # failed this run and has no attempts left
    held_back: int = 0  # chaos: left for a later run
    sent_twice: int = 0  # chaos: POSTed a second time in the same run

    def as_dict(self):
        return asdict(self)


@job(JOB, sweep=True)
def deliver_sandbox_webhooks():
    return deliver_due(current_app._get_current_object()).as_dict()


def wake_delivery():
    """SandboxGateway's hook after it commits events: deliver them once the caller's own
    transaction has committed. Outside an app context nothing waits for a commit: the
    periodic run delivers them."""
    if has_app_context():
        after_commit.start_sweep(JOB)


def deliver_due(app, now=None, *, limit=BATCH, rng=None):
    """Deliver every event due at `now` (default: the time of each round). Returns a
    DeliveryReport. `rng`: the chaos pattern's random numbers (default: seeded per app)."""
    report = DeliveryReport()
    if app.config.get("PAYMENT_GATEWAY") != "sandbox":
        return report
    from ..payments import get_gateway

    with app.app_context():
        engine = db.engine
    gateway = get_gateway(app)
    max_attempts = int(app.config.get("SANDBOX_WEBHOOK_MAX_ATTEMPTS") or 8)
    chaos = bool(app.config.get("SANDBOX_WEBHOOK_CHAOS"))
    if chaos and rng is None:
        rng = _chaos_random(app)
    while True:
        moment = now or utcnow()
        claimed = _claim(engine, moment, limit, max_attempts)
        sends = claimed
        if chaos:
            sends = _shake(engine, claimed, moment, rng, report)
        posted, delivered = set(), set()
        for event in sends:
            body = json.dumps(event["payload"], separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json", "Sandbox-Signature": gateway.sign(body)}
            error = _post(app, body, headers)
            if event["id"] in posted:
                report.sent_twice += 1
            posted.add(event["id"])
            if event["id"] in delivered:
                continue  # a repeat of a delivered event: its answer changes nothing
            if error is None:
                delivered.add(event["id"])  # recorded for the whole batch at once, below
                report.delivered += 1
                continue
            attempts = event["attempts"] + 1
            _record(
                engine,
                event["id"],
                last_error=error,
                deliver_after=moment + timedelta(seconds=RETRY_BASE * 2 ** event["attempts"]),
            )
            event["attempts"] = attempts
            if attempts >= max_attempts:
                report.gave_up += 1
                log.error(
                    "Sandbox webhook %s (%s): giving up after %s attempts: %s",
                    event["id"],
                    event["payload"].get("type"),
                    attempts,
                    error,
                )
            else:
                report.failed += 1
                log.warning("Sandbox webhook %s not delivered (attempt %s): %s", event["id"], attempts, error)
        if delivered:
            # One statement for the batch: a run that dies before it sends them again
            # (at least once), and the endpoint handles each event id once.
            with engine.begin() as conn:
                conn.execute(
                    update(_EVENTS)
                    .where(one_of(_EVENTS.c.id, sorted(delivered), conn.dialect.name))
                    .values(delivered_at=moment, last_error=None, attempts=_EVENTS.c.attempts + 1)
                )
        if len(claimed) < limit:
            return report


def _claim(engine, now, limit, max_attempts):
    """Claim up to `limit` due events in ONE statement (atomic on SQLite too): their
    `deliver_after` moves CLAIM_SECONDS ahead. PostgreSQL skips rows another run is claiming."""
    due = (
        select(_EVENTS.c.id)
        .where(_EVENTS.c.delivered_at.is_(None), _EVENTS.c.attempts < max_attempts, _EVENTS.c.deliver_after <= now)
        .order_by(_EVENTS.c.created_at, _EVENTS.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    claim = (
        update(_EVENTS)
        .where(_EVENTS.c.id.in_(due))
        .values(deliver_after=now + timedelta(seconds=CLAIM_SECONDS))
        .returning(_EVENTS.c.id, _EVENTS.c.payload, _EVENTS.c.attempts, _EVENTS.c.created_at)
    )
    with engine.begin() as conn:
        rows = [dict(row) for row in conn.execute(claim).mappings()]
    # RETURNING comes in no particular order: deliver oldest first.
    return sorted(rows, key=lambda row: (row["created_at"], row["id"]))


def _shake(engine, events, now, rng, report):
    """Chaos: the events to POST this run, some held back, some twice, in shuffled order."""
    held = [event for event in events if rng.random() < HOLD_BACK]
    if held:
        later = now + timedelta(seconds=rng.uniform(*HOLD_SECONDS))
        with engine.begin() as conn:
            conn.execute(
                update(_EVENTS)
                .where(one_of(_EVENTS.c.id, [e["id"] for e in held], conn.dialect.name))
                .values(deliver_after=later)
            )
        report.held_back += len(held)
    sends = [event for event in events if event not in held]
    sends += [event for event in sends if rng.random() < TWICE]
    rng.shuffle(sends)
    return sends


def _chaos_random(app):
    setting = app.config.get("SANDBOX_WEBHOOK_CHAOS")
    seed = setting if isinstance(setting, int) and not isinstance(setting, bool) else 0
    cached = app.extensions.get("sandbox_webhook_chaos")
    if cached is None or cached[0] != seed:
        cached = app.extensions["sandbox_webhook_chaos"] = (seed, random.Random(seed))
    return cached[1]


def _post(app, body, headers):
    """POST one signed event; None when it was accepted (2xx), else what went wrong."""
    url = app.config.get("SANDBOX_WEBHOOK_URL")
    try:
        if url:
            response = requests.post(url, data=body, headers=headers, timeout=HTTP_TIMEOUT)
            status, text = response.status_code, response.text
        else:
            # A fresh app context: the endpoint gets a database session of its own, as a
            # request from outside would, whatever context this run was called in.
            with app.app_context():
                response = Client(app).post(ENDPOINT, data=body, headers=headers)
                status, text = response.status_code, response.get_data(as_text=True)
    except Exception as error:  # noqa: BLE001  (every failure is recorded on the event)
        return f"{type(error).__name__}: {error}"[:2000]
    if 200 <= status < 300:
        return None
    return f"HTTP {status}: {text[:500]}"


def _record(engine, event_id, **values):
    """Record one POST's outcome (a failure never undoes a delivery made meanwhile)."""
    statement = update(_EVENTS).where(_EVENTS.c.id == event_id).values(attempts=_EVENTS.c.attempts + 1, **values)
    if "delivered_at" not in values:
        statement = statement.where(_EVENTS.c.delivered_at.is_(None))
    with engine.begin() as conn:
        conn.execute(statement)


def event_counts(max_attempts):
    """{"waiting": n, "given_up": n, "delivered": n} over every sandbox webhook event."""
    undelivered = _EVENTS.c.delivered_at.is_(None)
    count = select(func.count()).select_from(_EVENTS)
    return {
        "waiting": db.session.scalar(count.where(undelivered, _EVENTS.c.attempts < max_attempts)),
        "given_up": db.session.scalar(count.where(undelivered, _EVENTS.c.attempts >= max_attempts)),
        "delivered": db.session.scalar(count.where(_EVENTS.c.delivered_at.is_not(None))),
    }


# ---------------------------------------------------------------------------- CLI

sandbox_cli = AppGroup("sandbox", help="The sandbox payment processor.")


@sandbox_cli.command("deliver-webhooks")
def deliver_command():
    """Send the sandbox's due webhook events to /webhooks/sandbox now."""
    app = current_app._get_current_object()
    report = deliver_due(app)
    counts = event_counts(int(app.config.get("SANDBOX_WEBHOOK_MAX_ATTEMPTS") or 8))
    db.session.rollback()
    click.echo(f"Delivered {report.delivered}, failed {report.failed} (will retry), gave up on {report.gave_up}.")
    click.echo(f"Events: {counts['waiting']} waiting, {counts['given_up']} given up, {counts['delivered']} delivered.")
