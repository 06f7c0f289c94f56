"""An accessibility audit of every page the browser tests visit: axe-core, WCAG 2.1 A and AA.

axe-core is the npm package, installed once per machine into a cache folder outside the
repository (`AXE_CACHE_DIR`, default ~/.cache/crowdfund-tests). Without npm or the registry
the audit is skipped with a warning, except under CI=true, where that fails the tests.

The pages themselves keep their Content-Security-Policy, so the tests still prove that the
CSP holds. axe is an inline script the CSP would block, so each page is audited apart: in a
second context of the same browser with `bypass_csp`, the same viewport, language, time
zone and cookies, given the very HTML the test's page received (no second request to the
server, which may have moved on: a form that was sent, a one-time link), loading its
stylesheets, scripts and images from the server as the test's page did.
"""

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

AXE_VERSION = "4.14.1"
RULE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
_CSRF = re.compile(rb'name="csrf_token"[^>]*value="[^"]*"')

_RUN = """async (tags) => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(" ") + " | " + (n.failureSummary || "").replace(/\\s+/g, " ")),
    count: v.nodes.length,
  }));
}"""


def cache_dir():
    root = os.environ.get("AXE_CACHE_DIR") or Path.home() / ".cache" / "crowdfund-tests"
    return Path(root) / f"axe-core-{AXE_VERSION}"


def install_axe():
    """(the source of axe.min.js, None) or (None, why it is missing). npm runs at most once per
    machine: later sessions find the file in the cache folder."""
    target = cache_dir()
    script = target / "node_modules" / "axe-core" / "axe.min.js"
    if script.exists():
        return script.read_text(encoding="utf-8"), None
    npm = shutil.which("npm")
    if npm is None:
        return None, "npm is missing (apt-get install npm)"
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.parent / f".axe-core-{AXE_VERSION}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # parallel test workers: one installs, the others wait
        if not script.exists():
            work = Path(tempfile.mkdtemp(dir=target.parent))
            try:
                done = subprocess.run(
                    [npm, "install", "--prefix", str(work), "--no-save", "--no-package-lock", "--no-audit",
                     "--no-fund", "--fetch-retries=1", f"axe-core@{AXE_VERSION}"],
                    capture_output=True, text=True, timeout=300, check=False,
                )  # fmt: skip
                if done.returncode != 0:
                    return None, f"npm install axe-core@{AXE_VERSION} failed: {done.stderr.strip()[-500:]}"
                os.replace(work, target)
            except (OSError, subprocess.TimeoutExpired) as error:
                return None, f"npm install axe-core@{AXE_VERSION} failed: {error}"
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return script.read_text(encoding="utf-8"), None


@dataclass
class Snapshot:
    url: str
    status: int
    content_type: str
    body: bytes


def watch(context, snapshots):
    """Keep the HTML of every page the context's pages load (their main frames only)."""

    def keep(response):
        request = response.request
        if not request.is_navigation_request() or response.frame.parent_frame is not None:
            return
        if 300 <= response.status < 400 or not response.url.startswith("http"):
            return
        content_type = response.header_value("content-type") or ""
        if "text/html" not in content_type:
            return  # a download (CSV, PDF) or an image
        try:
            body = response.body()
        except Exception:  # noqa: BLE001 - the page went away before its body was read: nothing to audit
            return
        snapshots.append(Snapshot(response.url, response.status, content_type, body))

    context.on("response", keep)


def _key(snapshot):
    # The same page twice differs only in its CSRF token: audit it once.
    return snapshot.url, hashlib.sha256(_CSRF.sub(b"", snapshot.body)).hexdigest()


def audit(browser, options, cookies, snapshots, source):
    """The WCAG 2.1 A/AA violations of each snapshot: ["<url>: <rule> (<impact>) ...", ...]."""
    problems, seen = [], set()
    context = browser.new_context(**options, bypass_csp=True)
    try:
        context.set_default_timeout(15_000)
        if cookies:
            context.add_cookies(cookies)
        for snapshot in snapshots:
            if _key(snapshot) in seen:
                continue
            seen.add(_key(snapshot))
            problems.extend(_audit_one(context, snapshot, source))
    finally:
        context.close()
    return problems


def _audit_one(context, snapshot, source):
    page = context.new_page()
    served = []

    def serve(route):
        request = route.request
        if request.is_navigation_request() and request.frame.parent_frame is None:
            if served:
                return route.abort()  # the page's own scripts may not take the audit elsewhere
            served.append(True)
            return route.fulfill(
                status=snapshot.status, headers={"content-type": snapshot.content_type}, body=snapshot.body
            )
        return route.continue_()

    try:
        page.route("**/*", serve)
        page.goto(snapshot.url, wait_until="load")
        page.add_script_tag(content=source)
        violations = page.evaluate(_RUN, RULE_TAGS)
    finally:
        page.close()
    return [
        f"{snapshot.url}: {v['id']} ({v['impact']}) {v['help']} [{v['count']}]\n      " + "\n      ".join(v["nodes"])
        for v in violations
    ]
