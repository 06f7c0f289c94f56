"""What the conversation tests share: a live campaign with a backer, and pledges made as a
backer makes them."""

import itertools

import pytest

from crowdfund.models import Pledge, utcnow
from crowdfund.workflows import checkout

_keys = itertools.count(1)


def back(project, backer):
    """`backer` pledges for the first reward of `project`, paying with the sandbox's good card."""
    return checkout.place_pledge(
        backer,
        project,
        idempotency_key=f"conversation-{next(_keys):06d}",
        payment_method="pm_card_visa",
        tier_id=project.tiers[0].id,
        quantity=1,
    )


def pledge_row(db, project, backer, status="held"):
    """A pledge in `status` written directly (for an equity campaign, without the investor checks
    that are not the point here)."""
    pledge = Pledge(
        project_id=project.id,
        backer_id=backer.id,
        status=status,
        idempotency_key=f"row-{next(_keys)}",
        amount=5000,
        currency=project.currency,
        payment_method="pm_card_visa",
        created_at=utcnow(),
    )
    db.session.add(pledge)
    db.session.commit()
    return pledge


@pytest.fixture()
def campaign(make, db):
    """A live reward campaign: (project, founder, backer with a held pledge)."""
    founder = make.user(name="Fang Founder")
    project = make.live_project(firm=make.firm(owner=founder, legal_name="Lantern Workshop Ltd"))
    backer = make.user(name="Bo Backer")
    back(project, backer)
    db.session.commit()
    return project, founder, backer


@pytest.fixture()
def client_for(app, db):
    """client_for(user): a test client of its own, signed in as `user` (None: a visitor)."""
    from tests.conftest import csrf_token
    from tests.support import factories

    def sign_in(user):
        client = app.test_client()
        if user is None:
            return client
        response = client.post(
            "/account/login",
            data={
                "email": user.email,
                "password": factories.PASSWORD,
                "csrf_token": csrf_token(client, "/account/login"),
            },
        )
        assert response.status_code == 302, response.get_data(as_text=True)
        if response.headers["Location"].endswith("/account/2fa/verify"):
            factories.pass_second_step(client, user)
        return client

    return sign_in
