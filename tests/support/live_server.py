"""A real HTTP server for tests that the test client cannot stand in for (streamed
responses, faults injected under the server): werkzeug's, in a thread on 127.0.0.1 and a
free port, serving an app of its own over a fresh database (SQLite in a temporary folder, or
a new PostgreSQL database under TEST_DB=postgresql), dropped afterwards.

    with serving(tmp_path, SANDBOX_WEBHOOKS=False) as server:
        requests.get(server.url + "/healthz")
        with server.app.app_context(): ...      # the server's database
"""

import os
import threading
from contextlib import contextmanager

from tests.conftest import backend, new_database


class LiveServer:
    def __init__(self, app, server):
        self.app = app
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_port}"
        self.database_url = app.config["SQLALCHEMY_DATABASE_URI"]


@contextmanager
def instance_path(path):
    saved = os.environ.get("CROWDFUND_INSTANCE_PATH")
    os.environ["CROWDFUND_INSTANCE_PATH"] = str(path)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("CROWDFUND_INSTANCE_PATH", None)
        else:
            os.environ["CROWDFUND_INSTANCE_PATH"] = saved


@contextmanager
def serving(root, **config):
    """A live server for an app built with `config` over a database of its own, in `root`."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    from crowdfund import create_app
    from crowdfund.extensions import db

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    root.mkdir(parents=True, exist_ok=True)
    with new_database(backend(), root) as url, instance_path(root / "instance"):
        config.setdefault("RATELIMIT_LOGIN", "1000 per minute")
        app = create_app("testing", SQLALCHEMY_DATABASE_URI=url, **config)
        with app.app_context():
            db.create_all()
        server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
        thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
        thread.start()
        try:
            yield LiveServer(app, server)
        finally:
            server.shutdown()
            thread.join(timeout=10)
            with app.app_context():
                db.session.remove()
                db.engine.dispose()


def signed_in(server, email, password=None):
    """A `requests` session signed in on `server` through its login form, as a browser is."""
    import re

    import requests

    from tests.support.factories import PASSWORD

    browser = requests.Session()
    page = browser.get(f"{server.url}/account/login", timeout=30).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = browser.post(
        f"{server.url}/account/login",
        allow_redirects=False,
        timeout=30,
        data={"email": email, "password": password or PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302, response.text
    return browser
