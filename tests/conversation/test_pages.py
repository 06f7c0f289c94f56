"""The conversation on the campaign page: asking, answering as the firm, reporting, hiding,
the FAQ, and the link in the mail that stops it."""

import re
import secrets
import time

import pytest
from sqlalchemy import select

from crowdfund.models import Comment, MailOptOut, OutboxMessage
from tests.conftest import csrf_token


def page_of(client, project, **query):
    response = client.get(f"/p/{project.slug}", query_string=query)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def say(client, project, body, parent_id=None):
    data = {"body": body, "csrf_token": csrf_token(client, f"/p/{project.slug}")}
    if parent_id is not None:
        data["parent_id"] = str(parent_id)
    return client.post(f"/p/{project.slug}/comments", data=data)


def article(page, comment):
    """The HTML of one comment on the page."""
    match = re.search(rf'<article class="comment[^"]*" id="comment-{comment.id}">(.*?)</article>', page, re.S)
    assert match, f"comment {comment.id} is not on the page"
    return match.group(1)


def last_comment(db):
    return db.session.scalars(select(Comment).order_by(Comment.id.desc())).first()


def test_a_backer_asks_and_the_founder_answers_as_the_firm(db, make, campaign, client_for):
    project, founder, backer = campaign
    visitor = client_for(None)
    page = page_of(visitor, project)
    assert "Log in to ask the firm a question" in page and 'name="body"' not in page

    asking = client_for(backer)
    response = say(asking, project, "Does it take **LED** bulbs?")
    question = last_comment(db)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/p/{project.slug}#comment-{question.id}")
    response = say(client_for(founder), project, "Yes, any E27 bulb.", parent_id=question.id)
    answer = last_comment(db)
    assert response.status_code == 302 and answer.parent_id == question.id

    page = page_of(visitor, project)
    asked = article(page, question)
    assert "Bo Backer" in asked and "Backer</span>" in asked and "<strong>LED</strong>" in asked
    answered = article(page, answer)
    assert "<strong>Lantern Workshop Ltd</strong>" in answered and "Founder</span>" in answered
    assert 'Questions and comments <span class="muted">(2)</span>' in page

    chinese = page_of(visitor, project, lang="zh")
    assert "问题与评论" in chinese and "发起人</span>" in article(chinese, answer)
    assert "支持者</span>" in article(chinese, question)


def test_a_refused_comment_comes_back_with_what_is_wrong(db, make, campaign, client_for, app, monkeypatch):
    project, _founder, backer = campaign
    asking = client_for(backer)
    response = say(asking, project, "   ")
    assert response.status_code == 422
    assert "Write your question or comment." in response.get_data(as_text=True)
    monkeypatch.setitem(app.config, "RATELIMIT_COMMENTS", "1 per minute")
    assert say(asking, project, "First").status_code == 302
    response = say(asking, project, "Second, too soon")
    page = response.get_data(as_text=True)
    assert response.status_code == 429 and "You have posted a lot in a short time" in page
    assert "Second, too soon" in page  # what was typed is kept
    unverified = client_for(make.user(verified=False))
    assert "Confirm your email address to ask a question or comment." in page_of(unverified, project)
    assert say(unverified, project, "Hello").status_code == 403
    assert db.session.scalar(select(Comment.body).where(Comment.body == "Hello")) is None


def test_reported_then_hidden_the_text_is_gone(db, make, campaign, client_for):
    project, _founder, backer = campaign
    say(client_for(backer), project, "Call me at 555-0100, rude words")
    comment = last_comment(db)
    reporting = client_for(make.user(name="Rita Reporter"))
    assert "Report to the moderators" in reporting.get(f"/comments/{comment.id}/report").get_data(as_text=True)
    response = reporting.post(
        f"/comments/{comment.id}/report",
        data={"reason": "Private details", "csrf_token": csrf_token(reporting, f"/comments/{comment.id}/report")},
    )
    assert response.status_code == 302

    admin = client_for(make.admin())
    queue = admin.get("/admin/comments").get_data(as_text=True)
    assert "555-0100" in queue and "Private details" in queue
    hide_page = f"/admin/comments/{comment.id}/hide"
    response = admin.post(hide_page, data={"reason": "", "csrf_token": csrf_token(admin, hide_page)})
    assert response.status_code == 422
    response = admin.post(hide_page, data={"reason": "Private details", "csrf_token": csrf_token(admin, hide_page)})
    assert response.status_code == 302

    for viewer in (client_for(None), client_for(backer), admin):
        page = page_of(viewer, project)
        assert "555-0100" not in page and "This comment was hidden by the moderators." in page
    assert "555-0100" not in admin.get("/admin/comments").get_data(as_text=True)
    assert "No reported comments." in admin.get("/admin/comments").get_data(as_text=True)
    assert client_for(make.user()).get("/admin/comments").status_code == 403


def test_founders_pin_answers_into_the_faq(db, make, campaign, client_for):
    project, founder, backer = campaign
    say(client_for(backer), project, "Is the shade washable?")
    question = last_comment(db)
    firm = client_for(founder)
    say(firm, project, "Yes, at 30 degrees.", parent_id=question.id)
    answer = last_comment(db)
    assert 'id="faq"' not in page_of(firm, project)
    response = firm.post(f"/comments/{answer.id}/pin", data={"csrf_token": csrf_token(firm, f"/p/{project.slug}")})
    assert response.status_code == 302 and response.headers["Location"].endswith("#faq")
    faq = page_of(client_for(None), project).split('id="faq"', 1)[1].split("</section>", 1)[0]
    assert "Is the shade washable?" in faq and "Yes, at 30 degrees." in faq
    asker = client_for(backer)
    asker.post(f"/comments/{answer.id}/unpin", data={"csrf_token": csrf_token(asker, f"/p/{project.slug}")})
    assert "Only the people of the campaign" in page_of(asker, project)  # refused, and told why
    assert firm.post(f"/comments/{answer.id}/unpin", data={}).status_code == 400  # no CSRF token
    firm.post(f"/comments/{answer.id}/unpin", data={"csrf_token": csrf_token(firm, f"/p/{project.slug}")})
    assert 'id="faq"' not in page_of(client_for(None), project)


def test_the_link_in_the_mail_stops_it_with_one_post(db, campaign, client_for):
    project, founder, backer = campaign
    say(client_for(backer), project, "A question for the firm")
    message = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.to_address == founder.email, OutboxMessage.subject.contains("A question")
        )
    ).one()
    path = re.sub(r"^https?://[^/]+", "", message.list_unsubscribe)
    visitor = client_for(None)  # the link works without signing in
    assert "Stop mail to" in visitor.get(path).get_data(as_text=True)
    response = visitor.post(path)  # what a mail program's one-click unsubscribe sends: no form token
    assert response.status_code == 200 and "gets no more mail" in response.get_data(as_text=True)
    assert db.session.scalar(select(MailOptOut.kind).where(MailOptOut.user_id == founder.id)) == "comment_questions"
    assert visitor.get(path[:-3] + "xyz").status_code == 400
    assert visitor.get(path.replace("comment_questions", "nonsense")).status_code == 400


@pytest.fixture()
def shared_page_cache(app, redis_url):
    """The page cache in Redis, as in production: pages kept while their change tokens hold."""
    from crowdfund.extensions import cache
    from crowdfund.web import page_cache

    before = {
        key: app.config.get(key) for key in ("CACHE_TYPE", "CACHE_REDIS_URL", "CACHE_KEY_PREFIX", "PAGE_CACHE_SECONDS")
    }
    app.config.update(
        CACHE_TYPE="RedisCache",
        CACHE_REDIS_URL=redis_url,
        PAGE_CACHE_SECONDS=1,
        CACHE_KEY_PREFIX=f"crowdfund-test-{secrets.token_hex(4)}:",
    )
    cache.init_app(app)
    page_cache.clear()
    yield
    page_cache.clear()
    app.config.update(before)
    cache.init_app(app)


def test_a_cached_campaign_page_shows_new_and_hidden_comments(db, make, campaign, client_for, shared_page_cache):
    project, _founder, backer = campaign
    visitor = client_for(None)
    page_of(visitor, project)  # kept: up to PAGE_CACHE_MAX_SECONDS while nothing on it changes
    say(client_for(backer), project, "Fresh question")
    time.sleep(1.1)  # past the lag a copy is served only while its change tokens hold
    assert "Fresh question" in page_of(visitor, project)
    from crowdfund.services import comments

    comments.hide(make.admin(), last_comment(db), "Spam")
    db.session.commit()
    time.sleep(1.1)
    assert "Fresh question" not in page_of(visitor, project)
