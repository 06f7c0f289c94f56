"""Story images and site links in an update's mail are absolute: a mail is read off the site."""

from sqlalchemy import select

from crowdfund.models import OutboxMessage
from crowdfund.services import updates
from crowdfund.workflows import announcements, checkout

IMAGE = "/story-images/abcdefghijklmnopqrstuvwxyzABCDEF.jpg"
BODY = f"The first cups:\n\n![Cups on the bench]({IMAGE})\n\nSee [the cups up close]({IMAGE})."


def _update_mail(make, db, project):
    checkout.place_pledge(
        make.user(),
        project,
        idempotency_key=f"update-links-{project.id}",
        payment_method="pm_card_visa",
        tier_id=project.tiers[0].id,
    )
    update = updates.post_update(make.founder_of(project), project, "Cups", BODY)
    db.session.commit()
    announcements.announce_pending()
    db.session.expire_all()
    return update, db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.dedupe_key.like(f"project_update:{update.id}:%"))
    )


def test_update_mail_uses_the_configured_site_address(make, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_LINK_BASE_URL", "https://crowd.example")
    project = make.live_project(goal="500")
    update, message = _update_mail(make, db, project)
    absolute = "https://crowd.example" + IMAGE
    assert f'src="{absolute}"' in message.body_html and 'src="/' not in message.body_html
    assert f'href="{absolute}"' in message.body_html and 'href="/' not in message.body_html
    assert 'style="max-width: 100%; height: auto"' in message.body_html
    assert f"the cups up close ({absolute})" in message.body_text
    # The campaign page keeps its own site-relative addresses, the image among them.
    assert f'src="{IMAGE}"' in update.body_html


def test_update_mail_written_by_a_job_without_the_setting_is_still_absolute(make, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "MAIL_LINK_BASE_URL", None)
    project = make.live_project(goal="500")
    _update, message = _update_mail(make, db, project)
    assert f'src="http://localhost:5000{IMAGE}"' in message.body_html
    assert f"(http://localhost:5000{IMAGE})" in message.body_text


def test_update_mail_written_in_a_request_uses_its_host(make, db, app, monkeypatch):
    from crowdfund.services import update_mail

    monkeypatch.setitem(app.config, "MAIL_LINK_BASE_URL", None)
    project = make.live_project(goal="500")
    update = updates.post_update(make.founder_of(project), project, "Cups", BODY)
    with app.test_request_context("/", base_url="https://shop.example"):
        assert f'src="https://shop.example{IMAGE}"' in update_mail.mail_html(update)
