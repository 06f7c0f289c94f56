""" "Remind me" on a campaign page and its one mail before the deadline; the mail to backers
when a campaign reaches its goal."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from crowdfund import after_commit
from crowdfund.errors import ValidationError
from crowdfund.jobs.mail import build_email
from crowdfund.models import CampaignReminder, OutboxMessage, utcnow
from crowdfund.services import mail_choices, reminders
from crowdfund.workflows import reminder_runs
from tests.conftest import backend, csrf_token

from .conftest import back


def messages(db, subject_part, to=None):
    query = select(OutboxMessage).where(OutboxMessage.subject.contains(subject_part))
    if to is not None:
        query = query.where(OutboxMessage.to_address == to.email)
    return db.session.scalars(query.order_by(OutboxMessage.id)).all()


def remind_form(client, project, on):
    token = csrf_token(client, f"/p/{project.slug}")
    return client.post(f"/p/{project.slug}/remind", data={"on": "1" if on else "0", "csrf_token": token})


def test_the_button_sets_and_cancels_a_reminder(db, make, campaign, client_for):
    project, _founder, _backer = campaign
    visitor = client_for(None)
    page = visitor.get(f"/p/{project.slug}").get_data(as_text=True)
    assert "Log in to get a reminder before it ends" in page and "/remind" not in page
    assert "登录后可在结束前收到提醒" in visitor.get(f"/p/{project.slug}?lang=zh").get_data(as_text=True)

    reader = make.user(name="Rae Reader")
    browser = client_for(reader)
    page = browser.get(f"/p/{project.slug}").get_data(as_text=True)
    assert "Remind me before it ends" in page and 'aria-pressed="false"' in page
    response = remind_form(browser, project, True)
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/p/{project.slug}")
    page = browser.get(f"/p/{project.slug}").get_data(as_text=True)
    assert "Reminder set: cancel it" in page and "We will email you 48 hours before the deadline." in page
    assert remind_form(browser, project, True).status_code == 302  # twice: still one reminder
    assert db.session.scalar(select(func.count()).select_from(CampaignReminder)) == 1
    chinese = browser.get(f"/p/{project.slug}?lang=zh").get_data(as_text=True)
    assert "已设提醒：取消" in chinese

    remind_form(browser, project, False)
    assert "Remind me before it ends" in browser.get(f"/p/{project.slug}").get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(CampaignReminder)) == 0
    # Without the form's token nothing changes.
    assert browser.post(f"/p/{project.slug}/remind", data={"on": "1"}).status_code == 400
    assert db.session.scalar(select(func.count()).select_from(CampaignReminder)) == 0


def test_an_ended_campaign_cannot_be_reminded(db, make, campaign, client_for):
    project, _founder, _backer = campaign
    project.status = "successful"  # as closing leaves it (the state machine is not the point here)
    db.session.commit()
    reader = make.user()
    with pytest.raises(ValidationError, match="has ended"):
        reminders.set_reminder(reader, project, True)
    page = client_for(reader).get(f"/p/{project.slug}").get_data(as_text=True)
    assert "Remind me before it ends" not in page


def test_one_mail_48_hours_before_the_deadline(db, make, app):
    founder = make.user(name="Fang Founder")
    soon = make.live_project(
        deadline=utcnow() + timedelta(hours=30), firm=make.firm(owner=founder, legal_name="Lantern Workshop Ltd")
    )
    later = make.live_project(deadline=utcnow() + timedelta(days=10))
    reader, quiet = make.user(name="Rae Reader"), make.user(name="Quinn Quiet")
    for user in (reader, quiet):
        reminders.set_reminder(user, soon, True)
        reminders.set_reminder(user, later, True)
    mail_choices.unsubscribe(quiet, "campaign_reminders")
    db.session.commit()

    assert reminder_runs.send_due_reminders() == 2  # soon's two; later's are not due
    assert reminder_runs.send_due_reminders() == 0  # run again: nothing more
    [message] = messages(db, "ends soon")
    assert message.to_address == reader.email and message.subject == f"{soon.title} ends soon"
    body = message.body_text
    assert "Hello Rae Reader," in body and "You asked us to remind you" in body and "Lantern Workshop Ltd" in body
    assert f"/p/{soon.slug}" in body and "raised $0.00 of its $5,000.00 goal" in body
    assert "/mail/unsubscribe/campaign_reminders/" in message.list_unsubscribe
    assert message.list_unsubscribe in body and "To stop emails like this one" in body
    email = build_email(message, app.config)
    assert email["List-Unsubscribe"] == f"<{message.list_unsubscribe}>"
    assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # Cancelled and set again after its mail: never a second one.
    reminders.set_reminder(reader, soon, False)
    reminders.set_reminder(reader, soon, True)
    db.session.commit()
    assert reminder_runs.send_due_reminders() == 0

    # Ten days out: due once the deadline is 48 hours away.
    assert reminder_runs.send_due_reminders(now=later.deadline - timedelta(hours=47)) == 2
    assert [m.to_address for m in messages(db, f"{later.title} ends soon")] == [reader.email]


def test_the_reminder_mail_is_in_the_readers_language(db, make):
    project = make.live_project(deadline=utcnow() + timedelta(hours=30))
    reader = make.user(name="Lin")
    reader.locale = "zh"
    reminders.set_reminder(reader, project, True)
    db.session.commit()
    reminder_runs.send_due_reminders()
    [message] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.to_address == reader.email)).all()
    assert "即将结束" in message.subject and "您曾让我们提醒您" in message.body_text
    assert "如不想再收到此类邮件" in message.body_text


def test_the_cli_and_a_second_worker_at_once_send_each_reminder_once(db, make, app):
    project = make.live_project(deadline=utcnow() + timedelta(hours=30))
    readers = [make.user() for _ in range(6)]
    for reader in readers:
        reminders.set_reminder(reader, project, True)
    db.session.commit()
    if backend() == "postgresql":
        done = []

        def worker():
            with app.app_context():
                done.append(reminder_runs.send_due_reminders())

        threads = [threading.Thread(target=worker) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sum(done) == 6
    result = app.test_cli_runner().invoke(args=["campaigns", "send-reminders"])
    assert result.exit_code == 0 and "Sent" in result.output
    db.session.expire_all()
    assert len(messages(db, "ends soon")) == 6
    assert db.session.scalar(select(func.count()).where(CampaignReminder.sent_at.is_(None))) == 0


def test_backers_are_mailed_once_when_the_goal_is_reached(db, make):
    founder = make.user(name="Fang Founder")
    project = make.live_project(goal="40", firm=make.firm(owner=founder, legal_name="Lantern Workshop Ltd"))
    first, second, third = make.user(name="Ann"), make.user(name="Ben"), make.user(name="Cai")
    back(project, first)
    after_commit.run()
    assert messages(db, "has reached its funding goal") == []
    back(project, second)  # 25 + 25 crosses 40
    after_commit.run()
    reached = messages(db, "has reached its funding goal")
    assert sorted(m.to_address for m in reached) == sorted([first.email, second.email])
    body = reached[0].body_text
    assert f"{project.title}, a campaign you backed, has reached its goal of $40.00." in body
    assert f"/p/{project.slug}" in body and "/mail/unsubscribe/goal_reached/" in reached[0].list_unsubscribe
    back(project, third)  # past the goal already: no new notice
    after_commit.run()
    assert reminder_runs.announce_goals() == 0
    assert len(messages(db, "has reached its funding goal")) == 2
    assert messages(db, "has reached its funding goal", to=founder) == []


def test_anonymous_visitors_still_get_the_cached_page(db, make, campaign, client_for, app, monkeypatch):
    """The button costs anonymous visitors no query and no form token: their page stays cacheable."""
    from sqlalchemy import event

    from crowdfund.services import updates
    from crowdfund.web import page_cache

    project, founder, backer = campaign
    updates.post_update(founder, project, "For backers", "Hidden text.", "backers")
    reminders.set_reminder(backer, project, True)
    db.session.commit()
    path = f"/p/{project.slug}"

    def statements(client):
        sent = []
        listener = lambda *args: sent.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            page = client.get(path).get_data(as_text=True)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        return page, sent

    visitor = client_for(None)
    _page, uncached = statements(visitor)
    assert not any("campaign_reminders" in s or "FROM pledges" in s for s in uncached)
    monkeypatch.setitem(app.config, "PAGE_CACHE_SECONDS", 30)
    page_cache.clear()
    try:
        first, _ = statements(visitor)
        again, sent = statements(visitor)
        assert sent == [] and again == first and "Log in to get a reminder before it ends" in again
        assert 'name="csrf_token"' not in first or "/remind" not in first
        signed_in, _ = statements(client_for(backer))
        assert "Reminder set: cancel it" in signed_in and "Hidden text." in signed_in
    finally:
        page_cache.clear()
