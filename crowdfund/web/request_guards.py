"""What no page can mean, refused before any view sees it (the forms refuse the rest: web/forms.py).

- An id in a path larger than its column holds (`/projects/2147483648/edit`): the `int`
  converter of every web route is the API's bounded one, so such an id names nothing and the
  page answers 404, where the database would have raised an overflow. Ids named in
  `BIG_ID_PARAMS` (pledges) go up to BIGINT, the others up to INTEGER.
- A NUL character in the path or the query string (`?q=%00`, a slug): PostgreSQL cannot
  store or compare it, so it is answered 400 with a page that says what was wrong.

The JSON API reads its own paths and queries (api/registry.py, api/parsing.py).
"""

import re

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from werkzeug.routing import Rule

from ..api.registry import INT_MAX, IdConverter, id_maximum


class BoundedIdRule(Rule):
    """A route whose `<int:name>` parts are bounded by what the column `name` refers to holds."""

    def get_converter(self, variable_name, converter_name, args, kwargs):
        if converter_name == "int" and "max" not in kwargs:
            kwargs = {**kwargs, "max": id_maximum(variable_name)}
        return super().get_converter(variable_name, converter_name, args, kwargs)


def whole_number(text, maximum=INT_MAX):
    """`text` as a whole number from 1 to `maximum`, or None. Digits 0-9 only: `str.isdigit`
    and `int()` also take "²" (and fail on it) or "١٢", and `int()` any length."""
    text = (text or "").strip()
    if not re.fullmatch(r"[0-9]{1,19}", text):
        return None
    value = int(text)
    return value if 1 <= value <= maximum else None


NUL_TITLE = _l("That address has a character we cannot read")
NUL_TEXT = _l(
    "The address or the search contains a NUL character (an invisible control character). Remove it and try again."
)


def _has_nul(values):
    return any("\x00" in key or any("\x00" in value for value in values.getlist(key)) for key in values)


def init_app(app):
    """Call before any blueprint is registered: the rules are built with these converters."""
    app.url_rule_class = BoundedIdRule
    app.url_map.converters["int"] = IdConverter

    @app.before_request
    def refuse_nul_in_address():
        if request.path.startswith("/api/"):
            return None
        if "\x00" in request.path or _has_nul(request.args):
            return render_template("errors/error.html", status=400, title=NUL_TITLE, text=NUL_TEXT), 400
        return None
