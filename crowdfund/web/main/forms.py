from flask_babel import lazy_gettext as _l
from wtforms import SearchField, SelectField

from ..forms import Form
from ..projects.forms import CATEGORY_LABELS, choices

SORT_LABELS = {"ending_soon": _l("Ending soon"), "most_funded": _l("Most funded"), "newest": _l("Newest")}
KIND_FILTER_LABELS = {"": _l("All kinds"), "reward": _l("Rewards"), "equity": _l("Equity")}
STATUS_FILTER_LABELS = {
    "live": _l("Live now"),
    "successful": _l("Successful"),
    "failed": _l("Did not reach its goal"),
    "all": _l("All campaigns"),
}


class DiscoverForm(Form):
    """The search box and filters on the home page. A GET form: no CSRF token, nothing changes."""

    class Meta:
        csrf = False

    q = SearchField(
        _l("Search"), render_kw={"placeholder": _l("Search projects or firms"), "maxlength": 100, "autocomplete": "off"}
    )
    kind = SelectField(_l("Kind"), choices=choices(KIND_FILTER_LABELS.items()), default="")
    category = SelectField(
        _l("Category"), choices=choices([("", _l("All categories"))] + list(CATEGORY_LABELS.items())), default=""
    )
    status = SelectField(_l("Status"), choices=choices(STATUS_FILTER_LABELS.items()), default="live")
    sort = SelectField(_l("Sort by"), choices=choices(SORT_LABELS.items()), default="ending_soon")

    def cleaned(self):
        """The search as keyword arguments for `search_projects` (unknown values fall back to defaults)."""

        def pick(field, allowed, default):
            return field.data if field.data in allowed else default

        status = pick(self.status, STATUS_FILTER_LABELS, "live")
        return {
            "q": (self.q.data or "").strip()[:100] or None,
            "kind": pick(self.kind, ("reward", "equity"), None),
            "category": pick(self.category, CATEGORY_LABELS, None),
            "status": None if status == "all" else status,
            "sort": pick(self.sort, SORT_LABELS, "ending_soon"),
        }
