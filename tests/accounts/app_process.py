"""The app served by a process of its own, for faults that must not touch the test's own
process: Flask-Limiter is one object per process, and a store it finds dead stays its
concern until it answers again.

    python -m tests.accounts.app_process      # CROWDFUND_TEST_APP: JSON {"config": {...}, "users": [...]}

It creates the tables, signs up `users` ({"email", "password", "name"}), then serves on
127.0.0.1 and a free port, which it prints as "PORT <n>". `serving_in_a_process` runs it.
"""

import json
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


class AppProcess:
    def __init__(self, process, url, log_path):
        self.process = process
        self.url = url
        self.log_path = log_path

    def log(self):
        return self.log_path.read_text(errors="replace")


@contextmanager
def serving_in_a_process(tmp_path, config, users=()):
    log_path = tmp_path / "app-process.log"
    env = dict(
        os.environ,
        CROWDFUND_INSTANCE_PATH=str(tmp_path / "instance"),
        CROWDFUND_TEST_APP=json.dumps({"config": config, "users": list(users)}),
    )
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.accounts.app_process"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
    try:
        deadline = time.monotonic() + 60
        line = process.stdout.readline()
        while not line.startswith("PORT ") and time.monotonic() < deadline and process.poll() is None:
            line = process.stdout.readline()
        assert line.startswith("PORT "), log_path.read_text()
        yield AppProcess(process, f"http://127.0.0.1:{int(line.split()[1])}", log_path)
    finally:
        process.terminate()
        process.wait(timeout=10)


def main():
    from werkzeug.serving import WSGIRequestHandler, make_server

    from crowdfund import create_app
    from crowdfund.extensions import db
    from crowdfund.models import utcnow
    from crowdfund.services import accounts

    class QuietHandler(WSGIRequestHandler):
        def log_request(self, *args, **kwargs):
            pass

    spec = json.loads(os.environ["CROWDFUND_TEST_APP"])
    app = create_app("testing", **spec["config"])
    with app.app_context():
        db.create_all()
        for person in spec["users"]:
            accounts.register(person["email"], person["password"], person.get("name", "Test Person"))
            accounts.find_by_email(person["email"]).email_verified_at = utcnow()
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietHandler)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
