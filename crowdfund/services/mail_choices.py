"""Which mail a person gets, and the links in every message that change it.

Optional mail (KINDS) can be turned off, one kind at a time: on /account/notifications, in
the API (`/api/v1/account/notifications`), or with the link every such message carries (in
its text and in its `List-Unsubscribe` header, with `List-Unsubscribe-Post` so a mail
program's own "unsubscribe" button works with one POST, RFC 8058). A kind is on until the
person turns it off (a `MailOptOut` row).

Mail that must reach the person whatever they chose (receipts, refunds, password reset,
security and regulatory notices) carries a link too, of the kind ALL: it leads to the same
choices, and its one-click POST turns every optional kind off (what a person who presses
"unsubscribe" on such a message asks for; the message itself keeps coming).

The links are signed (services/signed_links.py), name one account and one kind (a link for
one kind cannot stop another), and last LINK_DAYS. Links written outside a web request (by
a sweep) start with MAIL_LINK_BASE_URL.
"""

from urllib.parse import urljoin, urlsplit

from flask import current_app, has_request_context, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from sqlalchemy import delete, select

from ..database import one_of
from ..extensions import db
from ..models import MailOptOut, utcnow
from . import signed_links

# kind -> (what the mail is, said on the choices page). The order is the page's.
KINDS = {
    "campaign_reminders": _l("Reminders before a campaign you asked about ends"),
    "project_updates": _l("Updates from the founders of campaigns you backed"),
    "project_changes": _l("Changes to campaigns you back, made after their approval"),
    "goal_reached": _l("When a campaign you backed reaches its goal"),
    "stretch_goals": _l("When a campaign you backed unlocks a stretch goal"),
    "comment_questions": _l("New questions on your campaigns"),
    "comment_answers": _l("Answers to your questions"),
}
# kind -> what "no more mail about ..." says.
ABOUT = {
    "campaign_reminders": _l("reminders before campaigns end"),
    "project_updates": _l("updates from campaigns you backed"),
    "project_changes": _l("changes to campaigns you back"),
    "goal_reached": _l("campaigns you backed reaching their goal"),
    "stretch_goals": _l("stretch goals unlocked by campaigns you backed"),
    "comment_questions": _l("new questions on your campaigns"),
    "comment_answers": _l("answers to your questions"),
}
ALL = "all"  # the link in mail nobody can turn off: the choices, and "stop every optional kind"
LINK_DAYS = 365


def is_kind(kind):
    return kind in KINDS or kind == ALL


def label(kind):
    if kind == ALL:
        return _("every optional email")
    return str(ABOUT[kind])


# --- the choices -----------------------------------------------------------------------------------


def opted_out(user_id, kind):
    return (
        db.session.scalar(select(MailOptOut.id).where(MailOptOut.user_id == user_id, MailOptOut.kind == kind))
        is not None
    )


def opted_out_ids(user_ids, kind):
    """The ids among `user_ids` that turned `kind` off (one query per thousand)."""
    ids, found = sorted(set(user_ids)), set()
    for start in range(0, len(ids), 1000):
        found.update(
            db.session.scalars(
                select(MailOptOut.user_id).where(
                    MailOptOut.kind == kind, one_of(MailOptOut.user_id, ids[start : start + 1000])
                )
            )
        )
    return found


def choices(user):
    """{kind: True when the person gets it}, for every kind, in the page's order."""
    off = set(db.session.scalars(select(MailOptOut.kind).where(MailOptOut.user_id == user.id)))
    return {kind: kind not in off for kind in KINDS}


def choose(user, wanted):
    """Turn each kind in `wanted` ({kind: bool}) on or off; kinds not named stay as they were.
    Returns the choices after. Unknown kinds are the caller's to refuse (`unknown_kinds`)."""
    now = choices(user)
    for kind, on in wanted.items():
        if kind not in KINDS or now[kind] == bool(on):
            continue
        if on:
            db.session.execute(delete(MailOptOut).where(MailOptOut.user_id == user.id, MailOptOut.kind == kind))
        else:
            db.session.add(MailOptOut(user_id=user.id, kind=kind, created_at=utcnow()))
        now[kind] = bool(on)
    db.session.flush()
    return now


def unknown_kinds(names):
    return [name for name in names if name not in KINDS]


def unsubscribe(user, kind):
    """No more mail of `kind` (ALL: of every optional kind); doing it again changes nothing."""
    return choose(user, {k: False for k in (KINDS if kind == ALL else [kind])})


# --- the links -------------------------------------------------------------------------------------


def _purpose(kind):
    return f"unsubscribe.{kind}"  # a link for one kind of mail cannot stop another


def _fingerprint(user):
    return signed_links.fingerprint("unsubscribe", user.id)


def link(user, kind):
    """The address that stops `kind` for `user` (ALL for mail that cannot be turned off)."""
    token = signed_links.make(_purpose(kind), user, _fingerprint(user))
    return external_url("notifications.unsubscribe", kind=kind, token=token)


def reader_of(kind, token):
    """The account an unsubscribe link names; LinkRefused if it is not one of ours."""
    if not is_kind(kind):
        raise signed_links.LinkRefused(_("This link is not valid, or it was already used. Ask for a new one."))
    return signed_links.read(_purpose(kind), token, max_age=LINK_DAYS * 24 * 3600, fingerprint_of=_fingerprint)


def external_url(endpoint, **values):
    """An absolute address for mail: MAIL_LINK_BASE_URL when set, else the request's own host
    (or, outside a request, http://localhost:5000)."""
    base = current_app.config.get("MAIL_LINK_BASE_URL")
    if base is None and has_request_context():
        return url_for(endpoint, _external=True, **values)
    parts = urlsplit(base or "http://localhost:5000")
    adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "https")
    return adapter.build(endpoint, values, force_external=True)


def absolute_url(path):
    """A site-relative `path` ("/story-images/...") made absolute for mail, on the same base as
    `external_url`: MAIL_LINK_BASE_URL when set, else the request's own root, else
    http://localhost:5000."""
    base = current_app.config.get("MAIL_LINK_BASE_URL")
    if base is None and has_request_context():
        base = request.url_root
    return urljoin((base or "http://localhost:5000").rstrip("/") + "/", path.lstrip("/"))
