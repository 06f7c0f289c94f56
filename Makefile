# The two commands: `make run` and `make test`. Everything else they need, they set up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi

.PHONY: run test test-sqlite test-postgres bench clean

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

## Set up, migrate, seed the demo data and serve on http://127.0.0.1:5000
run: $(STAMP)
	$(BIN)/flask db upgrade
	$(BIN)/flask seed
	FLASK_SCHEDULER_ENABLED=true $(BIN)/flask run --host 127.0.0.1 --port 5000

## The whole suite on SQLite, then on PostgreSQL (mandatory when CI=true)
test: $(STAMP)
	$(BIN)/python -m pytest
	@if $(BIN)/python -c "from tests.conftest import postgres_available as up; raise SystemExit(0 if up() else 1)"; then \
		echo "== PostgreSQL leg =="; TEST_DB=postgresql $(BIN)/python -m pytest; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL at 127.0.0.1:5432 is required when CI=true, and it does not answer." >&2; exit 1; \
	else \
		echo "PostgreSQL does not answer: the PostgreSQL leg is skipped (it is mandatory in CI)."; \
	fi

test-sqlite: $(STAMP)
	$(BIN)/python -m pytest $(ARGS)

test-postgres: $(STAMP)
	TEST_DB=postgresql $(BIN)/python -m pytest $(ARGS)

## The benchmark: its own PostgreSQL database (127.0.0.1:5432), seeded data, gunicorn, load
## generator; prints one table and writes bench/RESULTS.md (~10 minutes on 2 cores). Redis is
## used for the settlement worker when it answers. Not part of `make test` (a smoke run is).
bench: $(STAMP)
	$(BIN)/python -m bench.run $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
