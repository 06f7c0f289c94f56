"""Helpers for the sandbox processor's tests: charges, its book, its webhook queue, and a
small HTTP server standing in for a webhook endpoint elsewhere."""

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sqlalchemy import select

from crowdfund.models import SandboxOperation, SandboxWebhookEvent, WebhookEvent

RETURN_URL = "http://localhost/pledges/5/return"


def key(label="charge"):
    return f"test:{label}:{uuid.uuid4().hex}"


def pay(
    gateway,
    method="pm_card_visa",
    *,
    amount=5000,
    currency="CNY",
    idempotency_key=None,
    return_url=RETURN_URL,
    metadata=None,
):
    return gateway.charge(
        amount=amount,
        currency=currency,
        payment_method=method,
        idempotency_key=idempotency_key or key(),
        transfer_group="project-2",
        description="Pledge 5 to project 2",
        return_url=return_url,
        metadata=metadata or {"pledge_id": 5, "project_id": 2},
    )


def operation(db, ref):
    db.session.rollback()  # see what the processor committed on its own connection
    return db.session.get(SandboxOperation, ref)


def queued(db, **where):
    """The sandbox's webhook events, oldest first."""
    db.session.rollback()
    query = select(SandboxWebhookEvent).order_by(SandboxWebhookEvent.created_at, SandboxWebhookEvent.id)
    for column, value in where.items():
        query = query.where(getattr(SandboxWebhookEvent, column) == value)
    return db.session.scalars(query).all()


def received(db):
    """The event ids our webhook endpoint recorded (once each)."""
    db.session.rollback()
    return set(db.session.scalars(select(WebhookEvent.id)))


class Endpoint:
    """A webhook endpoint on a real port: records each POST and answers with the queued
    statuses (then 200)."""

    def __init__(self):
        self.posts, self.statuses = [], []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                endpoint.posts.append((self.path, dict(self.headers), body))
                status = endpoint.statuses.pop(0) if endpoint.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"status": status}).encode())

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/sandbox"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def event_ids(self):
        return [json.loads(body)["id"] for _, _, body in self.posts]

    def close(self):
        self.server.shutdown()
        self.server.server_close()
