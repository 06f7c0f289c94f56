"""Shared set-up for the backing tests: a live reward campaign of a British firm."""

import pytest

from crowdfund import ledger
from crowdfund.extensions import db as _db
from crowdfund.models import Project
from tests.api.conftest import Api


@pytest.fixture()
def api(client):
    return Api(client)


@pytest.fixture()
def live(make):
    return make.live_project()


def address(country="GB", **overrides):
    return {
        "name": "Bo Backer",
        "line1": "1 Some Street",
        "city": "Somewhere",
        "postal_code": "AB1 2CD",
        "country": country,
        **overrides,
    }


def books_agree(project_id):
    """The ledger is sound, and the campaign's total, its escrow and its held pledges agree."""
    assert ledger.verify() == []
    project = _db.session.get(Project, project_id, populate_existing=True)
    assert ledger.balance(ledger.escrow_key(project_id)) == project.pledged_amount
    return project.pledged_amount
