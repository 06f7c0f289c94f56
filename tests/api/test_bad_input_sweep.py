"""Bad input on the JSON API: never a 500, and what the schema refuses writes nothing.

Every operation comes from the registry (what the OpenAPI document publishes): its path gets
ids past the columns, its query parameters odd values, and every field of its JSON body, a
nested one too, each bad value in turn, in an otherwise plausible body. What the published
schema bounds (a NUL, a control character where the schema's pattern says one line, text
longer than its maxLength, an integer past its maximum, a value of the wrong type, nesting)
must be refused with nothing written; anything else (huge amounts, odd numbers) must at
least not answer 500. Plus: the whole body nested 10,000 deep, a body over the size limit,
and an Idempotency-Key replayed with another body.
"""

import itertools
import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest

from crowdfund.api import parsing
from crowdfund.api.registry import OPERATIONS
from crowdfund.extensions import limiter
from crowdfund.models import Pledge, utcnow
from tests.api.conftest import PREFIX, Api, error_of
from tests.support.bad_input import CONTROL, HUGE_IDS, LONG, MEGABYTE, NUL, Findings, changed_tables, shown, snapshot
from tests.support.builders import charges
from tests.support.factories import PASSWORD

DEEP = 10_000
NEXT_YEAR = utcnow().year + 1
# Plausible values by field name, so that the one bad field is what gets a body refused.
GOOD = {
    "email": "sweep.api@example.com",
    "password": PASSWORD,
    "name": "Sweep",
    "accept_terms": True,
    "label": "sweep",
    "registration_number": "87654321",
    "country": "GB",
    "address": "1 Sweep Street",
    "website": "https://example.com",
    "description": "Plain words.",
    "currency": "USD",
    "annual_income": 9_000_000,
    "net_worth": 20_000_000,
    "accredited": False,
    "other_investments_12m": 0,
    "risk_acknowledged": True,
    "kind": "reward",
    "title": "Sweep",
    "summary": "A sweep.",
    "risks": "Some.",
    "use_of_funds": "Tools.",
    "category": "design",
    "goal": 500_000,
    "duration_days": 30,
    "price": 2500,
    "quantity": 2,
    "per_backer_limit": 2,
    "estimated_delivery": f"{NEXT_YEAR}-06",
    "shipping": "none",
    "shipping_fee": 0,
    "decision": "approve",
    "note": "Because.",
    "risk_grade": "B",
    "deadline": (utcnow() + timedelta(days=20)).isoformat(),
    "payment_method": "pm_card_visa",
    "extra": 0,
    "line1": "2 Road",
    "line2": "",
    "city": "Leeds",
    "postal_code": "LS1 1AA",
    "price_per_share": 1000,
    "shares_offered": 1000,
    "min_shares": 5,
    "pre_money_valuation": 100_000_000,
    "shares_outstanding": 100_000,
    "security_type": "ordinary_shares",
}
NOT_JSON_NUMBERS = (float("inf"), float("nan"), 1e308, "1e999999999", "12,50", "１２")


def deep_list(depth):
    return json.loads("[" * depth + "]" * depth) if depth < 500 else None


@pytest.fixture()
def world(make, db, client):
    api = Api(client)
    founder = make.user(name="Founder")
    firm = make.firm(owner=founder)
    draft = make.project(firm=firm)
    submitted = make.submitted_project(firm=firm)
    approved = make.approved_project(firm=firm)
    live = make.live_project(firm=firm)
    unlocked = make.firm(owner=founder)  # no campaign: its details may change
    admin, backer = make.admin(), make.user(name="Backer")
    tokens = {"founder": api.token_for(founder), "admin": api.token_for(admin), "backer": api.token_for(backer)}
    pledge = api.post(
        f"/projects/{live.id}/pledges",
        {"tier_id": live.tiers[0].id, "payment_method": "pm_card_visa"},
        token=tokens["backer"],
    )
    assert pledge.status_code == 201, pledge.get_json()
    comment = api.post(f"/projects/{live.id}/comments", {"body": "A question"}, token=tokens["backer"])
    assert comment.status_code == 201, comment.get_json()
    limiter.reset()
    return {
        "api": api,
        "tokens": tokens,
        "firm_id": unlocked.id,
        "pledge_id": pledge.get_json()["id"],
        "comment_id": comment.get_json()["id"],
        "tier_id": live.tiers[0].id,
        "projects": {"draft": draft.id, "submitted": submitted.id, "approved": approved.id, "live": live.id},
    }


def caller(path):
    if path.startswith("/admin"):
        return "admin"
    if path.startswith(("/pledges", "/me")) or path.endswith("/pledges"):
        return "backer"
    return "founder"


def path_values(op, world):
    projects = world["projects"]
    project = (
        projects["live"]
        if op.path.endswith(("/pledges", "/comments"))
        else projects["submitted"]
        if "/review" in op.path
        else projects["approved"]
        if op.path.endswith("/launch")
        else projects["draft"]
    )
    return {
        "project_id": project,
        "firm_id": world["firm_id"],
        "pledge_id": world["pledge_id"],
        "comment_id": world["comment_id"],
        "stretch_goal_id": 1,  # none exists: the sweep only needs the route to answer
        "add_on_id": 1,  # likewise
    }


def url(op, values):
    path = op.path
    for name in op.path_params:
        path = path.replace("{" + name + "}", str(values[name]))
    return path


def example(schema, name=""):
    """A plausible value for `schema` (GOOD by field name first)."""
    if name in GOOD:
        return GOOD[name]
    kinds = schema.get("type")
    if isinstance(kinds, list) and "null" in kinds:
        return None  # optional (equity terms of a reward project, shares of a reward pledge)
    kind = next((k for k in kinds if k != "null"), "null") if isinstance(kinds, list) else kinds
    if "enum" in schema:
        return next(v for v in schema["enum"] if v is not None)
    if kind == "object":
        return {key: example(sub, key) for key, sub in schema.get("properties", {}).items()}
    return {"string": "x", "integer": 1, "boolean": True, "array": [], "number": 1}.get(kind)


def leaves(schema, prefix=()):
    """(path, schema) of every field of a body schema, nested ones included."""
    for key, sub in schema.get("properties", {}).items():
        yield prefix + (key,), sub
        if sub.get("properties"):
            yield from leaves(sub, prefix + (key,))


def with_value(body, path, value):
    body = json.loads(json.dumps(body))
    target = body
    for key in path[:-1]:
        if not isinstance(target.get(key), dict):
            target[key] = {}
        target = target[key]
    target[path[-1]] = value
    return body


def must_refuse(schema):
    """Bad values the field's own published schema refuses."""
    kinds = schema.get("type") if isinstance(schema.get("type"), list) else [schema.get("type")]
    values = [{"deep": deep_list(40)}, deep_list(40)]  # nesting past the depth limit
    if "string" in kinds:
        values += [NUL, 12345]
        if "pattern" in schema:
            values.append(CONTROL)
        if schema.get("maxLength", 10**9) < len(LONG):
            values.append(LONG)
    if "integer" in kinds:
        values += ["12", 1.5] + list(NOT_JSON_NUMBERS)
        if "maximum" in schema:
            values += [schema["maximum"] + 1, 10**30]
    if "boolean" in kinds:
        values += ["true", NUL]
    return values


def may_be_accepted(schema):
    kinds = schema.get("type") if isinstance(schema.get("type"), list) else [schema.get("type")]
    values = [None, [], {}]
    if "integer" in kinds:
        values += [2**31, 2**63, -(2**63), 10**30, 10**400, -1, 0]
    if "string" in kinds:
        values += ["9" * 40, "²", "1e999999999", "\t", LONG if "maxLength" not in schema else "x"]
    return values


_keys = itertools.count(1)


def send(findings, api, op, path, body, token, what, raw=None):
    limiter.reset()
    headers = {"Idempotency-Key": f"sweep-key-{next(_keys):06d}"} if op.headers else {}
    if raw is not None:
        return findings.call(
            what,
            lambda: api.client.open(
                PREFIX + path,
                method=op.method,
                data=raw,
                headers={**headers, "Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            ),
        )
    data = json.dumps(body, allow_nan=True)
    return findings.call(
        what,
        lambda: api.client.open(
            PREFIX + path,
            method=op.method,
            data=data,
            headers={**headers, "Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        ),
    )


def plausible_body(op, world):
    if op.method == "PATCH":
        return {}  # only the fields sent change: the one under test alone
    body = example(op.body)
    for name in ("tier_id", "firm_id"):
        if name in body:
            body[name] = world[name]
    return body


@pytest.mark.slow  # every field of every operation: left out of `make test-fast`
def test_every_body_field_refuses_what_its_schema_refuses_and_writes_nothing(world, db):
    findings, api = Findings(), world["api"]
    for op in [op for op in OPERATIONS if op.body]:
        path, token = url(op, path_values(op, world)), world["tokens"][caller(op.path)]
        good = plausible_body(op, world)
        fields = list(leaves(op.body))
        before = snapshot()
        for field, schema in fields:
            for bad in must_refuse(schema):
                what = f"{op.method} {op.path} {'.'.join(field)}={shown(bad)}"
                response = send(findings, api, op, path, with_value(good, field, bad), token, what)
                if response is not None and response.status_code not in (400, 422):
                    findings.add(f"{what}: {response.status_code}, not 400 or 422")
        after = snapshot()
        if after != before:
            findings.add(f"{op.method} {op.path}: a refused body wrote to {', '.join(changed_tables(before, after))}")
        for field, schema in fields:
            for odd in may_be_accepted(schema):
                send(
                    findings,
                    api,
                    op,
                    path,
                    with_value(good, field, odd),
                    token,
                    f"{op.method} {op.path} {'.'.join(field)}={shown(odd)}",
                )
    assert not findings.items, findings.report()


def test_every_text_a_request_takes_is_bounded():
    """100 KB shipping lines once reached receipts and CSVs: every string field of every
    request body has a maxLength (a closed list of words has its enum)."""
    unbounded = [
        f"{op.method} {op.path} {'.'.join(field)}"
        for op in OPERATIONS
        for body in (op.body, op.multipart)
        if body
        for field, schema in leaves(body)
        if "string" in str(schema.get("type"))
        and "enum" not in schema
        and schema.get("format") != "binary"
        and "maxLength" not in schema
    ]
    assert unbounded == []


def test_malformed_bodies_are_refused_on_every_operation(world, db):
    findings, api = Findings(), world["api"]
    bodies = {
        "nested 10000 deep": "[" * DEEP + "]" * DEEP,
        "an object nested 10000 deep": '{"a":' * DEEP + "1" + "}" * DEEP,
        "not JSON": "{'a': 1",
        "a NUL key": '{"\\u0000": 1}',
        "a lone surrogate": '{"name": "\\ud800"}',
        "over the size limit": '{"description": "' + "x" * (parsing.MAX_JSON_BYTES + 10) + '"}',
    }
    before = snapshot()
    for op in [op for op in OPERATIONS if op.body]:
        path, token = url(op, path_values(op, world)), world["tokens"][caller(op.path)]
        text = next((key for key, sub in op.body["properties"].items() if "string" in str(sub.get("type"))), "x")
        bodies["a 1 MB text"] = json.dumps({**plausible_body(op, world), text: MEGABYTE})
        for name, raw in bodies.items():
            what = f"{op.method} {op.path} with {name}"
            response = send(findings, api, op, path, None, token, what, raw=raw)
            if response is not None and response.status_code not in (400, 413, 422):
                findings.add(f"{what}: {response.status_code}")
    assert snapshot() == before
    assert not findings.items, findings.report()


def test_ids_past_the_columns_and_odd_queries_never_500(world, db):
    findings, api = Findings(), world["api"]
    before = snapshot()
    for op in OPERATIONS:
        token = world["tokens"][caller(op.path)]
        real = path_values(op, world)
        for name in op.path_params:
            for huge in HUGE_IDS + ("١٢", "-1", "0"):
                path = url(op, {**real, name: huge})
                response = send(
                    findings, api, op, path, example(op.body) if op.body else None, token, f"{op.method} {path}"
                )
                # An upload's form is read before its project: sent without one, 400.
                if response is not None and response.status_code not in ((404, 400) if op.multipart else (404,)):
                    findings.add(f"{op.method} {path}: {response.status_code}, not 404")
        for param in op.query:
            for odd in (NUL, CONTROL, "9" * 40, "²", "-1", "1e999999999", LONG):
                path = url(op, real) + "?" + urlencode({param.name: odd})
                findings.call(
                    f"{op.method} {op.path}?{param.name}={shown(odd)}",
                    lambda: api.client.open(
                        PREFIX + path, method=op.method, headers={"Authorization": f"Bearer {token}"}
                    ),
                )
    assert snapshot() == before
    assert not findings.items, findings.report()


def test_a_deeply_nested_body_is_refused_as_invalid_json(api, make):
    token = api.token_for(make.user())
    response = api.client.post(
        PREFIX + "/firms",
        data="[" * DEEP + "]" * DEEP,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 400 and error_of(response)["code"] == "invalid_json"
    nested = {"name": "Deep Ltd"}
    for _ in range(40):
        nested = {"inner": nested}
    response = api.post("/firms", nested, token=token)
    assert response.status_code == 400 and "nested too deeply" in error_of(response)["message"]


def test_a_body_over_the_limit_is_413(api, make):
    token = api.token_for(make.user())
    response = api.post("/firms", {"description": "x" * (parsing.MAX_JSON_BYTES + 1)}, token=token)
    assert response.status_code == 413 and error_of(response)["code"] == "too_large"


def test_a_shipping_address_line_is_bounded(api, make, db):
    live = make.live_project()
    make.tier(live, title="Shipped", shipping="worldwide", shipping_fee="5")
    token = api.token_for(make.user())
    address = {
        "name": "A Backer",
        "line1": "2 Road",
        "line2": "x" * 100_000,
        "city": "Leeds",
        "postal_code": "LS1 1AA",
        "country": "GB",
    }
    body = {"tier_id": live.tiers[1].id, "payment_method": "pm_card_visa", "shipping_address": address}
    response = api.post(f"/projects/{live.id}/pledges", body, token=token)
    assert response.status_code == 422
    assert error_of(response)["fields"] == {"shipping_address.line2": "This must be at most 200 characters."}
    response = api.post(
        f"/projects/{live.id}/pledges", with_value(body, ("shipping_address", "city"), "Lee\nds"), token=token
    )
    assert response.status_code == 422 and "shipping_address.city" in error_of(response)["fields"]
    assert db.session.query(Pledge).count() == 0


def test_an_idempotency_key_replayed_with_another_body_is_409(api, make, db):
    live = make.live_project()
    token = api.token_for(make.user())
    body = {"tier_id": live.tiers[0].id, "quantity": 1, "payment_method": "pm_card_visa"}
    key = {"Idempotency-Key": "same-key-123"}
    first = api.post(f"/projects/{live.id}/pledges", body, token=token, headers=key)
    assert first.status_code == 201
    # The same body, its keys in another order: the same request, the same pledge.
    again = api.post(f"/projects/{live.id}/pledges", dict(reversed(list(body.items()))), token=token, headers=key)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    other = api.post(f"/projects/{live.id}/pledges", {**body, "quantity": 2}, token=token, headers=key)
    assert other.status_code == 409
    assert error_of(other)["code"] == "idempotency_key_reused"
    assert charges(db) == 1
    assert db.session.query(Pledge).one().quantity == 1
