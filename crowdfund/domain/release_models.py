"""Release models: when a successful reward campaign's firm receives the money.

- `at_success` (the default): everything (net of fees) is released when the campaign succeeds.
- `on_delivery` (reward campaigns only): RELEASE_AT_SUCCESS_BPS of each pledge's net is
  released at success, to fund production; the rest is held per pledge until the backer's
  reward is delivered (confirmed, or not disputed within DELIVERY_CONFIRM_DAYS of shipping).

The words stored in `projects.release_model` never change; these are what a person reads.
"""

from datetime import date, datetime, timedelta, timezone

from flask_babel import lazy_gettext as _l

AT_SUCCESS, ON_DELIVERY = "at_success", "on_delivery"
RELEASE_MODELS = (AT_SUCCESS, ON_DELIVERY)

RELEASE_MODEL_LABELS = {
    AT_SUCCESS: _l("Paid at success"),
    ON_DELIVERY: _l("Released on delivery"),
}


DELIVERY_STATUS_LABELS = {
    "awaiting_shipment": _l("Waiting to ship"),
    "shipped": _l("Shipped"),
    "problem": _l("Problem reported"),
    "refunding": _l("Being refunded"),
    "released": _l("Delivered"),
    "refunded": _l("Refunded"),
    "disputed": _l("Payment disputed"),
}


def delivery_status_label(status):
    return DELIVERY_STATUS_LABELS.get(status, status)


def release_model_label(model):
    return RELEASE_MODEL_LABELS.get(model, model)


def holds_for_delivery(project):
    return getattr(project, "release_model", AT_SUCCESS) == ON_DELIVERY and project.kind == "reward"


def split_net(net, bps):
    """(paid at success, held for delivery) of a pledge's `net` at `bps` basis points paid at
    success, rounded down: the held part takes any fraction."""
    if type(net) is not int or net < 0:
        raise ValueError(f"net must be a whole number of minor units, not {net!r}")
    if type(bps) is not int or not 0 <= bps <= 10_000:
        raise ValueError(f"the share paid at success must be from 0 to 10000 basis points, not {bps!r}")
    now = net * bps // 10_000
    return now, net - now


def late_after(due_month, grace_days):
    """The moment a reward due in `due_month` ("YYYY-MM") counts as late: the end of that month
    plus `grace_days`. None when the month is missing or not a month."""
    try:
        year, month = (int(part) for part in (due_month or "").split("-"))
        first_of_next = date(year + month // 12, month % 12 + 1, 1)
    except ValueError:
        return None
    return datetime(first_of_next.year, first_of_next.month, 1, tzinfo=timezone.utc) + timedelta(days=grace_days)
