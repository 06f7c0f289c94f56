"""Schemathesis against /api/v1/openapi.json, in process (WSGI), with a fixed seed and a
small number of examples per operation: no 5xx, no response outside its schema.

Each operation is its own pytest test on a fresh database holding a founder (a draft, a
submitted and a live project), an admin and a backer (with a held pledge). Ids the
generator picks are steered half of the time onto those real records, so the handlers
run their real paths, not only the 404s.
"""

import os

import hypothesis
import pytest
import schemathesis
from flask import has_app_context
from schemathesis import GenerationMode

from crowdfund import api as _api
from crowdfund.extensions import db as _db, limiter
from tests.api.conftest import PREFIX, Api

# Small and fixed for CI; raise them locally to dig deeper (e.g. API_FUZZ_EXAMPLES=200 API_FUZZ_SEED=7).
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "12"))
SEED = int(os.environ.get("API_FUZZ_SEED", "20260101"))


def _isolated(app):
    """The app, each request in its own app context as in production (see FreshContextClient)."""

    def wsgi(environ, start_response):
        if has_app_context():
            _db.session.commit()
        try:
            with app.app_context():
                return app.wsgi_app(environ, start_response)
        finally:
            if has_app_context():
                _db.session.commit()

    return wsgi


@pytest.fixture()
def world(app, db, make, client):
    api = Api(client)
    founder = make.user(name="Founder")
    firm = make.firm(owner=founder)
    draft = make.project(firm=firm)
    submitted = make.submitted_project(firm=firm, kind="equity")
    live = make.live_project(firm=firm)
    admin = make.admin()
    backer = make.user(name="Backer")
    tokens = {"founder": api.token_for(founder), "admin": api.token_for(admin), "backer": api.token_for(backer)}
    response = api.post(
        f"/projects/{live.id}/pledges",
        {"tier_id": live.tiers[0].id, "payment_method": "pm_card_visa"},
        token=tokens["backer"],
    )
    assert response.status_code == 201, response.get_json()
    limiter.reset()
    return {
        "tokens": tokens,
        "project_ids": [draft.id, submitted.id, live.id],
        "live_id": live.id,
        "pledge_id": response.get_json()["id"],
        "firm_id": firm.id,
    }


@pytest.fixture()
def api_schema(app, world):
    schema = schemathesis.openapi.from_wsgi(PREFIX + "/openapi.json", _isolated(app))

    @schema.auth(refresh_interval=None)
    class Bearer:
        """The founder's token for project work, the backer's for pledges and /me, the admin's for /admin.
        (Schemathesis leaves it off the cases that test a missing or bad token.)"""

        def get(self, case, context):
            return world["tokens"][_who(case.operation.path)]

        def set(self, case, token, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}

    return schema


def _who(path):
    if path.startswith("/admin"):
        return "admin"
    if path.startswith(("/pledges", "/me")) or path.endswith("/pledges"):
        return "backer"
    return "founder"


def _steer(case, world):
    """Point even generated ids at the real records (odd ones stay, mostly as 404s)."""
    path = case.operation.path
    params = case.path_parameters or {}
    for name, value in params.items():
        if type(value) is int and value >= 1 and value % 2 == 0:
            if name == "pledge_id":
                params[name] = world["pledge_id"]
            elif name == "project_id":
                ids = [world["live_id"]] if path.endswith("/pledges") else world["project_ids"]
                params[name] = ids[value // 2 % len(ids)]
    body = case.body
    if (
        isinstance(body, dict)
        and type(body.get("firm_id")) is int
        and body["firm_id"] >= 1
        and body["firm_id"] % 2 == 0
    ):
        body["firm_id"] = world["firm_id"]


# One test per operation (known at collection time from the app's own declarations) and
# mode. Negative cases need something to break: a parameter, a body or a required token.
# (Not `schema.parametrize()`: schemathesis 4.32's pytest plugin reads `node._nodeid`, which
# pytest 9 no longer has; the strategy API below is the same generator and checks.)
CASES = [
    (op.method, op.path, op.endpoint.split(".", 1)[1], mode)
    for op in _api.registry.OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode == GenerationMode.POSITIVE
    or op.access != "public"
    or op.body
    or op.multipart
    or op.query
    or op.headers
    or op.path_params
]


@pytest.mark.parametrize(
    ("method", "path", "operation_id", "mode"), CASES, ids=[f"{m} {p} {mode.value}" for m, p, _, mode in CASES]
)
def test_api_conforms_to_its_schema(api_schema, world, method, path, operation_id, mode):
    operation = api_schema.find_operation_by_id(operation_id)
    assert (operation.method.upper(), operation.path) == (method, path)

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(hypothesis.HealthCheck),
        phases=[hypothesis.Phase.generate],
    )
    @hypothesis.seed(SEED)
    def run(case):
        _steer(case, world)
        # Every check except positive_data_acceptance: the schemas give each field's shape,
        # the services judge its meaning (a schema-valid "email" may still not be an address).
        case.call_and_validate(excluded_checks=[schemathesis.checks.positive_data_acceptance])

    run()
