from tests.pledges.conftest import sandbox, use_gateway  # noqa: F401  (the same gateway fixtures)
