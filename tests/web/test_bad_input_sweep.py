"""Bad input on the web: never a 500, and what must be refused writes nothing.

Nothing here lists the site's pages by hand. Every route of `app.url_map` is tried with ids
past what the database columns hold, every GET route with a text part (a slug) gets NUL and
control characters there, and every page gets NUL in its query string. The forms are found
by opening every GET page as a visitor, a founder, a backer and an admin, with the ids of a
small world of real records, and parsing the forms in the HTML; each is then sent (with its
CSRF token) with NUL, control characters, 50 KB and 1 MB strings in every field, huge
numbers and malformed amounts in the number and money fields, each refused with nothing
written; and huge or odd numbers in every text field, which may be accepted as text but
must not answer 500.
"""

import itertools
from datetime import timedelta
from urllib.parse import quote, urlencode, urlsplit

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing.converters import NumberConverter

from crowdfund.api.registry import IdConverter
from crowdfund.extensions import limiter
from crowdfund.models import utcnow
from crowdfund.services import firm_changes, investors
from crowdfund.workflows import checkout
from tests.conftest import csrf_token
from tests.support.bad_input import (
    CONTROL,
    HUGE_IDS,
    LONG,
    MEGABYTE,
    NUL,
    ODD_NUMBERS,
    Findings,
    changed_tables,
    shown,
    snapshot,
)
from tests.support.factories import PASSWORD, VALID_USCC, pass_second_step
from tests.web.forms_on_pages import forms_of, is_number, is_text

ROLES = ("visitor", "founder", "backer", "admin")
NEXT_YEAR = utcnow().year + 1
# Plausible values for fields a page shows empty, so that one bad field is what gets a
# form refused (names are WTForms field names; anything not listed keeps what the page shows).
GOOD = {
    "title": "Sweep",
    "summary": "A sweep of bad input.",
    "category": "design",
    "currency": "USD",
    "goal": "5000",
    "duration_days": "30",
    "description": "Plain words.",
    "risks": "Some.",
    "use_of_funds": "Tools.",
    "price": "25",
    "quantity": "1",
    "per_backer_limit": "2",
    "estimated_delivery": f"{NEXT_YEAR}-06",
    "shipping": "none",
    "shipping_fee": "0",
    "legal_name": "Sweep Ltd",
    "country": "GB",
    "registration_number": "87654321",
    "address": "1 Sweep Street",
    "website": "https://example.com",
    "price_per_share": "10",
    "shares_offered": "1000",
    "min_shares": "5",
    "pre_money_valuation": "1000000",
    "shares_outstanding": "100000",
    "annual_income": "90000",
    "net_worth": "200000",
    "other_investments_12m": "0",
    "risk_acknowledged": "y",
    "amount": "30",
    "extra": "1",
    "shares": "5",
    "shipping_name": "A Backer",
    "shipping_line1": "2 Road",
    "shipping_city": "Leeds",
    "shipping_postal_code": "LS1 1AA",
    "shipping_country": "GB",
    "payment_method": "pm_card_visa",
    "note": "Because.",
    "body": "News.",
    "name": "Sweep Person",
    "email": "sweep.new@example.com",
    "password": PASSWORD,
    "confirm": PASSWORD,
    "current_password": PASSWORD,
    "new_password": "a new long passphrase",
    "decision": "approve",
    "deadline": (utcnow() + timedelta(days=20)).strftime("%Y-%m-%dT%H:%M"),
}


@pytest.fixture()
def world(make, db):
    """A founder's firm and projects in every state that has forms, a backer with pledges and an
    investor profile, an admin, and a firm change waiting for the admin."""
    founder = make.user(name="Founder")
    firm = make.firm(owner=founder, country="CN", registration_number=VALID_USCC[0])
    draft = make.project(firm=firm, title="Draft")
    make.tier(draft, title="Shipped", shipping="worldwide", shipping_fee="5")
    equity = make.project(firm=firm, kind="equity", title="Equity draft")
    submitted = make.submitted_project(firm=firm, title="Submitted")
    approved = make.approved_project(firm=firm, title="Approved")
    live = make.live_project(firm=firm, title="Live")
    make.tier(live, title="Shipped live", shipping="worldwide", shipping_fee="5")
    live_equity = make.live_project(firm=firm, kind="equity", title="Live equity")
    backer = make.user(name="Backer")
    admin = make.admin()
    pledge = checkout.place_pledge(
        backer,
        live,
        idempotency_key="sweep-pledge-1",
        payment_method="pm_card_visa",
        tier_id=live.tiers[0].id,
        quantity=1,
    )
    investors.save_profile(
        backer,
        {
            "currency": "USD",
            "annual_income": 9_000_000,
            "net_worth": 20_000_000,
            "other_investments_12m": 0,
            "accredited": False,
            "risk_acknowledged": True,
        },
    )
    locked_firm = live.firm
    change = firm_changes.request_change(
        founder, locked_firm, {"legal_name": "Renamed Ltd", "country": "CN", "registration_number": VALID_USCC[1]}
    )
    db.session.commit()
    projects = [draft, equity, submitted, approved, live, live_equity]
    return {
        "users": {"founder": founder, "backer": backer, "admin": admin},
        # Real values for each kind of path part, by its name in the routes.
        "ids": {
            "project_id": [p.id for p in projects],
            "firm_id": [firm.id],
            "tier_id": [t.id for t in draft.tiers],
            "pledge_id": [pledge.id],
            "document_id": [d.id for d in equity.documents][:1],
            "request_id": [change.id],
            "slug": [live.slug, live_equity.slug],
        },
    }


@pytest.fixture()
def browsers(app, world):
    """A test client per role, each signed in as that role (the visitor is not)."""
    clients = {"visitor": app.test_client()}
    for role, user in world["users"].items():
        clients[role] = sign_in(app, user)
    return clients


def sign_in(app, user):
    client = app.test_client()
    limiter.reset()
    response = client.post(
        "/account/login",
        data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_token(client, "/account/login")},
    )
    assert response.status_code == 302, response.status_code
    if urlsplit(response.headers["Location"]).path == "/account/2fa/verify":  # admins
        pass_second_step(client, user)
    return client


def signed_in(client):
    return client.get("/me/pledges").status_code == 200


def web_rules(app):
    return [
        rule
        for rule in app.url_map.iter_rules()
        if not rule.rule.startswith(("/api/", "/static/")) and rule.endpoint != "static"
    ]


def int_args(rule):
    return [
        name for name, converter in rule._converters.items() if isinstance(converter, (IdConverter, NumberConverter))
    ]


def text_args(rule):
    return [name for name in rule.arguments if name not in int_args(rule)]


def build(rule, values):
    """The path of `rule` with `values` put in as they are (percent-encoded), bypassing converters."""
    path = rule.rule
    for name in rule._converters:
        token = next(part for part in _rule_parts(rule.rule) if part.endswith(f":{name}>") or part == f"<{name}>")
        path = path.replace(token, quote(str(values[name]), safe=""))
    return path


def _rule_parts(rule_text):
    parts, depth, current = [], 0, ""
    for char in rule_text:
        if char == "<":
            depth, current = 1, "<"
        elif char == ">" and depth:
            parts.append(current + ">")
            depth, current = 0, ""
        elif depth:
            current += char
    return parts


def role_for(path):
    if path.startswith("/admin"):
        return "admin"
    if path.startswith(("/pledges", "/me", "/p/")):
        return "backer"
    return "founder"


def send_form(findings, client, method, url, data, what):
    limiter.reset()
    if method == "get":
        return findings.call(what, lambda: client.get(url + "?" + urlencode(data)))
    return findings.call(what, lambda: client.post(url, data=data))


# --- ids and path parts ---------------------------------------------------------------------


def any_csrf_token(client):
    """The CSRF token of `client`'s session, from the first page that shows a form."""
    for page in ("/account/password", "/firms/new", "/me/investor-profile", "/account/login"):
        response = client.get(page)
        if response.status_code == 200 and 'name="csrf_token"' in response.get_data(as_text=True):
            return csrf_token(client, page)
    raise AssertionError("no page with a CSRF token")


def test_ids_past_the_columns_are_404_and_text_in_paths_never_500(app, world, browsers):
    findings = Findings()
    tokens = {role: any_csrf_token(client) for role, client in browsers.items() if role != "visitor"}
    for rule in web_rules(app):
        numbers, texts = int_args(rule), text_args(rule)
        real = {name: (world["ids"].get(name) or ["x"])[0] for name in rule.arguments}
        role = role_for(rule.rule)
        client = browsers[role]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            data = {"csrf_token": tokens[role]} if method == "POST" else None
            for huge in HUGE_IDS if numbers else ():
                for name in numbers:
                    url = build(rule, {**real, name: huge})
                    response = findings.call(f"{method} {url}", lambda: client.open(url, method=method, data=data))
                    # A page: 404. An action may instead say so on the page it returns to.
                    expected = (404,) if method == "GET" else (404, 302, 303)
                    if response is not None and response.status_code not in expected:
                        findings.add(f"{method} {url}: {response.status_code}, not 404")
            for name in texts if method == "GET" else ():
                for bad in (NUL, CONTROL, "%00", " ", "..", "a" * 5000):
                    url = build(rule, {**real, name: bad})
                    response = findings.call(f"GET {shown(url)}", lambda: client.get(url))
                    if response is not None and "\x00" in bad and response.status_code != 400:
                        findings.add(f"GET {shown(url)}: {response.status_code}, not 400")
    assert not findings.items, findings.report()


# Query parameters the pages read (a page ignores the others); all of them at once per request.
QUERY_NAMES = ("q", "page", "next", "lang", "tier", "account", "kind", "category", "status", "sort", "token")


def test_nul_in_any_query_string_is_400_and_odd_values_never_500(app, world, browsers):
    findings = Findings()
    for rule in web_rules(app):
        if "GET" not in rule.methods:
            continue
        path = build(rule, {name: (world["ids"].get(name) or ["x"])[0] for name in rule.arguments})
        client = browsers[role_for(rule.rule)]
        url = f"{path}?%00=1&{urlencode(dict.fromkeys(QUERY_NAMES, NUL))}"
        response = findings.call(f"GET {url}", lambda: client.get(url))
        if response is not None and response.status_code != 400:
            findings.add(f"GET {url}: {response.status_code}, not 400")
        for bad in (CONTROL, "9" * 40, "-1", "²", "1e999999999"):
            url = f"{path}?{urlencode(dict.fromkeys(QUERY_NAMES, bad))}"
            findings.call(f"GET {path}?...={shown(bad)}", lambda: client.get(url))
    assert not findings.items, findings.report()
    page = browsers["visitor"].get("/?q=tea%00")
    assert page.status_code == 400
    assert "NUL character" in page.get_data(as_text=True)


# --- forms ------------------------------------------------------------------------------------


def discover_forms(app, world, browsers, findings):
    """Every form found on every GET page, once each: (role, page, form)."""
    found, seen = [], set()
    adapter = app.url_map.bind("localhost")
    for rule in web_rules(app):
        if "GET" not in rule.methods:
            continue
        if any(not world["ids"].get(name) for name in rule.arguments):
            continue  # a part with no real value to put in (a token, a processor's id)
        choices = [world["ids"][name] for name in rule.arguments]
        # The role the page most likely belongs to first; a visitor only where no id is needed.
        roles = [role_for(rule.rule)] + [
            r for r in ROLES if r != role_for(rule.rule) and not (r == "visitor" and int_args(rule))
        ]
        for values in itertools.islice(itertools.product(*choices), 8):
            page = build(rule, dict(zip(rule.arguments, values)))
            for role in roles:
                response = findings.call(f"GET {page} as {role}", lambda: browsers[role].get(page))
                if response is None or response.status_code != 200 or "html" not in response.mimetype:
                    continue
                forms = forms_of(response.get_data(as_text=True))
                for form in forms:
                    action = urlsplit(form["action"]).path or page
                    try:
                        endpoint, _ = adapter.match(action, method=form["method"].upper())
                    except HTTPException:
                        continue
                    key = (endpoint, form["method"], tuple(sorted({f["name"] for f in form["fields"]})))
                    if key in seen:
                        continue
                    seen.add(key)
                    found.append((role, action, form))
                if forms:
                    break  # the page's forms as the first role that has any
    return found


def baseline(form):
    data = {}
    for field in form["fields"]:
        value = field["value"]
        if field["name"] in GOOD and (not value or field["kind"] in ("select", "radio")):
            good = GOOD[field["name"]]
            value = good if field["kind"] not in ("select", "radio") or good in field["options"] else value
        if field["kind"] == "radio" and value is None and field["options"]:
            value = field["options"][0]
        if field["kind"] == "checkbox" and field["name"] in GOOD:
            value = "y"
        if value is not None:
            data[field["name"]] = value
    return data


def refused_values(field):
    """What this field must refuse, whatever the rest of the form says."""
    if field["kind"] in ("select", "radio", "checkbox"):
        return [NUL]
    if field["kind"] == "hidden":
        return [NUL, CONTROL]
    values = [NUL, CONTROL, LONG]
    if is_number(field):
        values += MONEY_AND_NUMBER_JUNK
    return values


# The amounts and numbers a number or money field must refuse (each a way the parsers once
# went wrong: an exponent's overflow, a comma read as nothing, digits that are not 0-9).
MONEY_AND_NUMBER_JUNK = ["1e999999999", "12,50", "１２", "1_000", "٣", "²", "NaN", str(2**63), "9" * 40]


def sweepable(field):
    return field["kind"] != "file" and field["name"] != "csrf_token"


@pytest.mark.slow  # every field of every form on every page: left out of `make test-fast`
def test_every_form_refuses_bad_input_and_writes_nothing(app, world, browsers, db):
    """Each field on its own refuses NUL, control characters and 50 KB; a number or money
    field also malformed and huge numbers: nothing is written. Then what may be accepted
    (numbers in a text or a choice) must not answer 500 either."""
    findings = Findings()
    forms = discover_forms(app, world, browsers, findings)
    assert len(forms) >= 15, [action for _, action, _ in forms]  # the sweep found the site's forms
    for role, action, form in forms:
        before = snapshot()
        send_refused(findings, browsers[role], role, action, form, form["fields"])
        if snapshot() != before:  # one look per form; when it wrote, one per field to name it
            for field in form["fields"]:
                before = snapshot()
                send_refused(findings, browsers[role], role, action, form, [field])
                after = snapshot()
                if after != before:
                    findings.add(
                        f"{form['method'].upper()} {action} as {role}, {field['name']}= one of "
                        f"{len(refused_values(field))} bad values: wrote to " + ", ".join(changed_tables(before, after))
                    )
    assert not findings.items, findings.report()
    may_be_accepted(app, world, browsers, forms)


def send_refused(findings, client, role, action, form, fields):
    """Each field of `fields` with each of its bad values, then a 1 MB text."""
    good = baseline(form)
    method = form["method"]
    for field in filter(sweepable, fields):
        what = f"{method.upper()} {action} as {role}, {field['name']}="
        for bad in refused_values(field):
            response = send_form(findings, client, method, action, {**good, field["name"]: bad}, what + shown(bad))
            if response is not None and method == "post" and response.status_code < 300:
                findings.add(f"{what}{shown(bad)}: accepted ({response.status_code})")
    first_text = next((f["name"] for f in fields if is_text(f)), "csrf_token")
    send_form(
        findings, client, method, action, {**good, first_text: MEGABYTE}, f"{method.upper()} {action} as {role}, 1 MB"
    )


def may_be_accepted(app, world, browsers, forms):
    """Numbers where a choice or a hidden value is expected, and as free text, never 500 (signed
    in again when a form signed out: a password change, a deleted account)."""
    findings = Findings()
    # The account's own forms last, deleting it and signing out the very last: what they accept
    # ends what the other forms need.
    for role, action, form in sorted(
        forms, key=lambda item: (item[1].startswith("/account"), item[1].endswith(("/delete", "/logout")))
    ):
        if role == "visitor":
            client = app.test_client()
        else:
            client = browsers[role] if signed_in(browsers[role]) else sign_in(app, world["users"][role])
            browsers[role] = client
        good = baseline(form)
        fields = [f for f in filter(sweepable, form["fields"]) if not is_number(f)]
        for field in fields:
            if field["kind"] in ("select", "radio", "checkbox", "hidden"):
                for odd in ODD_NUMBERS:
                    send_form(
                        findings,
                        client,
                        form["method"],
                        action,
                        {**good, field["name"]: odd},
                        f"{form['method'].upper()} {action} as {role}, {field['name']}={shown(odd)}",
                    )
        for odd in (str(2**63), "²", "\t"):  # every free-text field at once: stored as text
            texts = {f["name"]: odd for f in fields if is_text(f)}
            if texts:
                send_form(
                    findings,
                    client,
                    form["method"],
                    action,
                    {**good, **texts},
                    f"{form['method'].upper()} {action} as {role}, every text={shown(odd)}",
                )
    assert not findings.items, findings.report()
