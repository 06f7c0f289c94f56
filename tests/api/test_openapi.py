"""openapi.json describes exactly the /api/v1 routes the app serves, accurately."""

import re

from crowdfund.api.registry import INT_MAX

METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


def _served(app):
    """(METHOD, /path/{param}) for every /api/v1 rule in the url_map."""
    served = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = re.sub(r"<(?:[^:>]+:)?(\w+)>", r"{\1}", rule.rule[len("/api/v1") :])
        for method in rule.methods & METHODS:
            served.add((method, path))
    return served


def _described(document):
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item}


def test_every_route_is_described_and_nothing_else(app, api):
    document = api.get("/openapi.json").get_json()
    served, described = _served(app), _described(document)
    assert served, "no /api/v1 routes at all"
    assert served - described == set(), "routes missing from openapi.json"
    assert described - served == set(), "openapi.json describes routes the app does not serve"
    assert ("POST", "/projects/{project_id}/pledges") in described


def test_a_route_added_without_a_declaration_is_caught(app, api):
    """The check above is real: a route registered behind the registry's back shows up."""
    document = api.get("/openapi.json").get_json()
    served = _served(app) | {("GET", "/undeclared")}
    assert served - _described(document) == {("GET", "/undeclared")}


def test_document_shape(api):
    response = api.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "A token from POST /tokens.",
    }
    create = document["paths"]["/projects/{project_id}/pledges"]["post"]
    assert create["security"] == [{"bearerAuth": []}]
    assert {"201", "401", "402", "404", "409", "422"} <= set(create["responses"])
    pledge = create["responses"]["201"]["content"]["application/json"]["schema"]
    assert pledge["additionalProperties"] is False
    assert set(pledge["required"]) >= {
        "id",
        "project_id",
        "status",
        "amount",
        "currency",
        "tier_id",
        "quantity",
        "shares",
        "created_at",
    }
    assert pledge["properties"]["status"]["enum"] == [
        "pending",
        "requires_action",
        "held",
        "released",
        "refunded",
        "cancelled",
        "failed",
        "disputed",
    ]
    assert create["responses"]["202"]["content"]["application/json"]["schema"] == pledge  # waits for the backer
    project_id = create["parameters"][0]
    assert project_id == {
        "name": "project_id",
        "in": "path",
        "required": True,
        "schema": {"type": "integer", "minimum": 1, "maximum": INT_MAX},
    }
    assert document["paths"]["/users"]["post"]["security"] == []
    assert document["paths"]["/projects"]["get"]["security"] == [{}, {"bearerAuth": []}]


def test_every_json_response_schema_is_closed(api):
    """Success bodies list their required keys and allow no others (except the document itself)."""
    document = api.get("/openapi.json").get_json()

    def walk(schema, where):
        if schema.get("type") == "object" and "properties" in schema:
            assert schema.get("additionalProperties") is False, where
            assert set(schema["required"]) <= set(schema["properties"]), where
            for name, sub in schema["properties"].items():
                walk(sub, f"{where}.{name}")
        if "items" in schema:
            walk(schema["items"], f"{where}[]")

    for path, item in document["paths"].items():
        for method, op in item.items():
            for status, response in op["responses"].items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                if schema and "$ref" not in schema and path != "/openapi.json":
                    walk(schema, f"{method.upper()} {path} {status}")
