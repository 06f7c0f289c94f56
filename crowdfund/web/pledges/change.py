"""Changing a held reward pledge while the campaign is live: the backer's "Change pledge" page.

The workflow (workflows/pledge_change.py) commits its own steps around the payment call; this
view never commits. It shows the backing form's reward fields, filled in with the pledge.
"""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale, gettext as _
from flask_login import current_user, login_required

from ...domain.money import format_money, to_major, to_minor
from ...errors import DomainError, NotFound
from ...services import backing_quote, pledge_changes, receipts
from ...services.pledge_pricing import is_open
from ...workflows import pledge_change
from ..forms import apply_domain_error
from ..request_guards import whole_number
from . import bp
from .backing_form import add_on_values, as_lines, page_quote, tier_choice
from .forms import BackForm, new_attempt_key


def _changeable_or_404(pledge_id):
    try:
        pledge = receipts.get_pledge_for(current_user, pledge_id)
    except NotFound:
        abort(404)
    if pledge.backer_id != current_user.id or pledge.shares is not None:
        abort(404)
    return pledge


def _prefill(form, pledge):
    form.tier_id.data = str(pledge.tier_id) if pledge.tier_id else "none"
    form.quantity.data = pledge.quantity
    if pledge.tier_id is None:
        form.amount.data = f"{to_major(pledge.extra_amount, pledge.currency):f}"
    elif pledge.extra_amount:
        form.extra.data = f"{to_major(pledge.extra_amount, pledge.currency):f}"
    for key, value in (pledge.shipping_address or {}).items():
        field = getattr(form, f"shipping_{key}", None)
        if field is not None:
            field.data = value
    form.payment_method.data = pledge.payment_method


def _money_or_error(form, name, currency):
    text = (getattr(form, name).data or "").strip()
    if not text:
        return 0
    try:
        return to_minor(text, currency)
    except (ArithmeticError, ValueError) as error:
        getattr(form, name).errors = list(getattr(form, name).errors) + [str(error)]
        return None


def _change_input(form, project):
    """What changes, as the workflow takes it; None when the form has errors."""
    chosen = tier_choice(form)
    values, errors = add_on_values(request.form, project)
    for message in errors.values():
        form.form_errors.append(message)
    data = {"shipping_address": form.shipping_address()}
    if chosen in ("", "none"):
        data["tier_id"] = None
        data["amount"] = _money_or_error(form, "amount", project.currency)
        data["extra"] = 0
    else:
        data["tier_id"] = whole_number(chosen)
        data["quantity"] = form.quantity.data if form.quantity.data is not None else 1
        data["extra"] = _money_or_error(form, "extra", project.currency)
        data["add_ons"] = as_lines(values)
    return None if form.errors or errors else data


@bp.route("/pledges/<int:pledge_id>/change", methods=["GET", "POST"])
@login_required
def change(pledge_id):
    pledge = _changeable_or_404(pledge_id)
    project = pledge.project
    form = BackForm()
    status = 200
    quoting = "quote" in request.form  # "Update the total" (no script): no payment
    if request.method == "GET":
        _prefill(form, pledge)
    elif not form.validate_on_submit():
        status = 422
    elif not quoting:
        data = _change_input(form, project)
        if data is not None:
            try:
                outcome = pledge_change.request_change(
                    current_user, pledge_id, data, payment_method=form.payment_method.data, return_url=return_url
                )
            except DomainError as error:
                apply_domain_error(form, error)
                status = error.status
            else:
                if outcome.waiting:  # the bank's or the wallet's page; it sends the backer back to `change_return`
                    action_url = (outcome.next_action or {}).get("url")
                    return redirect(action_url or return_url(pledge_id, outcome.change.number), 303)
                changed = outcome.pledge
                flash(
                    _(
                        "Your pledge is changed. It is now %(amount)s.",
                        amount=format_money(changed.amount, changed.currency, locale=_locale()),
                    ),
                    "success",
                )
                return redirect(url_for("pledges.receipt", pledge_id=pledge_id), 303)
        if status == 200:
            status = 422
    pledge = receipts.get_pledge_for(current_user, pledge_id)
    project = pledge.project
    page = receipts.backing_page(project, current_user)
    values = (
        add_on_values(request.form, project)[0]
        if request.method == "POST"
        else {int(i["id"]): int(i["quantity"]) for i in pledge.add_ons or ()}
    )
    form.idempotency_key.data = new_attempt_key()  # not used by a change; the form's own field
    return render_template(
        "pledges/change.html",
        pledge=pledge,
        page=page,
        project=project,
        form=form,
        chosen=tier_choice(form),
        add_on_values=values,
        quote=page_quote(project, form, values),
        figures=backing_quote.figures(project),
        changeable=pledge.status == "held" and is_open(project),
        waiting=pledge_changes.waiting_change(pledge_id),
    ), status


def return_url(pledge_id, number):
    """Where the bank or the wallet sends the backer back after confirming a change's payment."""
    return url_for("pledges.change_return", pledge_id=pledge_id, number=number, _external=True)


def _locale():
    return str(get_locale() or "en")
