"""A founder's update reaches every backer whose money the campaign held: by mail, once, in
the backer's language, queued by the `announce_updates` job after the update's commit."""

from sqlalchemy import select

from crowdfund.models import OutboxMessage, ProjectUpdate
from crowdfund.services import notifications, updates
from crowdfund.workflows import announcements
from tests.conftest import csrf_token
from tests.support import outbox_rows as rows


def mailed(db, update_id=None):
    """{address: message} of the update mail in the outbox."""
    prefix = f"project_update:{update_id}:" if update_id else "project_update:"
    query = select(OutboxMessage).where(OutboxMessage.dedupe_key.like(prefix + "%"))
    messages = db.session.scalars(query).all()
    return {m.to_address: m for m in messages}


def test_posting_an_update_mails_each_backer_once(client, make, login, db):
    founder = login(make.user(name="Fang"))
    project = make.live_project(firm=make.firm(owner=founder, legal_name="Lantern Tea Ltd"))
    audience = {}
    for status in ("held", "released", "refunded"):
        backer = make.user(email=f"{status}@example.com")
        audience[status] = rows.pledge(make, project, backer, status=status)
    rows.pledge(make, project, make.user(email="held@example.net"), status="held")
    rows.pledge(make, project, audience["held"].backer, status="held")  # two pledges: still one mail
    for status in ("cancelled", "failed", "pending"):
        rows.pledge(make, project, make.user(email=f"{status}@example.com"), status=status)
    rows.pledge(make, make.live_project(), make.user(email="elsewhere@example.com"))  # another campaign's
    db.session.commit()

    path = f"/projects/{project.id}/updates/new"
    response = client.post(
        path,
        data={
            "title": "Tins are here",
            "csrf_token": csrf_token(client, path),
            "body": "The **tins** arrived.\n\n- green\n- black",
        },
    )

    assert response.status_code == 302
    db.session.expire_all()
    update = db.session.scalars(select(ProjectUpdate)).one()
    messages = mailed(db, update.id)
    assert sorted(messages) == ["held@example.com", "held@example.net", "refunded@example.com", "released@example.com"]
    message = messages["held@example.com"]
    assert message.subject == f"News from {project.title}: Tins are here"
    assert f"Lantern Tea Ltd posted an update on {project.title}, a campaign you backed:" in message.body_text
    # The update as text to read, not Markdown as typed (issue 23); its HTML is the alternative.
    assert "Tins are here\n\nThe tins arrived.\n\n- green\n- black\n" in message.body_text
    assert "<strong>tins</strong>" in message.body_html
    assert update.announced_at is not None and update.body == "The **tins** arrived.\n\n- green\n- black"


def test_a_backer_reads_the_update_in_their_language(make, db):
    project = rows.project(make, title="Lantern Tea")
    backer = make.user(name="Bo")
    backer.locale = "zh"
    rows.pledge(make, project, backer)
    update = updates.post_update(make.founder_of(project), project, "Tins are here", "They arrived.")
    db.session.commit()

    assert announcements.announce_pending() == 1

    [message] = mailed(db, update.id).values()
    assert message.subject == "来自 Lantern Tea 的消息：Tins are here"
    assert message.body_text.startswith("Bo，您好：\n")
    assert "They arrived." in message.body_text


def test_in_batches_after_a_failed_run_nobody_is_mailed_twice_or_forgotten(make, db, monkeypatch):
    project, later = rows.project(make), rows.project(make)
    for n in range(5):
        rows.pledge(make, project, make.user(email=f"b{n}@example.com"))
    rows.pledge(make, later, make.user(email="later@example.com"))
    founder = make.founder_of(project)
    update = updates.post_update(founder, project, "News", "Some news.")
    other = updates.post_update(make.founder_of(later), later, "More news", "Other news.")
    db.session.commit()
    real, calls = notifications.project_update, []

    def fails_on_the_second_batch(update, backer_ids):
        calls.append(list(backer_ids))
        if len(calls) == 2:
            raise RuntimeError("the template broke")
        return real(update, backer_ids)

    monkeypatch.setattr(notifications, "project_update", fails_on_the_second_batch)
    assert announcements.announce_pending(batch_size=2) == 1  # the other update is not held up

    assert sorted(mailed(db)) == ["later@example.com"]  # none of the failed one's first batch
    assert db.session.get(ProjectUpdate, update.id).announced_at is None
    assert db.session.get(ProjectUpdate, other.id).announced_at is not None

    monkeypatch.setattr(notifications, "project_update", real)
    assert announcements.announce_pending(batch_size=2) == 1
    assert sorted(mailed(db, update.id)) == [f"b{n}@example.com" for n in range(5)]
    assert announcements.announce_pending(batch_size=2) == 0  # announced: the next run has nothing to do

    db.session.get(ProjectUpdate, update.id).announced_at = None  # as if two runs had raced
    db.session.commit()
    assert announcements.announce_pending() == 1
    assert len(db.session.scalars(select(OutboxMessage)).all()) == 6  # and still one each


def test_an_update_before_anyone_backed_mails_nobody(make, db):
    project = rows.project(make, status="approved")
    update = updates.post_update(make.founder_of(project), project, "Soon", "We launch on Monday.")
    db.session.commit()

    assert announcements.announce_pending() == 1
    assert mailed(db) == {} and db.session.get(ProjectUpdate, update.id).announced_at is not None
