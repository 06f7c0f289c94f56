"""Declaring an API operation: its route, who may call it, what it takes and returns.

`@operation(...)` registers the Flask route on the blueprint AND records the declaration
that `openapi.py` turns into the OpenAPI document, so the two cannot drift apart. The
wrapper does only transport work: authenticate the bearer token, read and type-check the
JSON body or query against the declared schema (types, required-ness of ids, unknown
fields; every business rule is left to the services), call the handler, serialise.
"""

import re
from dataclasses import dataclass, field
from functools import wraps

from flask import Blueprint, jsonify
from werkzeug.routing import BaseConverter

from ..extensions import limiter
from . import auth, parsing

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# Path parameters are ids: positive, and no larger than their column holds (a larger
# number would be a 404 anyway, and must never reach the database as an overflow).
INT_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1
BIG_ID_PARAMS = {"pledge_id"}


@dataclass
class Operation:
    method: str
    path: str  # OpenAPI form: /projects/{project_id}
    endpoint: str
    summary: str
    tag: str
    access: str  # public | optional | user | admin
    description: str = ""
    body: dict | None = None  # JSON schema of a JSON body
    multipart: dict | None = None  # JSON schema of a multipart/form-data body
    query: list = field(default_factory=list)  # parsing.Param
    headers: list = field(default_factory=list)  # parsing.Param
    status: int = 200
    response: dict | None = None  # JSON schema of the success body (None: no body)
    errors: tuple = ()
    # Other success statuses the operation answers with the same body ({status: description});
    # the function then returns (body, status).
    also: dict = field(default_factory=dict)

    @property
    def path_params(self):
        return re.findall(r"{(\w+)}", self.path)


OPERATIONS = []


def id_maximum(name):
    return BIGINT_MAX if name in BIG_ID_PARAMS else INT_MAX


class IdConverter(BaseConverter):
    """A path id: digits. One outside 1..`max` becomes 0, which names nothing, so the lookup
    answers 404 (a converter refusing it instead would make Werkzeug answer 405 for the
    other methods of the same path) and no overflowing number reaches the database."""

    regex = r"[0-9]{1,30}"  # not \d: Werkzeug would take "١٢" (Arabic-Indic digits) for 12
    weight = 50

    def __init__(self, url_map, max=INT_MAX):
        super().__init__(url_map)
        self.max = int(max)

    def to_python(self, value):
        number = int(value)
        return number if 1 <= number <= self.max else 0

    def to_url(self, value):
        return str(int(value))


def flask_rule(path):
    return re.sub(r"{(\w+)}", lambda m: f"<api_id(max={id_maximum(m.group(1))}):{m.group(1)}>", path)


@dataclass
class Call:
    """What a handler gets: the caller (None when anonymous), their token, the parsed input."""

    user: object = None
    token: object = None
    body: dict | None = None
    query: dict | None = None
    headers: dict | None = None
    files: dict | None = None


def operation(
    method,
    path,
    *,
    summary,
    tag,
    access="user",
    description="",
    body=None,
    multipart=None,
    query=(),
    headers=(),
    status=200,
    response=None,
    errors=(),
    limit=None,
    limit_scope=None,
    also=None,
):
    """Register `fn(call, **path_params)` as `method path`. It returns the body to send with
    `status` (or None with 204), or (body, one of `also`). `limit`: a Flask-Limiter limit
    (string or callable); with `limit_scope`, one budget shared with the web routes of that scope."""

    def decorator(fn):
        op = Operation(
            method=method,
            path=path,
            endpoint=f"api.{fn.__name__}",
            summary=summary,
            tag=tag,
            access=access,
            description=description,
            body=body,
            multipart=multipart,
            query=list(query),
            headers=list(headers),
            status=status,
            response=response,
            also=dict(also or {}),
            errors=tuple(sorted(set(errors) | _implied_errors(access, path, body, multipart, query, headers))),
        )

        @wraps(fn)
        def view(**path_args):
            call = Call()
            call.user, call.token = auth.authenticate(access)
            if body is not None:
                call.body = parsing.json_body(body)
            if multipart is not None:
                call.body, call.files = parsing.multipart_body(multipart)
            if op.query:
                call.query = parsing.query_params(op.query)
            if op.headers:
                call.headers = parsing.header_params(op.headers)
            result = fn(call, **path_args)
            if status == 204:
                return "", 204
            if isinstance(result, tuple):
                result, other = result
                return jsonify(result), other
            return jsonify(result), status

        if limit is not None and limit_scope is not None:
            view = limiter.shared_limit(limit, scope=limit_scope, methods=[method])(view)
        elif limit is not None:
            view = limiter.limit(limit, methods=[method])(view)
        bp.add_url_rule(flask_rule(path), endpoint=fn.__name__, view_func=view, methods=[method])
        OPERATIONS.append(op)
        return fn

    return decorator


def _implied_errors(access, path, body, multipart, query, headers):
    implied = set()
    if access in ("user", "admin", "optional"):
        implied |= {401, 403}  # 403 account_suspended: the token's account is suspended
    if "{" in path:
        implied.add(404)
    if body is not None or multipart is not None:
        implied |= {400, 413, 422}  # 413: an upload, or a JSON body, over its size
    if query or headers:
        implied.add(422)
    return implied
