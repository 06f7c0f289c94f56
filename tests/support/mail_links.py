"""The links in the mail an account was sent, read as its owner would: from the delivered
message (instance/mail/<id>.eml, written by the outbox's delivery after the request's commit)."""

import email
import re
from email import policy
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from crowdfund.extensions import db
from crowdfund.models import OutboxMessage

LINK = re.compile(r"https?://\S+")


def delivered(to_address, *, app=None):
    """Every message delivered to `to_address`, oldest first, parsed from its .eml file."""
    app = app or current_app
    ids = db.session.scalars(
        select(OutboxMessage.id).where(OutboxMessage.to_address == to_address).order_by(OutboxMessage.id)
    ).all()
    messages = []
    for message_id in ids:
        path = Path(app.instance_path) / "mail" / f"{message_id:08d}.eml"
        assert path.exists(), f"message {message_id} to {to_address} was not delivered"
        messages.append(email.message_from_bytes(path.read_bytes(), policy=policy.default))
    return messages


def last_mail(to_address, *, app=None):
    messages = delivered(to_address, app=app)
    assert messages, f"no mail to {to_address}"
    return messages[-1]


def body_of(message):
    return message.get_body(preferencelist=("plain",)).get_content()


def link_in(message, path_part):
    """The one link in `message` whose address contains `path_part` (e.g. "/account/reset/")."""
    links = [link for link in LINK.findall(body_of(message)) if path_part in link]
    assert len(links) == 1, (path_part, body_of(message))
    return links[0]


def path_of(link):
    """The link without its scheme and host, for the Flask test client."""
    return re.sub(r"^https?://[^/]+", "", link)


def verify_by_mail(client, to_address):
    """Follow the confirmation link mailed to `to_address` with `client`, as its owner would."""
    link = link_in(last_mail(to_address), "/account/verify/")
    response = client.get(path_of(link))
    assert response.status_code == 302, response.get_data(as_text=True)
    return response
