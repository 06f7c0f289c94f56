"""A real SMTP server for tests: aiosmtpd on 127.0.0.1, on a free port, collecting messages.

def test_x(smtp_server):        # app.config points at it for the test
    ...deliver...
    assert smtp_server.messages[0]["Subject"] == "..."
    smtp_server.stop()           # now connections are refused
    smtp_server.start()          # back, on the same port
"""

import email
import socket
import threading
from email import policy

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Collector:
    """aiosmtpd handler that keeps every accepted message (parsed) in `messages`."""

    def __init__(self):
        self.messages = []
        self.envelopes = []
        self.refuse = {}  # address -> SMTP reply to RCPT TO, e.g. "550 5.1.1 No such user"
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, port=None, **controller_options):
        self.port = port or free_port()
        self.handler = Collector()
        self.options = controller_options
        self.controller = None

    @property
    def messages(self):
        return self.handler.messages

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **self.options)
        self.controller.start()
        return self

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def password_checker(username, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login.decode() == username and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False)

    return authenticate


@pytest.fixture()
def smtp_server(app, monkeypatch):
    server = SmtpServer().start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", server.port)
    monkeypatch.setitem(app.config, "MAIL_TIMEOUT", 5)
    yield server
    server.stop()


@pytest.fixture()
def no_mail_server(app, monkeypatch):
    """MAIL_SERVER unset: mail is written as .eml files."""
    monkeypatch.setitem(app.config, "MAIL_SERVER", None)


@pytest.fixture(scope="session")
def outbox_web_app(database_url):
    """An app with test-only routes that queue a pledge receipt, then succeed, refuse or crash."""
    from flask import Blueprint, request

    from crowdfund import create_app
    from crowdfund.extensions import db
    from crowdfund.models import Pledge
    from crowdfund.services import notifications
    from tests.conftest import FreshContextClient

    web = create_app("testing", SQLALCHEMY_DATABASE_URI=database_url, WTF_CSRF_ENABLED=False)
    web.test_client_class = FreshContextClient
    bp = Blueprint("outbox_test", __name__)

    @bp.post("/_test/pledges/<int:pledge_id>/receipt")
    def receipt(pledge_id):
        notifications.pledge_receipt(db.session.get(Pledge, pledge_id))
        if request.args.get("commit"):
            db.session.commit()  # as a workflow's step does before the request goes on
        outcome = request.args.get("outcome", "ok")
        if outcome == "refuse":
            return "refused", 422
        if outcome == "crash":
            raise RuntimeError("the view failed after queueing mail")
        return "queued"

    web.register_blueprint(bp)
    yield web
    with web.app_context():
        db.session.remove()
        db.engine.dispose()
