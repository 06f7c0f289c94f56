"""A database connection dropped in the middle of a pledge: retried when nothing was done yet,
otherwise a 503 saying the payment is being checked, and the outcome mailed by reconcile.

The drops here are injected (a function raising what SQLAlchemy raises for a connection the
server closed), so these run on SQLite too; test_database_outage.py kills real connections.
"""

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from crowdfund.models import OutboxMessage, Pledge, Project, SandboxOperation, utcnow
from crowdfund.services import api_tokens, pledge_outcomes, receipts
from crowdfund.web.outages import is_outage
from tests.api.conftest import Api, error_of
from tests.pledges.test_web import form_fields
from tests.support.builders import live_reward_project


class ServerClosedTheConnection(Exception):
    """What the driver raises for a connection the server ended."""


def dropped_connection():
    return OperationalError(
        "SELECT 1",
        {},
        ServerClosedTheConnection("server closed the connection unexpectedly"),
        connection_invalidated=True,
    )


def drop_connection(monkeypatch, owner, name, *, times, after=0):
    """`owner.name` works `after` times, raises a dropped connection on the next `times` calls,
    then works again. Returns the list of its calls."""
    real = getattr(owner, name)
    calls = []

    def flaky(*args, **kwargs):
        calls.append(args)
        if after < len(calls) <= after + times:
            raise dropped_connection()
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, flaky)
    return calls


def charges(db, status="succeeded"):
    return db.session.scalar(
        select(func.count())
        .select_from(SandboxOperation)
        .where(SandboxOperation.kind == "charge", SandboxOperation.status == status)
    )


def only_pledge(db):
    return db.session.scalars(select(Pledge).execution_options(populate_existing=True)).one()


def mail(db, dedupe_key):
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.dedupe_key == dedupe_key))


def reconcile_now(app):
    result = app.test_cli_runner().invoke(args=["pledges", "reconcile", "--older-than", "0"])
    assert result.exit_code == 0, result.output
    return result.output


def ledger_verifies(app):
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    return result.exit_code == 0 and "Ledger OK" in result.output


@pytest.fixture()
def api(client):
    return Api(client)


@pytest.fixture()
def campaign(make, db):
    return live_reward_project(make, db, tiers=[{"title": "Tea tin", "price": 5_000, "quantity": 100}])


def pledge_body(campaign, payment_method="pm_card_visa"):
    return {"tier_id": campaign.tiers[0].id, "payment_method": payment_method}


# -- before any work: run once more, unseen ---------------------------------------------------


def test_an_api_pledge_whose_connection_dropped_before_any_work_goes_through(api, make, db, campaign, monkeypatch):
    token = api.token_for(make.user())
    lookups = drop_connection(monkeypatch, api_tokens, "find_token", times=1)
    response = api.post(
        f"/projects/{campaign.id}/pledges",
        pledge_body(campaign),
        token=token,
        headers={"Idempotency-Key": "dropped-before-1"},
    )
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["status"] == "held"
    assert len(lookups) == 2  # the request ran once more
    assert only_pledge(db).status == "held" and charges(db) == 1


def test_a_web_pledge_whose_connection_dropped_before_any_work_goes_through(
    client, make, login, db, campaign, monkeypatch
):
    login(make.user())
    data = form_fields(client, f"/p/{campaign.slug}/back")
    data.update(tier_id=str(campaign.tiers[0].id), quantity="1", payment_method="pm_card_visa")
    drop_connection(monkeypatch, receipts, "project_for_backing", times=1)
    response = client.post(f"/p/{campaign.slug}/back", data=data)
    assert response.status_code == 302
    pledge = only_pledge(db)
    assert response.headers["Location"].endswith(f"/pledges/{pledge.id}")
    assert pledge.status == "held" and charges(db) == 1


def test_a_drop_while_recording_the_payment_is_retried_once(api, make, db, campaign, monkeypatch):
    token = api.token_for(make.user())
    locks = drop_connection(monkeypatch, pledge_outcomes, "lock_with_receipt_data", times=1)
    response = api.post(
        f"/projects/{campaign.id}/pledges",
        pledge_body(campaign),
        token=token,
        headers={"Idempotency-Key": "dropped-step-3"},
    )
    assert response.status_code == 201 and response.get_json()["status"] == "held"
    assert len(locks) == 2 and charges(db) == 1
    pledge = only_pledge(db)
    assert mail(db, f"pledge_receipt:{pledge.id}") is not None


# -- after the charge: 503, then reconcile and a mail ---------------------------------------


def test_an_api_pledge_that_lost_the_database_after_the_charge_is_503_and_mailed_later(
    app, api, make, db, campaign, monkeypatch
):
    backer = make.user(name="Mei Backer")
    token = api.token_for(backer)
    body, key = pledge_body(campaign), {"Idempotency-Key": "dropped-after-charge"}
    drop_connection(monkeypatch, pledge_outcomes, "lock_with_receipt_data", times=2)

    response = api.post(f"/projects/{campaign.id}/pledges", body, token=token, headers=key)

    assert response.status_code == 503
    assert response.headers["Retry-After"].isdigit()
    error = error_of(response)
    assert error["code"] == "payment_being_checked"
    assert "email you the outcome" in error["message"]
    pledge = only_pledge(db)
    assert pledge.status == "pending" and charges(db) == 1  # charged, not yet recorded
    assert mail(db, f"pledge_receipt:{pledge.id}") is None

    reconcile_now(app)

    pledge = only_pledge(db)
    assert pledge.status == "held" and charges(db) == 1  # the same charge, never a second
    receipt = mail(db, f"pledge_receipt:{pledge.id}")
    assert receipt.to_address == backer.email and campaign.title in receipt.subject
    assert ledger_verifies(app)
    again = api.post(f"/projects/{campaign.id}/pledges", body, token=token, headers=key)
    assert again.status_code == 201 and again.get_json()["id"] == pledge.id and again.get_json()["status"] == "held"
    assert charges(db) == 1


def test_a_web_pledge_that_lost_the_database_after_the_charge_shows_a_page_that_says_so(
    client, make, login, db, campaign, monkeypatch
):
    login(make.user())
    data = form_fields(client, f"/p/{campaign.slug}/back")
    data.update(tier_id=str(campaign.tiers[0].id), quantity="1", payment_method="pm_card_visa")
    drop_connection(monkeypatch, pledge_outcomes, "lock_with_receipt_data", times=2)

    response = client.post(f"/p/{campaign.slug}/back", data=data)

    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    page = response.get_data(as_text=True)
    assert "We are checking your payment" in page
    assert "will email you the outcome" in page and "Please do not pay again" in page
    assert "Account" in page  # the usual page, with the backer's menu
    assert only_pledge(db).status == "pending"


def test_the_page_in_chinese(client, make, login, db, campaign, monkeypatch):
    login(make.user())
    data = form_fields(client, f"/p/{campaign.slug}/back")
    data.update(tier_id=str(campaign.tiers[0].id), quantity="1", payment_method="pm_card_visa")
    drop_connection(monkeypatch, pledge_outcomes, "lock_with_receipt_data", times=2)
    response = client.post(f"/p/{campaign.slug}/back", data=data, headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 503
    assert "我们正在核实您的付款" in response.get_data(as_text=True)


def test_a_charge_the_processor_never_saw_is_sent_by_reconcile_and_a_decline_is_mailed(
    app, api, make, db, campaign, sandbox, monkeypatch
):
    backer = make.user()
    token = api.token_for(backer)
    drop_connection(monkeypatch, sandbox, "charge", times=1)  # the processor's book was out of reach
    response = api.post(
        f"/projects/{campaign.id}/pledges",
        pledge_body(campaign, "pm_card_chargeDeclined"),
        token=token,
        headers={"Idempotency-Key": "declined-later"},
    )
    assert response.status_code == 503 and error_of(response)["code"] == "payment_being_checked"
    assert only_pledge(db).status == "pending" and charges(db, "failed") + charges(db) == 0

    reconcile_now(app)

    pledge = only_pledge(db)
    assert pledge.status == "failed" and pledge.failure_code == "card_declined"
    notice = mail(db, f"pledge_not_completed:{pledge.id}")
    assert notice.to_address == backer.email
    assert "nothing was taken" in notice.body_text
    assert db.session.get(type(campaign.tiers[0]), campaign.tiers[0].id).sold == 0  # the unit came back
    assert ledger_verifies(app)


def test_a_charge_reconcile_finds_after_the_campaign_closed_is_refunded_and_mailed(
    app, api, make, db, campaign, sandbox, monkeypatch
):
    backer = make.user()
    token = api.token_for(backer)
    drop_connection(monkeypatch, sandbox, "charge", times=1)
    response = api.post(
        f"/projects/{campaign.id}/pledges",
        pledge_body(campaign),
        token=token,
        headers={"Idempotency-Key": "late-after-outage"},
    )
    assert response.status_code == 503
    project = db.session.get(Project, campaign.id)
    project.deadline = utcnow() - timedelta(minutes=1)
    db.session.commit()

    reconcile_now(app)

    pledge = only_pledge(db)
    assert pledge.status == "failed" and pledge.failure_code == "project_not_live" and pledge.refund_ref
    notice = mail(db, f"pledge_not_completed:{pledge.id}")
    assert notice.to_address == backer.email
    assert "the campaign closed before your payment went through" in " ".join(notice.body_text.split())
    assert "refunded to you in full" in notice.body_text
    assert ledger_verifies(app)


# -- everything else: 503 service_unavailable ----------------------------------------------


def test_other_api_requests_answer_service_unavailable(api, make, db, monkeypatch):
    token = api.token_for(make.user())
    drop_connection(monkeypatch, api_tokens, "find_token", times=2)
    response = api.get("/me", token=token)
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert error_of(response)["code"] == "service_unavailable"
    assert api.get("/me", token=token).status_code == 200  # and once it is back, as before


def test_other_pages_say_to_try_again(client, make, login, db, monkeypatch):
    login(make.user())
    drop_connection(monkeypatch, receipts, "pledges_of", times=2)
    response = client.get("/me/pledges")
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert "We will be right back" in response.get_data(as_text=True)
    assert client.get("/me/pledges").status_code == 200


def test_what_counts_as_an_outage():
    import sqlite3

    import psycopg.errors

    assert is_outage(dropped_connection())
    terminated = psycopg.errors.AdminShutdown("terminating connection due to administrator command")
    assert is_outage(OperationalError("SELECT 1", {}, terminated))
    assert is_outage(OperationalError("SELECT 1", {}, psycopg.OperationalError("connection refused")))
    # A bug or bad data is not an outage: it stays a 500 (and is looked at).
    assert not is_outage(OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: pledges")))
    assert not is_outage(IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key")))
    assert not is_outage(ValueError("not a database error"))


def test_while_the_database_stays_away_the_page_still_comes_in_the_visitors_language(
    client, make, login, db, monkeypatch
):
    from crowdfund.services import user_sessions

    login(make.user())
    drop_connection(monkeypatch, user_sessions, "signed_in_user", times=100)  # not even the account loads
    response = client.get("/me/pledges", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 503 and response.headers["Retry-After"].isdigit()
    assert "我们马上回来" in response.get_data(as_text=True)
