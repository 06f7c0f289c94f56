"""Mail about a material change (services/material_changes.py), and the signed link in it.

- `ask_to_reconfirm`: each commitment that must be reconfirmed: what changed, until when,
  and a link to a page with the button (the link only shows the page; the POST acts);
- `not_reconfirmed`: the investor whose commitment was cancelled for want of reconfirmation
  (the reason, as Reg CF 227.304(c) asks, and that the money is on its way back).

The link carries the investor and is tied to the one pledge (signed_links.py, its own salt);
it lasts long enough to outlive any reconfirmation period (LINK_DAYS past it).
"""

from flask_babel import gettext as _
from sqlalchemy import select

from ..database import one_of
from ..errors import NotFound
from ..extensions import db
from ..models import Pledge
from . import signed_links
from .mail_choices import external_url
from .mail_outbox import _queue_many, _queue_one, _users

PURPOSE = "reconfirm"
LINK_DAYS = 60


def _fingerprint(pledge_id):
    return signed_links.fingerprint(PURPOSE, pledge_id)


def link(user, pledge_id):
    token = signed_links.make(PURPOSE, user, _fingerprint(pledge_id))
    return external_url("pledges.reconfirm_link", pledge_id=pledge_id, token=token)


def investor_of(pledge_id, token):
    """The investor a reconfirmation link names, if it was made for this pledge; LinkRefused
    otherwise (NotFound when there is no such pledge)."""
    if db.session.get(Pledge, pledge_id) is None:
        raise NotFound(_("There is no such pledge."))
    return signed_links.read(
        PURPOSE, token, max_age=LINK_DAYS * 24 * 3600, fingerprint_of=lambda _user: _fingerprint(pledge_id)
    )


def ask_to_reconfirm(project, change, pledge_ids):
    rows = []
    for start in range(0, len(pledge_ids), 1000):
        rows += db.session.execute(
            select(Pledge.id, Pledge.backer_id, Pledge.amount, Pledge.currency, Pledge.shares).where(
                one_of(Pledge.id, pledge_ids[start : start + 1000])
            )
        ).all()
    users = _users(row.backer_id for row in rows)

    def subject():
        return _("%(title)s has changed: please reconfirm your investment", title=project.title)

    return _queue_many(
        [
            (
                f"material_change:{change.id}:{row.id}",
                users[row.backer_id],
                "mail/material_change.txt",
                subject,
                {"project": project, "change": change, "pledge": row, "link": link(users[row.backer_id], row.id)},
            )
            for row in rows
            if row.backer_id in users
        ]
    )


def not_reconfirmed(pledge, change):
    project = pledge.project
    return _queue_one(
        f"pledge_not_reconfirmed:{pledge.id}",
        pledge.backer,
        "mail/pledge_not_reconfirmed.txt",
        lambda: _("Your investment in %(title)s was cancelled and refunded", title=project.title),
        pledge=pledge,
        project=project,
        change=change,
    )
