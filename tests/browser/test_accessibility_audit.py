"""The audit itself: it sees the pages a context loads, and it finds what it should."""

import pytest

from tests.browser import accessibility
from tests.browser.conftest import DESKTOP

pytestmark = pytest.mark.browser

BAD = (
    b'<!doctype html><html lang="en"><head><title>Bad</title></head><body><main>'
    b'<img src="/static/favicon.svg"><form><input type="text" name="q"></form></main></body></html>'
)


def test_the_audit_sees_each_page_and_reports_its_violations(live_server, browser, axe_source):
    if axe_source is None:
        pytest.skip("axe-core could not be installed here (see the warning)")
    options = {"viewport": DESKTOP, "locale": "en-US"}
    context = browser.new_context(**options)
    snapshots = []
    accessibility.watch(context, snapshots)
    page = context.new_page()
    page.goto(f"{live_server.url}/")
    page.goto(f"{live_server.url}/account/login")
    # The page keeps its CSP: an inline script is refused there (the audit runs apart).
    inline = "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
    assert page.evaluate(inline + " document.head.append(s); return window.ran === 1; }") is False
    assert [s.url for s in snapshots] == [f"{live_server.url}/", f"{live_server.url}/account/login"]
    assert accessibility.audit(browser, options, context.cookies(), snapshots, axe_source) == []
    context.close()

    bad = accessibility.Snapshot(f"{live_server.url}/nowhere", 200, "text/html", BAD)
    found = accessibility.audit(browser, options, [], [bad], axe_source)
    assert any(": image-alt (critical)" in line for line in found), found
    assert any(": label (critical)" in line for line in found), found
