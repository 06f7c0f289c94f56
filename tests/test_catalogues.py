"""The compiled catalogues (.mo) are made as the app starts: a deployment that never ran
`make` still speaks Chinese."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from crowdfund import catalogues, create_app
from crowdfund.extensions import db
from tests.conftest import backend, new_database

ROOT = Path(__file__).resolve().parent.parent
TREE_LEFT_OUT = shutil.ignore_patterns(
    ".venv", ".git", "instance", "__pycache__", ".pytest_cache", "*.mo", "artifacts", "out", "*.db"
)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.slow
def test_a_copy_without_compiled_catalogues_served_by_gunicorn_speaks_chinese(tmp_path):
    """As docs/PRODUCTION.md deploys it: the code (no .mo: they are not committed), gunicorn,
    the production config. Two workers start at once and both find the catalogues stale."""
    code = tmp_path / "app"
    shutil.copytree(ROOT, code, ignore=TREE_LEFT_OUT)
    assert not list(code.rglob("*.mo"))
    instance = tmp_path / "instance"
    with new_database(backend(), tmp_path) as url:
        schema = create_app("testing", SQLALCHEMY_DATABASE_URI=url)
        with schema.app_context():
            db.create_all()
            db.session.remove()
            db.engine.dispose()
        port = free_port()
        env = {key: value for key, value in os.environ.items() if not key.startswith(("FLASK_", "PYTHONPATH"))}
        env.update(
            CROWDFUND_CONFIG="production",
            SECRET_KEY="s" * 64,
            DATABASE_URL=url,
            CROWDFUND_INSTANCE_PATH=str(instance),
            FLASK_RATELIMIT_STORAGE_URI='"memory://"',
        )
        gunicorn = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--chdir",
                str(code),
                "wsgi:app",
            ],
            env=env,
            cwd=code,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            page = _first_answer(f"http://127.0.0.1:{port}/", gunicorn, headers={"Accept-Language": "zh-CN,zh;q=0.9"})
            assert page.status_code == 200
            assert "发现项目" in page.text and "Discover" not in page.text
            assert (code / "crowdfund/translations/zh/LC_MESSAGES/messages.mo").is_file()
        finally:
            os.killpg(gunicorn.pid, signal.SIGTERM)
            output = gunicorn.communicate(timeout=30)[0].decode(errors="replace")
        assert "Traceback" not in output, output


def _first_answer(url, process, headers, wait=60):
    deadline = time.monotonic() + wait
    while True:
        try:
            return requests.get(url, headers=headers, timeout=120)
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(process.communicate(timeout=10)[0].decode(errors="replace")) from None
            time.sleep(0.2)


def test_a_stale_catalogue_is_compiled_again_and_a_fresh_one_is_left_alone(tmp_path):
    source = tmp_path / "translations"
    shutil.copytree(ROOT / "crowdfund/translations", source, ignore=shutil.ignore_patterns("*.mo"))
    po = source / "zh/LC_MESSAGES/messages.po"

    assert catalogues.compile_stale(source, source) == [po.with_suffix(".mo")]
    assert catalogues.compile_stale(source, source) == []  # nothing to do on the next start
    later = po.with_suffix(".mo").stat().st_mtime + 10
    os.utime(po, (later, later))  # the .po changed since
    assert catalogues.compile_stale(source, source) == [po.with_suffix(".mo")]
    assert not [path for path in po.parent.iterdir() if path.name.endswith(".tmp")]


def test_code_that_cannot_be_written_gets_its_catalogues_in_the_instance_folder(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from babel.support import Translations

    code = tmp_path / "code"
    shutil.copytree(ROOT / "crowdfund/translations", code / "translations", ignore=shutil.ignore_patterns("*.mo"))
    real_replace = os.replace

    def read_only_code(source, target):
        if Path(target).is_relative_to(code):
            raise PermissionError(13, "Permission denied", str(target))
        return real_replace(source, target)

    monkeypatch.setattr(os, "replace", read_only_code)
    app = SimpleNamespace(root_path=str(code), instance_path=str(tmp_path / "instance"), config={})

    catalogues.compile_catalogues(app)

    compiled = tmp_path / "instance" / "translations"
    assert app.config["BABEL_TRANSLATION_DIRECTORIES"] == str(compiled)
    assert Translations.load(str(compiled), ["zh"]).gettext("Discover") == "发现项目"
    assert not list(code.rglob("*.mo")) and not list(code.rglob("*.tmp"))
