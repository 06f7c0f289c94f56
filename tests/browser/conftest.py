"""A real server and a real browser: Playwright drives Debian's Chromium (/usr/bin/chromium).

The server is werkzeug's, in a thread on 127.0.0.1 and a free port, serving an app of its
own with a fresh database (SQLite in a temporary folder, or a new PostgreSQL database under
TEST_DB=postgresql). Tests marked `browser` are skipped, with the reason, when Chromium or
Playwright is missing, except under CI=true, where that is a failure. They are slow and the
pages do not depend on the database, so they run in the SQLite leg only, unless
BROWSER_TESTS_ON_POSTGRES=1.

Never run `playwright install`: the browser is the system's Chromium.

Every page a test's pages load is also audited for accessibility (axe-core, WCAG 2.1 A/AA;
accessibility.py): a violation fails the test and is listed.
"""

import os
import warnings
from pathlib import Path

import pytest

from tests.browser import accessibility
from tests.conftest import backend
from tests.support.live_server import serving

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def browser_missing():
    """Why the browser tests cannot run here, or None."""
    if not os.path.exists(CHROMIUM):
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -r requirements-dev.txt)"
    return None


def pytest_runtest_setup(item):
    if item.get_closest_marker("browser"):
        if backend() == "postgresql" and os.environ.get("BROWSER_TESTS_ON_POSTGRES") != "1":
            # Slow, and the pages do not depend on the database: they run in the SQLite leg.
            pytest.skip("browser tests run in the SQLite leg; set BROWSER_TESTS_ON_POSTGRES=1 to run them here too")
        reason = browser_missing()
        if reason:
            if os.environ.get("CI") == "true":
                pytest.fail(f"browser tests must run in CI, but {reason}", pytrace=False)
            pytest.skip(f"browser test skipped: {reason}")


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    if browser_missing():  # no need for a server; pytest_runtest_setup says why
        pytest.skip(browser_missing())
    with serving(tmp_path_factory.mktemp("live"), RATELIMIT_LOGIN="200 per minute") as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture(scope="session")
def axe_source():
    """axe.min.js, installed with npm once (accessibility.py); None when it cannot be had here."""
    source, missing = accessibility.install_axe()
    if source is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the accessibility audit must run in CI, but {missing}", pytrace=False)
        warnings.warn(f"accessibility audit skipped: {missing}", stacklevel=1)
    return source


@pytest.fixture()
def new_page(browser, axe_source):
    """new_page(phone=False, locale="en-US", timezone="Asia/Shanghai") -> a page in a fresh context.

    Every page is watched: a script error or anything the Content-Security-Policy blocked
    fails the test, and so does a WCAG 2.1 A/AA violation on any page the context loaded
    (audited at the end of the test, apart from the page: accessibility.py)."""
    contexts, problems, audits = [], [], []

    def make(phone=False, locale="en-US", timezone="Asia/Shanghai"):
        options = {
            "viewport": PHONE if phone else DESKTOP,
            "locale": locale,
            "timezone_id": timezone,
            "device_scale_factor": 1,
        }
        if phone:
            options.update(is_mobile=True, has_touch=True)
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        snapshots = []
        accessibility.watch(context, snapshots)
        audits.append((context, options, snapshots))
        page = context.new_page()
        page.on(
            "console",
            lambda message: (
                problems.append(message.text)
                if message.type == "error" and "Content Security Policy" in message.text
                else None
            ),
        )
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        return page

    yield make
    violations = []
    try:
        if axe_source is not None:
            for context, options, snapshots in audits:
                violations += accessibility.audit(browser, options, context.cookies(), snapshots, axe_source)
    finally:
        for context in contexts:
            context.close()
    assert problems == [], problems
    assert not violations, "WCAG 2.1 A/AA violations (axe-core):\n" + "\n".join(violations)


def shoot(page, name):
    """Write a full-page screenshot to tests/artifacts/<name>.png; on a phone, the page must not
    scroll sideways."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    width = page.viewport_size["width"]
    if width <= PHONE["width"]:
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, f"{name}: the page is {overflow}px wide on a {width}px phone"
