"""Nobody backs their own campaign: its firm's people and the admin who approved it get 403 own_project."""

import pytest
from sqlalchemy import func, select

from crowdfund.models import FirmMember, Pledge, SandboxOperation
from tests.api.conftest import Api, error_of
from tests.conftest import csrf_token


@pytest.fixture()
def api(client):
    return Api(client)


def pledge_body(project):
    return {"tier_id": project.tiers[0].id, "payment_method": "pm_card_visa"}


def nothing_charged(db):
    return (
        db.session.scalar(select(func.count()).select_from(Pledge)) == 0
        and db.session.scalar(
            select(func.count()).select_from(SandboxOperation).where(SandboxOperation.kind == "charge")
        )
        == 0
    )


def test_the_founder_and_the_firms_other_people_are_refused_on_the_api(make, db, api):
    project = make.live_project()
    founder = make.founder_of(project)
    colleague = make.user()
    db.session.add(FirmMember(firm_id=project.firm_id, user_id=colleague.id, role="member"))
    db.session.commit()
    for person in (founder, colleague):
        response = api.post(f"/projects/{project.id}/pledges", pledge_body(project), token=api.token_for(person))
        assert response.status_code == 403
        assert error_of(response)["code"] == "own_project"
    assert nothing_charged(db)


def test_the_approving_admin_is_refused_and_another_admin_is_not(make, db, api):
    approver, other = make.admin(), make.admin()
    project = make.live_project(reviewer=approver)
    refused = api.post(f"/projects/{project.id}/pledges", pledge_body(project), token=api.token_for(approver))
    assert refused.status_code == 403 and error_of(refused)["code"] == "own_project"
    assert nothing_charged(db)
    allowed = api.post(f"/projects/{project.id}/pledges", pledge_body(project), token=api.token_for(other))
    assert allowed.status_code == 201 and allowed.get_json()["status"] == "held"


def test_the_backing_page_shows_the_refusal_instead_of_a_form(client, make, login, db):
    project = make.live_project()
    login(make.founder_of(project))
    page = client.get(f"/p/{project.slug}/back")
    assert page.status_code == 403
    text = page.get_data(as_text=True)
    assert "You cannot back this campaign: you belong to its firm or approved it." in text
    assert 'name="payment_method"' not in text
    # A form sent anyway (from an old tab): the service refuses it the same way.
    response = client.post(
        f"/p/{project.slug}/back",
        data={
            "csrf_token": csrf_token(client, "/firms/"),
            "idempotency_key": "own-attempt-0001",
            "tier_id": str(project.tiers[0].id),
            "quantity": "1",
            "payment_method": "pm_card_visa",
        },
    )
    assert response.status_code == 403
    assert "you belong to its firm or approved it" in response.get_data(as_text=True)
    assert nothing_charged(db)


def test_a_backer_still_sees_the_form(client, make, login, db):
    project = make.live_project()
    login(make.user())
    page = client.get(f"/p/{project.slug}/back")
    assert page.status_code == 200 and 'name="payment_method"' in page.get_data(as_text=True)
