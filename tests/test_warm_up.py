from pathlib import Path

from crowdfund import create_app
from crowdfund.jobs import TASK_PREFIX
from crowdfund.warm_up import warm_up

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def _compiled(app):
    return {name for (_, name) in app.jinja_env.cache.keys()}


def test_warm_up_compiles_every_template_and_builds_celery_without_connecting(monkeypatch, tmp_path):
    monkeypatch.setenv("CROWDFUND_INSTANCE_PATH", str(tmp_path))
    # Nothing listens on port 1: building Celery must not try to reach the broker.
    app = create_app("testing", CELERY_BROKER_URL="redis://127.0.0.1:1/0")
    on_disk = {str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*") if p.suffix in (".html", ".txt", ".xml")}
    assert len(on_disk) > 20 and not on_disk & _compiled(app)

    assert warm_up(app) == len(on_disk)

    assert on_disk <= _compiled(app)  # the first render compiles nothing
    celery = app.extensions["celery"]
    assert celery.finalized and TASK_PREFIX + "deliver_mail" in celery.tasks


def test_warm_up_leaves_celery_alone_without_a_broker(monkeypatch, tmp_path):
    monkeypatch.setenv("CROWDFUND_INSTANCE_PATH", str(tmp_path))
    app = create_app("testing", CELERY_BROKER_URL=None)
    warm_up(app)
    assert "celery" not in app.extensions
