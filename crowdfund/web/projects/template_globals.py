"""How projects read in any template: status, category, shipping and country names, progress
and the time left to a deadline."""

from flask_babel import get_locale, gettext as _, ngettext

from ...domain.clock import utcnow
from ...domain.vocabulary import status_in_sentence, status_label
from ...services.firms import country_names
from ...services.projects.basics import progress_percent
from .. import page_cache
from . import bp
from .forms import CATEGORY_LABELS, SHIPPING_LABELS

# Template globals (not a context processor), so imported macros can use them too.
bp.add_app_template_global(status_label, "status_label")  # a project's; status_label(status, "pledge") and so on
bp.add_app_template_global(status_in_sentence, "status_in_sentence")
bp.add_app_template_global(lambda category: CATEGORY_LABELS.get(category, category), "category_label")
bp.add_app_template_global(lambda shipping: SHIPPING_LABELS.get(shipping, shipping), "shipping_label")
bp.add_app_template_global(progress_percent, "progress_percent")
bp.add_app_template_global(lambda code: country_names(str(get_locale() or "en")).get(code, code), "country_name")


TIME_LEFT = {  # (with "left", for a sentence; without, for a figure under a "Time left" label)
    86400: (
        lambda n: ngettext("%(num)d day left", "%(num)d days left", n),
        lambda n: ngettext("%(num)d day", "%(num)d days", n),
    ),
    3600: (
        lambda n: ngettext("%(num)d hour left", "%(num)d hours left", n),
        lambda n: ngettext("%(num)d hour", "%(num)d hours", n),
    ),
    60: (
        lambda n: ngettext("%(num)d minute left", "%(num)d minutes left", n),
        lambda n: ngettext("%(num)d minute", "%(num)d minutes", n),
    ),
}


def _time_left(deadline, short):
    if deadline is None:
        return ""
    exact = (deadline - utcnow()).total_seconds()
    seconds = int(exact)
    if seconds <= 0:
        return _("Ended")
    for unit, words in TIME_LEFT.items():
        if seconds >= unit or unit == 60:
            count = max(1, seconds // unit)
            # A cached page must not outlive the figure: it changes when fewer than `count`
            # units are left ("1 minute" stands until the end).
            page_cache.valid_for(exact - count * unit if seconds >= unit else exact)
            return words[short](count)
    return ""  # pragma: no cover - the minute entry always answers


@bp.app_template_filter("time_left")
def time_left(deadline):
    return _time_left(deadline, short=False)


@bp.app_template_filter("time_left_short")
def time_left_short(deadline):
    return _time_left(deadline, short=True)
