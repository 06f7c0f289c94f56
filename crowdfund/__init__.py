"""Crowdfund: a crowdfunding platform for small and micro firms."""

import os
import secrets
from pathlib import Path

from flask import Flask

from config import CONFIGS, Config


def create_app(config=None, **overrides):
    """Build an app. `config` is a config class or its name; `overrides` win over all."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("CROWDFUND_INSTANCE_PATH")
        or str(Path(__file__).resolve().parent.parent / "instance"),
        template_folder="../templates",
        static_folder="../static",
    )
    if config is None:
        config = os.environ.get("CROWDFUND_CONFIG", "development")
    if isinstance(config, str):
        config = CONFIGS[config]
    app.config.from_object(config or Config)
    app.config.from_prefixed_env()
    app.config.update(overrides)
    from .domain.rulebooks import from_config as investor_rulebook, require_custodian

    investor_rulebook(app.config)  # a mistyped INVESTOR_RULEBOOK stops the start, not the first investor
    require_custodian(app.config)  # so does cn without the custodian bank that holds the funds
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _resolve_database_url(app)
    _resolve_secret_key(app)
    from .pools import size_pools

    size_pools(app)  # the database's and Redis's, to the threads a web process serves with

    from . import change_tokens, models  # register every table, and the listeners on their changes
    from .catalogues import compile_catalogues
    from .database import configure_engine
    from .extensions import babel, cache, csrf, db, limiter, login_manager, migrate
    from .web import i18n

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine, ping_after_idle=app.config["DATABASE_PING_AFTER_IDLE"])
    migrate.init_app(
        app,
        db,
        directory=str(Path(__file__).resolve().parent.parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    login_manager.init_app(app)
    csrf.init_app(app)
    compile_catalogues(app)  # the .mo files are not committed: made here when missing or stale
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    cache.init_app(app)

    from .api import register_api
    from .cli import register_cli
    from .web import register_web

    register_web(app)
    register_api(app)
    register_cli(app)

    from . import jobs

    jobs.init_app(app)  # what a commit asks for (crowdfund/after_commit.py) starts as jobs

    from . import request_gate
    from .web import page_cache

    # A few requests at a time, not WEB_THREADS; then, in front of it, the page cache's Front
    # resends cached public pages without Flask and without waiting in line.
    request_gate.init_app(app)
    page_cache.init_app(app)

    from .jobs.scheduler import start_scheduler

    start_scheduler(app)  # only when SCHEDULER_ENABLED (make run); never twice in a process
    return app


def _resolve_database_url(app):
    url = app.config.get("SQLALCHEMY_DATABASE_URI") or app.config.get("DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not url:
        url = "sqlite:///" + str(Path(app.instance_path) / "crowdfund.db")
    # psycopg 3 is the PostgreSQL driver; accept the usual spellings of the URL.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    app.config["SQLALCHEMY_DATABASE_URI"] = url


def _resolve_secret_key(app):
    if app.config.get("SECRET_KEY"):
        return
    if os.environ.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = os.environ["SECRET_KEY"]
        return
    if app.config["ENV_NAME"] == "production":
        raise RuntimeError("SECRET_KEY must be set in the environment in production.")
    # Development: a random key, generated once and kept in the instance folder.
    key_file = Path(app.instance_path) / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    app.config["SECRET_KEY"] = key_file.read_text().strip()
