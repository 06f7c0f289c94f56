"""Connection pools sized to the threads a process serves requests with.

A web process runs WEB_THREADS requests at once (gunicorn's gthread worker, `--threads`; the
Procfile and the systemd unit give gunicorn and the app the same WEB_THREADS). While one of
them waits for the payment processor, the others go on, so at any moment each of them may need:

- a database connection for its session, and for a moment a second one: the sandbox
  processor writes its own book on a connection of its own, and a job run in-process (no
  broker) has a session of its own. SQLAlchemy's pool keeps up to WEB_THREADS open and opens
  up to WEB_THREADS more at a peak (`pool_size`, `max_overflow`). With its defaults (5 + 10)
  the 16th thread would wait for a connection, and 15 threads each holding one while asking
  for a second would wait for each other until the pool's timeout;
- a connection to the Celery broker to queue a job: Celery's producer pool
  (`broker_pool_limit`, 10 by default) holds WEB_THREADS;
- a Redis connection for the page cache, the rate limits and the sweep marks: redis-py opens one
  for each thread that asks and keeps it, up to its pool's cap, past which it refuses the call
  rather than wait. So each pool's cap (REDIS_MAX_CONNECTIONS) is at least WEB_THREADS + 2 (the
  worker's own thread and a scheduler's); unset, that or redis-py's own default (100), whichever
  is more.

Settings given explicitly win: SQLALCHEMY_ENGINE_OPTIONS, CACHE_OPTIONS,
RATELIMIT_STORAGE_OPTIONS, CELERY_OPTIONS.
"""

import os

from sqlalchemy.engine import make_url

DEFAULT_WEB_THREADS = 32
REDIS_DEFAULT_MAX_CONNECTIONS = 100  # redis-py's, per pool
OTHER_THREADS = 2  # besides the request threads: the worker's own, a scheduler's


def web_threads(config):
    """Requests a web process serves at once: WEB_THREADS from the config (FLASK_WEB_THREADS)
    or the environment (WEB_THREADS, as gunicorn's command line reads it)."""
    return int(config.get("WEB_THREADS") or os.environ.get("WEB_THREADS") or DEFAULT_WEB_THREADS)


def size_pools(app):
    """Before the extensions are set up: size their pools to the threads (see above)."""
    config = app.config
    threads = web_threads(config)
    config["WEB_THREADS"] = threads
    engine_options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if _pooled(config["SQLALCHEMY_DATABASE_URI"], engine_options):
        engine_options.setdefault("pool_size", threads)
        engine_options.setdefault("max_overflow", threads)
    config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options  # a new dict: the class's stays as it is
    cap = redis_options(config)
    if "redis" in str(config.get("CACHE_TYPE") or "").lower():
        config["CACHE_OPTIONS"] = {**cap, **(config.get("CACHE_OPTIONS") or {})}
    if str(config.get("RATELIMIT_STORAGE_URI") or "").startswith("redis"):
        config["RATELIMIT_STORAGE_OPTIONS"] = {**cap, **(config.get("RATELIMIT_STORAGE_OPTIONS") or {})}


def celery_pool_options(config):
    """Celery settings of the broker's pools for this process (applied before CELERY_OPTIONS)."""
    return {"broker_pool_limit": web_threads(config)}


def redis_options(config):
    """Keyword arguments for a Redis client of this process's own (redis.Redis.from_url)."""
    cap = config.get("REDIS_MAX_CONNECTIONS") or max(REDIS_DEFAULT_MAX_CONNECTIONS, web_threads(config) + OTHER_THREADS)
    return {"max_connections": int(cap)}


def _pooled(url, engine_options):
    """Does this database get SQLAlchemy's QueuePool? Not an in-memory SQLite database
    (one connection, shared), nor an engine given a pool class of its own."""
    if "poolclass" in engine_options:
        return False
    url = make_url(url)
    return not (url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"))
