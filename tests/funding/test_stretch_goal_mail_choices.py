"""Stretch-goal mail is its own kind (`stretch_goals`): a backer can turn it off alone, on the
notifications page, through the API or with the link each such mail carries."""

import re

from sqlalchemy import select

from crowdfund.jobs.mail import build_email
from crowdfund.models import MailOptOut, OutboxMessage
from crowdfund.workflows import checkout, reminder_runs


def _pledge(make, project, backer, key, quantity=1):
    return checkout.place_pledge(
        backer,
        project,
        idempotency_key=f"stretch-choice-{project.id}-{key}",
        payment_method="pm_card_visa",
        tier_id=project.tiers[0].id,
        quantity=quantity,
    )


def _to(db, user, like):
    db.session.expire_all()
    return db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.to_address == user.email, OutboxMessage.dedupe_key.like(like))
    ).all()


def test_turning_stretch_goal_mail_off_stops_it_and_nothing_else(make, db, api, app, client, login):
    project = make.live_project(goal="50")  # its tier: 25.00
    founder = api.token_for(make.founder_of(project))
    stretch = api.post(
        f"/projects/{project.id}/stretch-goals", {"amount": 10000, "title": "Gift box"}, token=founder
    ).get_json()
    ann, ben = make.user(name="Ann"), make.user(name="Ben")
    _pledge(make, project, ann, "ann")
    _pledge(make, project, ben, "ben")

    # The page and the API list the kind, on until turned off.
    login(ann)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert 'data-kind="stretch_goals"' in page and "When a campaign you backed unlocks a stretch goal" in page
    token = api.token_for(ann)
    assert api.get("/account/notifications", token=token).get_json()["stretch_goals"] is True
    off = api.patch("/account/notifications", {"stretch_goals": False}, token=token)
    assert off.status_code == 200
    assert off.get_json()["stretch_goals"] is False and off.get_json()["goal_reached"] is True
    assert set(db.session.scalars(select(MailOptOut.kind).where(MailOptOut.user_id == ann.id))) == {"stretch_goals"}

    _pledge(make, project, ben, "ben-2", quantity=2)  # 100.00: the goal (before) and the stretch goal
    reminder_runs.announce_goals()
    assert _to(db, ann, f"stretch_goal:{stretch['id']}:%") == []  # turned off
    assert len(_to(db, ann, "goal_reached:%")) == 1  # the goal's own mail still comes
    [mail] = _to(db, ben, f"stretch_goal:{stretch['id']}:%")
    assert "/mail/unsubscribe/stretch_goals/" in mail.list_unsubscribe
    assert "To stop emails like this one" in mail.body_text
    assert build_email(mail, app.config)["List-Unsubscribe"] == f"<{mail.list_unsubscribe}>"

    # The one-click link in the mail turns off that kind only.
    link = re.sub(r"^https?://[^/]+", "", mail.list_unsubscribe)
    assert client.post(link, data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert set(db.session.scalars(select(MailOptOut.kind).where(MailOptOut.user_id == ben.id))) == {"stretch_goals"}


def test_the_kind_in_chinese(make, db, client, login):
    reader = make.user(name="Li")
    reader.locale = "zh"
    db.session.commit()
    login(reader)
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "您支持的项目解锁延伸目标时" in page
