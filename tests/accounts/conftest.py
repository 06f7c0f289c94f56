# Fixtures the account tests borrow from elsewhere: the JSON API's client, a Redis of their own.
from tests.api.conftest import api  # noqa: F401
from tests.support.redis_process import redis_process  # noqa: F401
