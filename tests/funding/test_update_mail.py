"""Update mails: readable text (no raw Markdown) and a sanitised HTML alternative."""

from sqlalchemy import select

from crowdfund.jobs.mail import build_email
from crowdfund.models import OutboxMessage
from crowdfund.services import updates
from crowdfund.workflows import announcements, checkout


def test_an_update_mail_has_plain_text_and_sanitised_html(make, db, app):
    project = make.live_project(goal="500")
    backer = make.user()
    checkout.place_pledge(
        backer,
        project,
        idempotency_key="update-mail-000001",
        payment_method="pm_card_visa",
        tier_id=project.tiers[0].id,
        quantity=1,
    )
    updates.post_update(
        make.founder_of(project),
        project,
        "First batch",
        "We **shipped** the [first batch](https://example.com).\n\n- tea\n- cups\n\n<script>alert(1)</script>",
    )
    db.session.commit()
    announcements.announce_pending()
    db.session.expire_all()
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key.like("project_update:%")))
    assert "**" not in message.body_text and "](" not in message.body_text
    assert "We shipped the first batch (https://example.com)." in message.body_text and "- tea" in message.body_text
    assert "<strong>shipped</strong>" in message.body_html and "<script" not in message.body_html
    assert "Hello" in message.body_html
    email = build_email(message, app.config)
    assert email.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in email.iter_parts()] == ["text/plain", "text/html"]


def test_the_receipt_mail_does_not_double_a_firms_final_dot(make, db):
    firm = make.firm(legal_name="Lantern Tea Co., Ltd.")
    project = make.live_project(firm=firm, goal="500")
    pledge = checkout.place_pledge(
        make.user(),
        project,
        idempotency_key="final-dot-000001",
        payment_method="pm_card_visa",
        tier_id=project.tiers[0].id,
    )
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == f"pledge_receipt:{pledge.id}"))
    assert "Co., Ltd.." not in message.body_text and "Co., Ltd." in message.body_text
