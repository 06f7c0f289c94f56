"""Every mail carries a working unsubscribe link and header; /account/notifications holds the
choices (web and API); founders' updates for backers only."""

import re

from sqlalchemy import select

from crowdfund import after_commit
from crowdfund.jobs.mail import build_email
from crowdfund.models import MailOptOut, OutboxMessage, ProjectUpdate
from crowdfund.services import mail_choices, updates
from tests.api.conftest import Api
from tests.conftest import csrf_token

from .conftest import back


def mail_to(db, user, subject_part):
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == user.email, OutboxMessage.subject.contains(subject_part))
        .order_by(OutboxMessage.id)
    ).all()


def path_of(link):
    return re.sub(r"^https?://[^/]+", "", link)


def kinds_off(db, user):
    return set(db.session.scalars(select(MailOptOut.kind).where(MailOptOut.user_id == user.id)))


def test_a_receipt_carries_the_header_pointing_at_the_choices(db, make, campaign, app, client_for):
    project, _founder, backer = campaign
    [receipt] = mail_to(db, backer, "Your pledge to")
    assert "/mail/unsubscribe/all/" in receipt.list_unsubscribe
    assert receipt.list_unsubscribe in receipt.body_text
    assert "This email is sent whatever you choose." in receipt.body_text
    email = build_email(receipt, app.config)
    assert email["List-Unsubscribe"] == f"<{receipt.list_unsubscribe}>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    visitor = client_for(None)  # the link works without signing in
    page = visitor.get(path_of(receipt.list_unsubscribe)).get_data(as_text=True)
    assert "every optional email" in page and 'data-kind="project_updates"' in page
    # A mail program's one-click POST (RFC 8058): every optional kind off; receipts still go.
    response = visitor.post(path_of(receipt.list_unsubscribe), data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and "gets no more mail" in response.get_data(as_text=True)
    assert kinds_off(db, backer) == set(mail_choices.KINDS)
    back(project, backer)
    db.session.commit()
    assert len(mail_to(db, backer, "Your pledge to")) == 2


def test_the_link_stops_one_kind_and_the_page_sets_the_others(db, make, campaign, client_for):
    project, founder, backer = campaign
    updates.post_update(founder, project, "Tooling done", "The moulds are cut.")
    db.session.commit()
    after_commit.run()
    [message] = mail_to(db, backer, "Tooling done")
    assert "/mail/unsubscribe/project_updates/" in message.list_unsubscribe
    assert "To stop emails like this one" in message.body_text
    link = path_of(message.list_unsubscribe)
    visitor = client_for(None)
    assert "Stop mail to" in visitor.get(link).get_data(as_text=True)
    assert visitor.post(link).status_code == 200  # the button (no form token: the link is the credential)
    assert kinds_off(db, backer) == {"project_updates"}
    # The choices on the same page: every kind on again but the answers.
    wanted = [k for k in mail_choices.KINDS if k != "comment_answers"]
    response = visitor.post(link, data={"save": "1", "on": wanted})
    assert "Your email choices are saved." in response.get_data(as_text=True)
    assert kinds_off(db, backer) == {"comment_answers"}
    assert visitor.get(link[:-4] + "abcd").status_code == 400
    assert visitor.get(link.replace("project_updates", "goal_reached")).status_code == 400  # one kind a link


def test_the_notifications_page_in_both_languages(db, make, campaign, client_for):
    project, founder, backer = campaign
    browser = client_for(backer)
    page = browser.get("/account/notifications").get_data(as_text=True)
    assert "Email notifications" in page and "Updates from the founders of campaigns you backed" in page
    assert page.count('type="checkbox"') == len(mail_choices.KINDS) and page.count(" checked") == len(
        mail_choices.KINDS
    )
    chinese = browser.get("/account/notifications?lang=zh").get_data(as_text=True)
    assert "邮件通知" in chinese and "您支持的项目达到目标时" in chinese
    assert "/account/notifications" in browser.get("/account").get_data(as_text=True)

    token = csrf_token(browser, "/account/notifications")
    keep = [k for k in mail_choices.KINDS if k != "project_updates"]
    response = browser.post("/account/notifications", data={"csrf_token": token, "on": keep})
    assert response.status_code == 302
    assert "Your email choices are saved." in browser.get("/account/notifications").get_data(as_text=True)
    assert kinds_off(db, backer) == {"project_updates"}
    assert browser.post("/account/notifications", data={"on": []}).status_code == 400  # no form token
    assert kinds_off(db, backer) == {"project_updates"}
    assert client_for(None).get("/account/notifications").status_code == 302  # sign in first

    other = make.user(name="Oli Other")
    back(project, other)
    updates.post_update(founder, project, "Moulds cut", "Next: paint.")
    db.session.commit()
    after_commit.run()
    assert mail_to(db, backer, "Moulds cut") == [] and len(mail_to(db, other, "Moulds cut")) == 1


def test_the_choices_through_the_api(db, make, campaign, client):
    _project, _founder, backer = campaign
    api = Api(client)
    token = api.token_for(backer)
    got = api.get("/account/notifications", token=token)
    assert got.status_code == 200 and got.get_json() == {kind: True for kind in mail_choices.KINDS}
    changed = api.patch("/account/notifications", {"goal_reached": False}, token=token)
    assert changed.status_code == 200 and changed.get_json()["goal_reached"] is False
    assert changed.get_json()["project_updates"] is True
    refused = api.patch("/account/notifications", {"spam": False}, token=token)
    assert refused.status_code == 422 and "spam" in refused.get_json()["error"]["fields"]
    refused = api.patch("/account/notifications", {"goal_reached": "no"}, token=token)
    assert refused.status_code == 422 and "goal_reached" in refused.get_json()["error"]["fields"]
    assert kinds_off(db, backer) == {"goal_reached"}
    assert api.get("/account/notifications").status_code == 401


def test_backers_only_updates_are_locked_for_everyone_else(db, make, campaign, client_for, client):
    project, founder, backer = campaign
    author = client_for(founder)
    token = csrf_token(author, f"/projects/{project.id}/updates/new")
    form = author.get(f"/projects/{project.id}/updates/new").get_data(as_text=True)
    assert "Backers only (others see the title, locked)" in form
    response = author.post(
        f"/projects/{project.id}/updates/new",
        data={"title": "Secret colours", "body": "Teal and **rust**.", "audience": "backers", "csrf_token": token},
    )
    assert response.status_code == 302
    update = db.session.scalars(select(ProjectUpdate)).one()
    assert update.audience == "backers"
    after_commit.run()
    assert "Teal and" in mail_to(db, backer, "Secret colours")[0].body_text  # backers are mailed it

    visitor_page = client_for(None).get(f"/p/{project.slug}").get_data(as_text=True)
    assert "Secret colours" in visitor_page and "<strong>rust</strong>" not in visitor_page
    assert "This update is for the campaign’s backers only." in visitor_page
    assert "此动态仅对该项目的支持者开放" in client_for(None).get(f"/p/{project.slug}?lang=zh").get_data(as_text=True)
    stranger_page = client_for(make.user()).get(f"/p/{project.slug}").get_data(as_text=True)
    assert "<strong>rust</strong>" not in stranger_page
    assert "<strong>rust</strong>" in client_for(backer).get(f"/p/{project.slug}").get_data(as_text=True)
    assert "<strong>rust</strong>" in author.get(f"/p/{project.slug}").get_data(as_text=True)

    api = Api(client)
    path = f"/projects/{project.id}/updates"
    [locked] = api.get(path).get_json()["items"]
    assert (locked["title"], locked["locked"], locked["body"], locked["body_html"]) == (
        "Secret colours",
        True,
        None,
        None,
    )
    [shown] = api.get(path, token=api.token_for(backer)).get_json()["items"]
    assert shown["locked"] is False and shown["body"] == "Teal and **rust**." and shown["audience"] == "backers"

    founder_token = api.token_for(founder)
    posted = api.post(path, {"title": "Open news", "body": "Hello all."}, token=founder_token)
    assert posted.status_code == 201 and posted.get_json()["audience"] == "public"
    refused = api.post(path, {"title": "X", "body": "Y", "audience": "friends"}, token=founder_token)
    assert refused.status_code == 422 and "audience" in refused.get_json()["error"]["fields"]
    assert api.post(path, {"title": "X", "body": "Y"}, token=api.token_for(backer)).status_code == 403
    items = api.get(path).get_json()["items"]
    assert [(i["title"], i["locked"]) for i in items] == [("Open news", False), ("Secret colours", True)]


def test_reminders_through_the_api(db, make, campaign, client):
    project, _founder, backer = campaign
    api = Api(client)
    token = api.token_for(backer)
    path = f"/projects/{project.id}/reminder"
    assert api.put(path, token=token).get_json() == {"project_id": project.id, "reminder": True}
    assert api.put(path, token=token).status_code == 200
    assert api.delete(path, token=token).get_json() == {"project_id": project.id, "reminder": False}
    assert api.put(path).status_code == 401
