"""The conversation service: who may post, roles, threads, Markdown, the rate limit, mail,
reports, hiding and the FAQ."""

import pytest
from sqlalchemy import select

from crowdfund.domain.markup import render_markdown
from crowdfund.errors import Conflict, PermissionDenied, ValidationError
from crowdfund.jobs.mail import build_email
from crowdfund.models import CommentReport, FirmMember, OutboxMessage, StateChange
from crowdfund.services import comment_mail, comments
from crowdfund.services.sign_in_limits import TooManyAttempts
from tests.conversation.conftest import pledge_row


@pytest.fixture(autouse=True)
def in_a_request(app, db):
    """The mail's links are absolute addresses, made as in a request."""
    with app.test_request_context():
        yield


def post(db, user, project, body, **kwargs):
    comment = comments.post_comment(user, project, body, **kwargs)
    db.session.commit()
    return comment


def mail_to(db, user, subject_part):
    """The messages queued for `user` whose subject says `subject_part`, oldest first."""
    return db.session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.to_address == user.email, OutboxMessage.subject.contains(subject_part))
        .order_by(OutboxMessage.id)
    ).all()


def shown(entry):
    return (entry.comment.author.name, entry.role, [(r.comment.author.name, r.role) for r in entry.replies])


def test_questions_answers_and_badges(db, make, campaign):
    project, founder, backer = campaign
    stranger = make.user(name="Sam Stranger")
    question = post(db, backer, project, "Does the lamp take **LED** bulbs?")
    post(db, stranger, project, "Looks lovely.")
    answer = post(db, founder, project, "Yes, any E27 bulb.", parent_id=question.id)
    follow_up = post(db, stranger, project, "Thanks!", parent_id=answer.id)  # a reply to a reply

    assert answer.as_firm and not question.as_firm
    assert follow_up.parent_id == question.id  # one level deep: it joins the thread
    entries = comments.thread(project)
    assert [shown(e) for e in entries] == [
        ("Sam Stranger", None, []),
        ("Bo Backer", "backer", [("Fang Founder", "founder"), ("Sam Stranger", None)]),
    ]
    assert comments.count(entries) == 4
    assert "<strong>LED</strong>" in question.body_html


def test_investors_are_marked_on_equity_campaigns_while_their_money_is_in(db, make):
    project = make.live_project(kind="equity")
    investor, refunded = make.user(name="Ivy Investor"), make.user(name="Rex Refunded")
    pledge_row(db, project, investor, "released")
    pledge_row(db, project, refunded, "refunded")
    post(db, investor, project, "What is the valuation based on?")
    post(db, refunded, project, "I changed my mind.")
    assert [(e.comment.author.name, e.role) for e in comments.thread(project)] == [
        ("Rex Refunded", None),
        ("Ivy Investor", "investor"),
    ]


def test_markdown_is_sanitised_as_the_story_is(db, campaign):
    project, _founder, backer = campaign
    body = "Hi <script>alert(1)</script> [click](javascript:alert(2)) <img src=x onerror=alert(3)> **bold**"
    comment = post(db, backer, project, body)
    assert comment.body_html == render_markdown(body)
    assert "<script" not in comment.body_html and "javascript:" not in comment.body_html
    assert "onerror" not in comment.body_html and "<strong>bold</strong>" in comment.body_html


def test_who_may_post_and_what(db, make, campaign, app):
    project, founder, backer = campaign
    unverified = make.user(verified=False)
    with pytest.raises(PermissionDenied) as refused:
        comments.post_comment(unverified, project, "Hello?")
    assert refused.value.code == "email_unverified"
    draft = make.project(firm=project.firm)
    with pytest.raises(Conflict) as refused:
        comments.post_comment(founder, draft, "Draft thoughts")
    assert refused.value.code == "not_commentable"
    for body, field in (("   ", "body"), ("x" * 5001, "body")):
        with pytest.raises(ValidationError) as refused:
            comments.post_comment(backer, project, body)
        assert set(refused.value.fields) == {field}
    other = post(db, backer, make.live_project(), "On another campaign")
    for parent_id in (other.id, 2**40, -1, "1"):
        with pytest.raises(ValidationError) as refused:
            comments.post_comment(backer, project, "A reply", parent_id=parent_id)
        assert set(refused.value.fields) == {"parent_id"}
    db.session.rollback()
    assert comments.thread(project) == []


def test_posting_is_limited_per_account(db, make, campaign, app, monkeypatch):
    project, _founder, backer = campaign
    monkeypatch.setitem(app.config, "RATELIMIT_COMMENTS", "2 per minute")
    post(db, backer, project, "One")
    post(db, backer, project, "Two")
    with pytest.raises(TooManyAttempts) as refused:
        comments.post_comment(backer, project, "Three")
    assert refused.value.status == 429 and "Try again in 1 minute" in refused.value.message
    db.session.rollback()
    post(db, make.user(), project, "Someone else may still post")
    assert comments.count(comments.thread(project)) == 3


def test_questions_mail_the_founders_and_answers_the_asker(db, make, campaign, app):
    project, founder, backer = campaign
    partner = make.user(name="Pat Partner")
    db.session.add(FirmMember(firm_id=project.firm_id, user_id=partner.id, role="owner"))
    db.session.commit()
    question = post(db, backer, project, "When does it ship?")
    for person in (founder, partner):
        [message] = mail_to(db, person, "A question on")
        assert message.subject == f"A question on {project.title}"
        assert "When does it ship?" in message.body_text
        assert f"/p/{project.slug}#comment-{question.id}" in message.body_text
        assert message.list_unsubscribe and message.list_unsubscribe in message.body_text
        email = build_email(message, app.config)
        assert email["List-Unsubscribe"] == f"<{message.list_unsubscribe}>"
        assert email["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    post(db, make.user(), project, "Me too!", parent_id=question.id)  # not the firm: no mail
    assert mail_to(db, backer, "answered your question") == []
    post(db, founder, project, "In June.", parent_id=question.id)
    [answer] = mail_to(db, backer, "answered your question")
    assert answer.subject == "Lantern Workshop Ltd answered your question" and "In June." in answer.body_text
    assert "/mail/unsubscribe/comment_answers/" in answer.list_unsubscribe
    post(db, founder, project, "News from us")  # the firm's own post: nobody is mailed
    assert len(mail_to(db, founder, "A question on")) == 1


def test_an_unsubscribed_founder_gets_no_more_questions(db, make, campaign):
    project, founder, backer = campaign
    post(db, backer, project, "First question")
    link = mail_to(db, founder, "A question on")[0].list_unsubscribe
    token = link.rsplit("/", 1)[1]
    assert comment_mail.reader_of("comment_questions", token).id == founder.id
    with pytest.raises(comment_mail.signed_links.LinkRefused):
        comment_mail.reader_of("comment_answers", token)  # a link stops one kind of mail only
    comment_mail.unsubscribe(founder, "comment_questions")
    comment_mail.unsubscribe(founder, "comment_questions")  # again: nothing more
    db.session.commit()
    post(db, backer, project, "Second question")
    assert len(mail_to(db, founder, "A question on")) == 1


def test_reports_and_hiding(db, make, campaign):
    project, founder, backer = campaign
    reporter, admin = make.user(), make.admin()
    question = post(db, backer, project, "Rude words here")
    answer = post(db, founder, project, "Please be kind.", parent_id=question.id)
    comments.set_pinned(founder, answer, True)
    comments.report(reporter, question, "Abusive")
    comments.report(reporter, question, "Abusive, again")  # the same person again: one report
    db.session.commit()
    [(reported, reports)] = comments.reported()
    assert reported.id == question.id and [r.reason for r in reports] == ["Abusive"]

    with pytest.raises(PermissionDenied):
        comments.hide(reporter, question, "Not mine to hide")
    with pytest.raises(ValidationError) as refused:
        comments.hide(admin, question, "  ")
    assert set(refused.value.fields) == {"reason"}
    comments.hide(admin, question, "Abuse")
    db.session.commit()

    assert question.is_hidden and comments.reported() == []
    assert db.session.scalar(select(CommentReport.closed_at)) is not None
    audit = db.session.scalar(select(StateChange).where(StateChange.entity == "comment"))
    assert (audit.entity_id, audit.to_state, audit.actor_id, audit.note) == (question.id, "hidden", admin.id, "Abuse")
    assert comments.faq(comments.thread(project)) == []  # its thread leaves the FAQ
    with pytest.raises(ValidationError):
        comments.post_comment(backer, project, "Reply to a hidden one", parent_id=question.id)
    assert comments.report(reporter, question) is None


def test_an_admin_may_keep_a_reported_comment(db, make, campaign):
    project, _founder, backer = campaign
    comment = post(db, backer, project, "Fine words")
    comments.report(make.user(), comment)
    comments.keep(make.admin(), comment)
    db.session.commit()
    assert comments.reported() == [] and not comment.is_hidden


def test_founders_pin_their_answers_into_the_faq(db, make, campaign):
    project, founder, backer = campaign
    question = post(db, backer, project, "Is it dimmable?")
    answer = post(db, founder, project, "Yes.", parent_id=question.id)
    other_reply = post(db, make.user(), project, "Mine is.", parent_id=question.id)
    with pytest.raises(PermissionDenied):
        comments.set_pinned(backer, answer, True)
    for not_an_answer in (question, other_reply):
        with pytest.raises(Conflict):
            comments.set_pinned(founder, not_an_answer, True)
    comments.set_pinned(founder, answer, True)
    db.session.commit()
    [item] = comments.faq(comments.thread(project))
    assert (item.question.comment.id, item.answer.comment.id) == (question.id, answer.id)
    comments.set_pinned(founder, answer, False)
    db.session.commit()
    assert comments.faq(comments.thread(project)) == []
