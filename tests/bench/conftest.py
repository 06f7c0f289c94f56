from tests.celery_broker import redis_queue  # noqa: F401  (fixture)
