"""What the editing modules share: reading the fields of a `data` dict, reporting every
problem at once (`raise_errors`), and the log of changes made after approval."""

from flask_babel import gettext as _

from ...domain.money import max_minor, page_locale
from ...domain.numbers import read_whole, whole_example
from ...errors import ValidationError
from ...extensions import db
from ...models import ProjectEdit
from .. import change_history, change_mail


def text(data, key, errors, *, label, required_message=None, max_length=None):
    value = (data.get(key) or "").strip()
    if not value and required_message:
        errors[key] = required_message
    elif max_length and len(value) > max_length:
        errors[key] = _("%(what)s is too long (%(max)d characters at most).", what=label, max=max_length)
    return value


def amount(data, key, currency, errors, *, required_message, positive=True):
    """An amount of money: an int of minor units (the web's MoneyField and the API read what
    people type or send), or None with a message in `errors`."""
    value = data.get(key)
    if value is None:
        errors[key] = required_message
        return None
    if type(value) is not int:  # text here is a caller's mistake: no person typed it to a service
        raise TypeError(f"{key} must be an int of minor units, not {type(value).__name__}")
    if value < 0:
        errors[key] = _("The amount cannot be negative.")
    elif value > max_minor(currency):
        errors[key] = _("That amount is too large.")
    elif positive and value == 0:
        errors[key] = _("Enter an amount greater than zero.")
    else:
        return value
    return None


def whole(data, key, errors, *, required_message=None, minimum=1, maximum=None, message=None):
    """A whole number >= minimum, or None when empty and not required."""
    raw = data.get(key)
    if raw is None or str(raw).strip() == "":
        if required_message:
            errors[key] = required_message
        return None
    # Typed digits 0-9 (with the page language's group separators in their places); the
    # API's own integers as they are.
    value = raw if type(raw) is int else read_whole(str(raw), page_locale())
    if value is None:
        errors[key] = _("Enter a whole number in digits, like %(example)s.", example=whole_example(page_locale()))
        return None
    if value < minimum or (maximum is not None and value > maximum):
        errors[key] = (
            str(message)
            if message
            else (
                _("Enter a whole number of at least %(min)d.", min=minimum)
                if maximum is None
                else _("Enter a whole number from %(min)d to %(max)d.", min=minimum, max=maximum)
            )
        )
        return None
    return value


def raise_errors(errors):
    """ValidationError with every problem in `errors` ({field: message}), headed by the first."""
    if errors:
        raise ValidationError(next(iter(errors.values())), fields=errors)


def log_edit(user, project, field, old, new):
    """Record a change made once backers may rely on the project (approved or live); it shows
    in the campaign's public "Changes" list. A change to the risks, the use of funds or the
    documents also waits for an administrator's look (services/change_history.py). Returns
    the row; the use case passes a save's rows to `announce_edits` once it has made them."""
    edit = ProjectEdit(
        project_id=project.id,
        user_id=user.id,
        field=field,
        old_value="" if old is None else str(old),
        new_value="" if new is None else str(new),
        needs_review=change_history.needs_look(field),
    )
    db.session.add(edit)
    return edit


def announce_edits(project, edits):
    """Mail a save's logged changes to the campaign's backers (and, for those an administrator
    looks at, to the administrators), in the caller's transaction (services/change_mail.py)."""
    if edits:
        db.session.flush()
        change_mail.announce(project, edits)


def save_fields(user, project, row, cleaned, *, label, logged):
    """Set `row`'s fields to `cleaned`; with `logged`, each field that changed is logged as
    "<label> <field>" and the save's changes announced. Flushes."""
    edits = []
    for key, value in cleaned.items():
        old = getattr(row, key)
        if value != old:
            if logged:
                edits.append(log_edit(user, project, f"{label} {key}", old, value))
            setattr(row, key, value)
    db.session.flush()
    announce_edits(project, edits)
