"""What changed after approval: the campaign page's "Changes" list (both languages), the API,
the backers' and administrators' mail, and the administrators' queue (issue 21 item 3)."""

import re

import pytest
from sqlalchemy import select

from crowdfund.jobs.mail import build_email
from crowdfund.models import OutboxMessage, ProjectEdit, StateChange
from crowdfund.services import change_history, mail_choices
from crowdfund.services.projects import basics, tiers
from tests.api.conftest import Api
from tests.conftest import csrf_token
from tests.conversation.conftest import back

STORY = {
    "summary": "A lamp that lasts",
    "description": "A lamp made to be repaired.",
    "use_of_funds": "Tooling and the first batch.",
}
OLD_RISKS = "The factory may be late."
NEW_RISKS = "The factory may be late by two months. Shipping costs may rise."


@pytest.fixture()
def campaign(make, db):
    """A live reward campaign with known texts: (project, founder, backer with a held pledge)."""
    founder = make.user(name="Fang Founder")
    firm = make.firm(owner=founder, legal_name="Lantern Workshop Ltd")
    project = make.live_project(firm=firm, risks=OLD_RISKS, **STORY)
    backer = make.user(name="Bo Backer", email="bo@example.com")
    back(project, backer)
    db.session.commit()
    return project, founder, backer


def mail_to(db, user, subject_part):
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == user.email, OutboxMessage.subject.contains(subject_part))
        .order_by(OutboxMessage.id)
    ).all()


def page(client, project, lang="en"):
    response = client.get(f"/p/{project.slug}", headers={"Accept-Language": lang})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def edit_story(client, project, **changes):
    path = f"/projects/{project.id}/edit"
    data = {**STORY, "risks": OLD_RISKS, **changes, "csrf_token": csrf_token(client, path)}
    response = client.post(path, data=data)
    assert response.status_code == 302, response.get_data(as_text=True)


def test_an_edit_to_the_risks_shows_in_changes_and_reaches_the_backers_and_an_admin(
    db, make, campaign, client_for, app
):
    """The issue's "done when": an edit to the risks after approval shows in Changes and reaches
    an admin and the backers."""
    project, founder, backer = campaign
    admin = make.admin()
    visitor = client_for(None)
    before = page(visitor, project)
    assert 'id="changes"' not in before and 'href="#changes"' not in before  # nothing changed: no section

    edit_story(client_for(founder), project, risks=NEW_RISKS)

    shown = page(visitor, project)
    assert 'id="changes"' in shown and "Changes since approval" in shown
    assert "The risks and challenges changed." in shown
    assert "<ins" in shown and "by two months" in shown and "Shipping costs may rise" in shown
    chinese = page(visitor, project, lang="zh-CN")
    assert "批准后的更改" in chinese and "风险与挑战已更改。" in chinese

    [to_backer] = mail_to(db, backer, "What changed on")
    assert "Risks and challenges: The risks and challenges changed." in to_backer.body_text
    assert f"Before: {OLD_RISKS}" in to_backer.body_text and f"After: {NEW_RISKS}" in to_backer.body_text
    assert f"/p/{project.slug}#changes" in to_backer.body_text
    # The link that stops this kind of mail, in the text and the header.
    assert to_backer.list_unsubscribe and "/project_changes/" in to_backer.list_unsubscribe
    assert to_backer.list_unsubscribe in to_backer.body_text
    assert build_email(to_backer, app.config)["List-Unsubscribe"] == f"<{to_backer.list_unsubscribe}>"
    assert mail_to(db, founder, "What changed on") == []  # the firm's own people are not backers
    stop = client_for(None).post(to_backer.list_unsubscribe.removeprefix("http://localhost"))  # one click
    assert stop.status_code == 200 and mail_choices.opted_out(backer.id, "project_changes")

    [to_admin] = mail_to(db, admin, "changed after approval")
    assert f"/admin/changes/{project.id}" in to_admin.body_text

    # The admin's queue shows the campaign, the old and the new text.
    as_admin = client_for(admin)
    queue = as_admin.get("/admin/changes").get_data(as_text=True)
    assert project.title in queue and f"/admin/changes/{project.id}" in queue
    review = as_admin.get(f"/admin/changes/{project.id}")
    text = review.get_data(as_text=True)
    assert review.status_code == 200
    assert OLD_RISKS in text and NEW_RISKS in text
    assert f"/admin/campaigns/{project.id}/suspend" in text  # the usual suspension path
    assert project.status == "live"  # it stays live while it waits


def test_an_admin_marks_the_changes_looked_at_with_an_audit_row(db, make, campaign, client_for):
    project, founder, _backer = campaign
    admin = make.admin()
    edit_story(client_for(founder), project, risks=NEW_RISKS)
    as_admin = client_for(admin)
    path = f"/admin/changes/{project.id}"
    through = re.search(r'name="through"[^>]*value="(\d+)"', as_admin.get(path).get_data(as_text=True)).group(1)

    # A change that arrives while the admin reads waits for the next look.
    edit_story(client_for(founder), project, risks=NEW_RISKS, use_of_funds="Tooling only.")

    done = as_admin.post(path, data={"through": through, "note": "Fine", "csrf_token": csrf_token(as_admin, path)})
    assert done.status_code == 302
    row = db.session.scalars(select(StateChange).where(StateChange.entity == "project_changes")).one()
    assert (row.entity_id, row.to_state, row.actor_id) == (project.id, "looked_at", admin.id)
    assert row.note.endswith(": Fine")
    [waiting] = change_history.pending_review(project)
    assert waiting.section == "use_of_funds"
    assert project.title in as_admin.get("/admin/changes").get_data(as_text=True)

    # Bad input: a clear message, nothing changed.
    bad = as_admin.post(path, data={"through": "x", "csrf_token": csrf_token(as_admin, path)})
    assert bad.status_code == 422
    too_early = as_admin.post(path, data={"through": "1", "csrf_token": csrf_token(as_admin, path)})
    assert too_early.status_code == 409
    assert "No change of this campaign is waiting for a look." in too_early.get_data(as_text=True)
    assert len(change_history.pending_review(project)) == 1
    # Only admins.
    assert client_for(founder).get("/admin/changes").status_code == 403


def test_the_story_and_rewards_change_without_an_admin_look(db, make, campaign, client_for, app):
    project, founder, backer = campaign
    admin = make.admin()
    with app.test_request_context():
        basics.update_project(founder, project, {"description": "A lamp made to be repaired, for decades."})
        tiers.update_tier(founder, tiers_without_backers(make, project, founder), {**TIER, "price": 3000})
        db.session.commit()
    assert change_history.awaiting_look() == []
    assert mail_to(db, admin, "changed after approval") == []
    assert len(mail_to(db, backer, "What changed on")) == 3  # one per save: story, new reward, its price
    shown = page(client_for(None), project)
    assert "The story changed." in shown and "A new reward: Spare parts kit, $20.00." in shown
    assert "the price changed from" in shown and "$30.00" in shown


TIER = {"title": "Spare parts kit", "price": 2000, "estimated_delivery": "2099-01", "shipping": "none"}


def tiers_without_backers(make, project, founder):
    """A reward added after launch (itself a logged change) that nobody has backed yet."""
    return tiers.add_tier(founder, project, TIER)


def test_the_api_lists_the_changes(db, make, campaign, client):
    project, founder, _backer = campaign
    api = Api(client)
    assert api.get(f"/projects/{project.id}/changes").get_json() == {"items": []}
    patched = api.patch(f"/projects/{project.id}", {"risks": NEW_RISKS}, token=api.token_for(founder))
    assert patched.status_code == 200, patched.get_json()

    [item] = api.get(f"/projects/{project.id}/changes").get_json()["items"]
    assert set(item) == {"id", "section", "field", "summary", "old", "new", "diff", "created_at"}
    assert (item["section"], item["field"], item["old"], item["new"]) == ("risks", "risks", OLD_RISKS, NEW_RISKS)
    assert item["summary"] == "The risks and challenges changed." and item["created_at"].endswith("Z")
    assert {"op": "+", "text": " by two months"} in item["diff"]
    chinese = api.get(f"/projects/{project.id}/changes", headers={"Accept-Language": "zh-CN"}).get_json()
    assert chinese["items"][0]["summary"] == "风险与挑战已更改。"
    assert api.get("/projects/999999/changes").status_code == 404

    document = api.get("/openapi.json").get_json()
    operation = document["paths"]["/projects/{project_id}/changes"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["properties"]["items"]


def test_backers_who_stopped_this_mail_get_none(db, make, campaign, client_for, app):
    project, founder, backer = campaign
    with app.test_request_context():
        mail_choices.unsubscribe(backer, "project_changes")
        basics.update_project(founder, project, {"risks": NEW_RISKS})
        db.session.commit()
    assert mail_to(db, backer, "What changed on") == []
    assert db.session.scalars(select(ProjectEdit)).one().needs_review is True


def test_a_mail_in_chinese_for_a_chinese_backer(db, make, campaign, app):
    project, founder, backer = campaign
    backer.locale = "zh"
    db.session.commit()
    with app.test_request_context():
        basics.update_project(founder, project, {"risks": NEW_RISKS})
        db.session.commit()
    [message] = mail_to(db, backer, "有了更改")
    assert "风险与挑战已更改。" in message.body_text and f"更改后： {NEW_RISKS}" in message.body_text


def test_ended_campaigns_keep_their_changes(db, make, campaign, client_for, app):
    from crowdfund.services import campaigns

    project, founder, _backer = campaign
    with app.test_request_context():
        basics.update_project(founder, project, {"risks": NEW_RISKS})
        db.session.commit()
    campaigns.suspend(make.admin(), project, "Misleading risks.")
    db.session.commit()
    shown = page(client_for(None), project)
    assert "Misleading risks." in shown and "The risks and challenges changed." in shown
    assert change_history.awaiting_look() == []  # a suspended campaign leaves the queue


def test_each_kind_of_change_reads_as_a_sentence(app):
    from types import SimpleNamespace as Row

    project = Row(currency="USD", tiers=[Row(id=7, title="Early bird")])

    def said(field, old, new):
        change = change_history.describe(Row(field=field, old_value=old, new_value=new), project)
        return change.section, change.summary

    with app.test_request_context():
        assert said("tier 7 quantity", "100", "150") == (
            "tiers",
            "Reward Early bird: the quantity available changed from 100 to 150.",
        )
        assert said("tier 7 per_backer_limit", "", "2")[1].endswith("from no limit to 2.")
        assert said("tier 9 removed", "Deluxe", "") == ("tiers", "The reward Deluxe was removed.")
        assert said("cover", "old.png", "new.png") == ("documents", "A new cover image.")
        assert said("deadline", "2027-01-31T12:00:00+00:00", "2027-01-20T12:00:00+00:00") == (
            "equity",
            "The offering closes earlier: the deadline moved from 2027-01-31 12:00 to 2027-01-20 12:00 (UTC).",
        )
        assert said("deadline", "2027-01-20T12:00:00+00:00", "2027-01-31T12:00:00+00:00")[1] == (
            "The offering closes later: the deadline moved from 2027-01-20 12:00 to 2027-01-31 12:00 (UTC)."
        )
        assert said("price_per_share", "150", "200")[1] == (
            "Equity terms: the price per share changed from $1.50 to $2.00."
        )
        assert said("summary", "Old line", "New line")[0] == "story"
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert said("tier 9 removed", "Deluxe", "")[1] == "回报“Deluxe”已删除。"


def test_the_diff_shows_the_words_around_a_change_and_leaves_the_rest_out():
    from crowdfund.domain.text_diff import inline_diff

    long_text = "Unchanged words. " * 40
    segments = inline_diff(long_text + "The mould may crack.", long_text + "The mould may crack twice.")
    assert segments[0] == ("…", "") and ("+", " twice") in segments
    assert sum(len(text) for _, text in segments) < 200  # not the whole story again
    assert inline_diff("工厂可能延误。", "工厂可能延误两个月。") == [
        ("=", "工厂可能延误"),
        ("+", "两个月"),
        ("=", "。"),
    ]
    assert inline_diff("same", "same") == [("…", "")]
