"""Notifications write outbox rows in the caller's transaction, once per event, in the
recipient's language."""

import threading

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from sqlalchemy import select, text

from crowdfund import create_app
from crowdfund.extensions import babel, db as _db
from crowdfund.models import FirmMember, OutboxMessage, Pledge, User
from crowdfund.services import notifications
from tests.support import outbox_rows as rows


def outbox(db):
    return db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()


def test_pledge_receipt_tells_the_backer_what_they_pledged(make, db):
    project = rows.project(make, title="Lantern Tea")
    tier = rows.tier(make, project, title="A tin of spring tea")
    backer = make.user(name="Bo Backer", email="bo@example.com")
    pledge = rows.pledge(make, project, backer, tier=tier, quantity=2, amount=5000)

    queued = notifications.pledge_receipt(pledge)

    [message] = outbox(db)
    assert queued == [message]
    assert message.to_address == "bo@example.com"
    assert message.subject == "Your pledge to Lantern Tea"
    assert message.dedupe_key == f"pledge_receipt:{pledge.id}"
    assert message.body_text.startswith("Hello Bo Backer,\n")
    assert "Amount: CN¥50.00" in message.body_text
    assert "Reward: A tin of spring tea x 2" in message.body_text
    assert f"pledge #{pledge.id}" in message.body_text
    assert "held in escrow" in message.body_text
    assert "May 1, 2031" in message.body_text  # the deadline
    assert message.sent_at is None and message.attempts == 0


def test_the_same_notification_twice_queues_one_message(make, db):
    project = rows.project(make)
    pledge = rows.pledge(make, project)

    first = notifications.pledge_receipt(pledge)
    second = notifications.pledge_receipt(pledge)
    db.session.commit()
    third = notifications.pledge_receipt(pledge)

    assert len(first) == 1 and second == [] and third == []
    assert len(outbox(db)) == 1


def test_queued_mail_is_part_of_the_callers_transaction(make, db):
    project = rows.project(make)
    pledge = rows.pledge(make, project)
    db.session.commit()

    notifications.pledge_receipt(pledge)
    assert len(outbox(db)) == 1  # flushed, visible to the caller
    db.session.rollback()  # the event did not happen after all

    assert outbox(db) == []


def test_cancelled_pledge_says_the_money_was_returned(make, db):
    project = rows.project(make, title="Lantern Tea", currency="USD")
    pledge = rows.pledge(make, project, amount=1999, status="cancelled")

    [message] = notifications.pledge_cancelled(pledge)

    assert message.subject == "Your pledge to Lantern Tea was cancelled"
    assert "Your pledge of $19.99 to Lantern Tea was cancelled." in message.body_text
    assert "returned" in message.body_text
    # A receipt and a cancellation are two events: both stay queued.
    notifications.pledge_receipt(pledge)
    assert len(outbox(db)) == 2


def test_campaign_succeeded_sends_one_message_per_backer(make, db):
    project = rows.project(make, title="Lantern Tea")
    ann, bo, cy = (make.user(name=name) for name in ("Ann", "Bo", "Cy"))
    rows.pledge(make, project, ann, amount=2500, status="released")
    rows.pledge(make, project, ann, amount=1000, status="held")
    rows.pledge(make, project, bo, amount=4000, status="released")
    rows.pledge(make, project, cy, amount=3000, status="cancelled")  # cancelled earlier: not a backer now

    queued = notifications.campaign_succeeded(project)

    by_address = {m.to_address: m for m in queued}
    assert set(by_address) == {ann.email, bo.email}
    assert by_address[ann.email].subject == "Lantern Tea reached its goal"
    assert "CN¥25.00" in by_address[ann.email].body_text and "CN¥10.00" in by_address[ann.email].body_text
    assert "Total: CN¥35.00" in by_address[ann.email].body_text
    assert "CN¥40.00" in by_address[bo.email].body_text and "Total" not in by_address[bo.email].body_text
    assert notifications.campaign_succeeded(project) == []  # the settlement job ran again
    assert len(outbox(db)) == 2


def test_campaign_succeeded_with_given_pledges(make, db):
    project = rows.project(make)
    held = rows.pledge(make, project, status="held")
    failed = rows.pledge(make, project, status="failed")

    queued = notifications.campaign_succeeded(project, [held, failed])

    assert [m.to_address for m in queued] == [held.backer.email]


@pytest.mark.parametrize(
    "status, reason",
    [
        ("failed", "did not reach its goal by its deadline"),
        ("cancelled", "was cancelled by its founders"),
        ("suspended", "was stopped by the platform"),
    ],
)
def test_failed_campaign_tells_each_backer_their_pledge_was_returned(make, db, status, reason):
    project = rows.project(make, title="Lantern Tea", status=status)
    pledge = rows.pledge(make, project, amount=2500, status="refunded")

    [message] = notifications.campaign_failed_refunded(pledge)

    assert message.subject == "Your pledge to Lantern Tea was returned"
    assert f"Lantern Tea {reason}." in message.body_text
    assert "Your pledge of CN¥25.00 was returned" in message.body_text
    assert notifications.campaign_failed_refunded(pledge) == []


def test_payout_sent_goes_to_every_member_of_the_firm(make, db):
    owner = make.user(name="Fang Founder")
    project = rows.project(make, owner=owner, title="Lantern Tea")
    partner = make.user(name="Pat Partner")
    db.session.add(FirmMember(firm_id=project.firm_id, user_id=partner.id, role="member"))
    db.session.flush()
    settlement = rows.settlement(make, project, payout_amount=95_000, payout_ref="po_sbx_42")

    queued = notifications.payout_sent(settlement)

    assert sorted(m.to_address for m in queued) == sorted([owner.email, partner.email])
    for message in queued:
        assert message.subject == "Payout sent for Lantern Tea"
        assert "CN¥950.00 was sent" in message.body_text
        assert "Payout reference: po_sbx_42" in message.body_text
    assert notifications.payout_sent(settlement) == []


@pytest.mark.parametrize(
    "decision, subject, sentence",
    [
        ("approve", "Lantern Tea was approved", "was approved. You can now launch it."),
        ("request_changes", "Changes requested for Lantern Tea", "asked for some changes"),
        ("reject", "Lantern Tea was not approved", "could not approve it"),
    ],
)
def test_review_decision_reaches_the_founders_with_the_note(make, db, decision, subject, sentence):
    owner = make.user(name="Fang Founder")
    project = rows.project(make, owner=owner, title="Lantern Tea", status="in_review")
    review = rows.review(make, project, decision, note="Please describe the risks of a poor harvest.")

    [message] = notifications.review_decision(project, review)

    assert message.to_address == owner.email
    assert message.subject == subject
    assert sentence in message.body_text
    assert "The reviewer's note:\n\nPlease describe the risks of a poor harvest.\n" in message.body_text


def test_review_decision_without_a_note_has_no_note_heading(make, db):
    project = rows.project(make, status="in_review")
    [message] = notifications.review_decision(project, rows.review(make, project, "approve"))
    assert "note" not in message.body_text


def test_amounts_and_dates_follow_the_recipients_locale_and_time_zone(make, db):
    project = rows.project(make, title="Lantern Tea")
    english = make.user(name="Ann")
    chinese = make.user(name="Bo")
    chinese.locale, chinese.timezone = "zh", "Asia/Shanghai"
    db.session.flush()

    [en_message] = notifications.pledge_receipt(rows.pledge(make, project, english, amount=2500))
    [zh_message] = notifications.pledge_receipt(rows.pledge(make, project, chinese, amount=2500))

    # To the minute (issue 23: no seconds in dates a person reads).
    assert "CN¥25.00" in en_message.body_text and "May 1, 2031, 12:00" in en_message.body_text
    assert "12:00:00" not in en_message.body_text
    # force_locale("zh") is in effect while the message is rendered: CLDR's Chinese forms,
    # in the backer's own time zone (UTC+8), and the words from crowdfund/translations/zh.
    assert "¥25.00" in zh_message.body_text and "CN¥" not in zh_message.body_text
    assert "2031年5月1日 20:00" in zh_message.body_text and "20:00:00" not in zh_message.body_text
    assert zh_message.subject == "您对“Lantern Tea”的支持"
    assert "金额：" in zh_message.body_text and "Amount:" not in zh_message.body_text


def test_a_zh_recipient_gets_the_chinese_translation(make, db, database_url, tmp_path):
    """With a zh catalogue (here a small one made for the test), subject and body are Chinese."""
    catalog = Catalog(locale="zh")
    catalog.add("Your pledge to %(title)s", "您对%(title)s的支持")
    catalog.add("Hello %(name)s,", "%(name)s，您好：")
    catalog.add("Amount:", "金额：")
    (tmp_path / "zh" / "LC_MESSAGES").mkdir(parents=True)
    with open(tmp_path / "zh" / "LC_MESSAGES" / "messages.mo", "wb") as out:
        write_mo(out, catalog)

    project = rows.project(make, title="Lantern Tea")
    chinese = make.user(name="Bo")
    chinese.locale = "zh"
    english = make.user(name="Ann")
    zh_pledge = rows.pledge(make, project, chinese)
    en_pledge = rows.pledge(make, project, english)
    db.session.commit()

    translated = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=database_url, BABEL_TRANSLATION_DIRECTORIES=str(tmp_path)
    )
    # Flask-Babel caches catalogues per process (by locale), as if there were one app.
    babel.domain_instance.cache.clear()
    try:
        with translated.app_context():
            [zh_message] = notifications.pledge_receipt(_db.session.get(Pledge, zh_pledge.id))
            [en_message] = notifications.pledge_receipt(_db.session.get(Pledge, en_pledge.id))
            _db.session.commit()
            assert zh_message.subject == "您对Lantern Tea的支持"
            assert zh_message.body_text.startswith("Bo，您好：\n")
            assert "金额： ¥25.00" in zh_message.body_text
            assert en_message.subject == "Your pledge to Lantern Tea"
            assert en_message.body_text.startswith("Hello Ann,\n")
    finally:
        babel.domain_instance.cache.clear()
        with translated.app_context():
            _db.session.remove()
            _db.engine.dispose()


def test_a_locale_the_platform_does_not_offer_falls_back_to_english(make, db):
    project = rows.project(make)
    backer = make.user(name="Zed")
    backer.locale = "xx"
    [message] = notifications.pledge_receipt(rows.pledge(make, project, backer))
    assert message.body_text.startswith("Hello Zed,") and "CN¥25.00" in message.body_text


@pytest.mark.postgres_only
def test_two_transactions_announcing_the_same_event_queue_it_once(app, make, db):
    """The second transaction finds no row (the first has not committed), inserts, waits
    on the unique index, and when the first commits takes the duplicate as 'already queued'
    without losing the rest of its own work."""
    project = rows.project(make)
    pledge = rows.pledge(make, project)
    db.session.commit()
    pledge_id = pledge.id
    first_flushed, first_may_commit = threading.Event(), threading.Event()
    results, errors = {}, []

    def first():
        try:
            with app.app_context():
                results["first"] = len(notifications.pledge_receipt(_db.session.get(Pledge, pledge_id)))
                first_flushed.set()
                first_may_commit.wait(10)
                _db.session.commit()
        except Exception as exc:  # noqa: BLE001  # pragma: no cover - reported below
            errors.append(exc)
            first_flushed.set()

    def second():
        try:
            with app.app_context():
                _db.session.add(User(email="second@example.com", name="Second", password_hash="x"))
                results["second"] = len(notifications.pledge_receipt(_db.session.get(Pledge, pledge_id)))
                _db.session.commit()
        except Exception as exc:  # noqa: BLE001  # pragma: no cover - reported below
            errors.append(exc)

    one = threading.Thread(target=first)
    one.start()
    assert first_flushed.wait(10)
    two = threading.Thread(target=second)
    two.start()
    try:
        _wait_for_a_lock_wait(db)
    finally:
        first_may_commit.set()
    assert errors == []
    one.join(10)
    two.join(10)

    assert errors == []
    assert results == {"first": 1, "second": 0}
    assert len(outbox(db)) == 1
    assert db.session.scalar(select(User).where(User.email == "second@example.com")) is not None


def _wait_for_a_lock_wait(db, timeout=10.0):
    import time

    deadline = time.monotonic() + timeout
    with db.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")).scalar()
            conn.rollback()  # a fresh look each time
            if waiting:
                return
            time.sleep(0.02)
    raise AssertionError("the second transaction never waited on the first")
