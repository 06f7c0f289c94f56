"""Reading requests: JSON bodies, multipart forms, query strings and headers, checked
against the declared schema for SHAPE only (types, unknown fields, id ranges, text the
database can store). What the values mean is for the services to judge, with their own
messages; nothing here knows a business rule.
"""

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask import request

from .errors import ApiError

# A JSON body larger or deeper than any operation takes is refused before it is looked at:
# the longest bodies (a project's four long texts) are well under 1 MB, the deepest three levels.
MAX_JSON_BYTES = 2 * 1024 * 1024
MAX_JSON_DEPTH = 32

# Text with no control characters (C0, DEL, C1): one line (a name, a title), or a text of
# several lines, where tabs and line breaks are fine. JSON Schema patterns, published with
# the schemas; what is wrong is said in words (PATTERN_PROBLEMS).
ONE_LINE = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
MULTI_LINE = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f-\\u009f]*$"
PATTERN_PROBLEMS = {
    ONE_LINE: "Remove the control characters (such as tabs or line breaks) from this line.",
    MULTI_LINE: "Remove the control characters (such as escapes) from this text; tabs and line breaks are fine.",
}

TYPE_WORDS = {
    "string": "text",
    "integer": "a whole number",
    "boolean": "true or false",
    "object": "an object",
    "array": "a list",
    "null": "null",
    "number": "a number",
}


@dataclass
class Param:
    """A query or header parameter (always optional unless `required`)."""

    name: str
    schema: dict
    description: str = ""
    required: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def key(self):
        return self.name.lower().replace("-", "_")


def _invalid(fields, message=None):
    first = next(iter(fields.values()))
    raise ApiError(422, message or first, code="validation_error", fields=fields)


def _types(schema):
    kind = schema.get("type")
    return kind if isinstance(kind, list) else [kind]


def _matches(value, kind):
    if kind == "null":
        return value is None
    if kind == "integer":
        return type(value) is int
    if kind == "number":
        return type(value) in (int, float)
    if kind == "boolean":
        return type(value) is bool
    if kind == "string":
        return isinstance(value, str)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    return True


def text_problem(value):
    """Why the database could not store this text as it is, or None."""
    if "\x00" in value:
        return "Remove the NUL character from this text."
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "This text is not valid Unicode."
    return None


def _string_problem(value, schema):
    """What is wrong with `value` against the schema's maxLength and pattern, or None."""
    longest = schema.get("maxLength")
    if longest is not None and len(value) > longest:
        return f"This must be at most {longest} characters."
    pattern = schema.get("pattern")
    if pattern is not None and not re.fullmatch(pattern, value):  # fullmatch: Python's $ allows a final \n
        return PATTERN_PROBLEMS.get(pattern, "This text is not in the expected form.")
    return None


def check(value, schema, path, errors):
    """Collect shape problems of `value` against `schema` into `errors` ({dotted path: message})."""
    label = path or "body"
    kinds = _types(schema)
    if not any(_matches(value, kind) for kind in kinds):
        words = " or ".join(TYPE_WORDS.get(k, k) for k in kinds)
        errors[label] = f"This must be {words}."
        return
    if isinstance(value, str):
        problem = text_problem(value) or _string_problem(value, schema)
        if problem:
            errors[label] = problem
    elif type(value) is int:
        # Only ids and page numbers carry bounds in the schema: a bigger id names nothing
        # and must not reach the database as an overflow. Amounts and counts are the
        # services' to judge, with their own messages.
        low, high = schema.get("minimum"), schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            errors[label] = f"This must be a whole number from {low} to {high}."
    elif isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, item in value.items():
            where = f"{path}.{key}" if path else key
            if key not in properties:
                if schema.get("additionalProperties", True) is False:
                    errors[where] = "This field is not known here."
                continue
            check(item, properties[key], where, errors)
        for key in schema.get("required", ()):
            if key not in value:
                errors[f"{path}.{key}" if path else key] = "This field is required."
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check(item, schema.get("items", {}), f"{label}[{index}]", errors)


def json_body(schema):
    """The JSON object sent, type-checked against `schema`; ApiError 400/422 otherwise."""
    data = _read_json()
    if not isinstance(data, dict):
        raise ApiError(400, "The request body must be a JSON object.", code="invalid_json")
    errors = {}
    check(data, schema, "", errors)
    if errors:
        _invalid(errors)
    return data


def _read_json():
    """The JSON value sent, bounded in size and depth; ApiError 400/413 otherwise."""
    unreadable = ApiError(
        400, "Send a JSON object, with the header Content-Type: application/json.", code="invalid_json"
    )
    if not request.is_json:
        raise unreadable
    too_large = ApiError(
        413, f"The request body is too large (at most {MAX_JSON_BYTES // 1024 // 1024} MB).", code="too_large"
    )
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise too_large
    raw = request.get_data(cache=True)
    if len(raw) > MAX_JSON_BYTES:
        raise too_large
    too_deep = ApiError(400, f"The JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels).", code="invalid_json")
    try:
        data = json.loads(raw)
    except RecursionError:  # the decoder's own guard, far past MAX_JSON_DEPTH
        raise too_deep from None
    except ValueError:
        raise unreadable from None
    if _depth(data) > MAX_JSON_DEPTH:
        raise too_deep
    return data


def _depth(value):
    """How deeply `value` nests (a scalar: 0), counted without recursion, stopping past the limit."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            if deepest > MAX_JSON_DEPTH:
                break
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def fingerprint(body):
    """SHA-256 (hex) of this request's method, path and JSON body in canonical form (keys
    sorted, no spaces): the same request sent again has the same fingerprint."""
    canonical = json.dumps([request.method, request.path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def multipart_body(schema):
    """(fields, files) of a multipart/form-data request, checked like a JSON body."""
    if not request.mimetype == "multipart/form-data":
        raise ApiError(400, "Send this as multipart/form-data.", code="invalid_form")
    form = {key: request.form.get(key) for key in request.form}
    files = {key: request.files[key] for key in request.files}
    errors = {}
    properties = schema.get("properties", {})
    for key, value in form.items():
        if key not in properties:
            continue
        if properties[key].get("format") == "binary":
            errors[key] = "Send this as a file."
            continue
        problem = text_problem(value) or _string_problem(value, properties[key])
        if problem:
            errors[key] = problem
    for key in schema.get("required", ()):
        binary = properties.get(key, {}).get("format") == "binary"
        present = files.get(key) if binary else form.get(key)
        if present is None or (binary and not present.filename and not present.content_length):
            errors.setdefault(key, "Choose a file to upload." if binary else "This field is required.")
    for key, upload in files.items():
        problem = text_problem(upload.filename or "")
        if problem:
            errors[key] = "The file name: " + problem[0].lower() + problem[1:]
    if errors:
        _invalid(errors)
    return form, files


def _scalar(raw, param, errors, where):
    kinds = _types(param.schema)
    problem = text_problem(raw)
    if problem:
        errors[where] = problem
        return None
    if "integer" in kinds:
        if not re.fullmatch(r"[+-]?\d{1,30}", raw.strip()):
            errors[where] = "This must be a whole number."
            return None
        value = int(raw)
        low, high = param.schema.get("minimum"), param.schema.get("maximum")
        if (low is not None and value < low) or (high is not None and value > high):
            errors[where] = f"This must be a whole number from {low} to {high}."
        return value
    if "enum" in param.schema and raw not in param.schema["enum"]:
        # A closed list of words in the URL (e.g. kind=reward): refused here, as a typo.
        errors[where] = "Choose one of: " + ", ".join(str(v) for v in param.schema["enum"]) + "."
        return None
    return raw


def query_params(params):
    values, errors = {}, {}
    for param in params:
        raw = request.args.get(param.name)
        if raw is None:
            values[param.key] = None
            continue
        values[param.key] = _scalar(raw, param, errors, param.name)
    if errors:
        _invalid(errors)
    return values


def header_params(params):
    values, errors = {}, {}
    for param in params:
        raw = request.headers.get(param.name)
        values[param.key] = None if raw is None else _scalar(raw, param, errors, param.name)
    if errors:
        _invalid(errors)
    return values


def aware_datetime(value, field_name):
    """An ISO 8601 time with an offset (or Z) as an aware UTC datetime; 422 otherwise."""
    message = "Give the time in ISO 8601 with a time zone, e.g. 2030-01-31T18:00:00Z."
    try:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive")
        return parsed.astimezone(timezone.utc)
    except (TypeError, ValueError, OverflowError):
        raise ApiError(422, message, code="validation_error", fields={field_name: message}) from None
