"""GET shows the payment as the bank or wallet would; POST `outcome=succeed|fail` finishes it.

After a POST the sandbox has recorded the outcome and its webhook event (delivered once
this request commits), and the browser goes back to the charge's `return_url` with the
query parameters Stripe adds (`payment_intent`, `redirect_status`), or sees a closing page.
"""

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import segno
from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from markupsafe import Markup

from ...payments import get_gateway
from ...payments.sandbox_methods import ACTION_METHODS
from . import bp

QR_PIXELS = 240  # about this wide: fits a 390 px phone screen with the page's margins


@bp.route("/pay/<op_id>", methods=["GET", "POST"])
def pay(op_id):
    gateway = get_gateway()
    op = gateway.operation(op_id) if gateway.name == "sandbox" else None
    if op is None or op["kind"] != "charge" or op["payment_method"] not in ACTION_METHODS:
        abort(404)
    return_url = (op.get("extra") or {}).get("return_url")
    if request.method == "POST":
        outcome = request.form.get("outcome")
        if outcome not in ("succeed", "fail"):
            abort(400)
        # Only a payment still waiting changes; a second answer (a double click, the back
        # button) finds it finished and changes nothing.
        result = gateway.complete(op_id, succeed=outcome == "succeed")
        if return_url:
            return redirect(_back_to(return_url, op_id, result.ok), 303)
        return render_template("sandbox/done.html", op=op, paid=result.ok)
    kind = _kind(op["payment_method"])
    waiting = op["status"] == "requires_action"
    qr = _qr_svg(url_for("sandbox.pay", op_id=op_id, _external=True)) if kind == "wechat" and waiting else None
    back = _back_to(return_url, op_id, op["status"] == "succeeded") if return_url and not waiting else None
    return render_template("sandbox/pay.html", op=op, kind=kind, waiting=waiting, qr=qr, back=back)


def _kind(payment_method):
    return {"pm_alipay": "alipay", "pm_wechat_pay": "wechat"}.get(payment_method, "card")


def _back_to(return_url, op_id, paid):
    """`return_url` with Stripe's parameters added, as Stripe sends the browser back."""
    parts = urlsplit(return_url)
    query = parse_qsl(parts.query, keep_blank_values=True) + [
        ("payment_intent", op_id),
        ("redirect_status", "succeeded" if paid else "failed"),
    ]
    return urlunsplit(parts._replace(query=urlencode(query)))


def _qr_svg(url):
    """A QR code of `url`, drawn here as inline SVG (no image request, no outside service)."""
    code = segno.make(url, error="m")
    modules = code.symbol_size(scale=1)[0]  # with its quiet zone
    svg = code.svg_inline(scale=max(2, QR_PIXELS // modules), title=_("QR code of this payment"), svgclass="sandbox-qr")
    return Markup(svg)  # segno escapes the title; the rest is its own drawing
