# The two commands: `make run` and `make test`. Everything else they need, they set up.
PYTHON ?= python3
# `make run PORT=5401 HOST=0.0.0.0`: macOS keeps port 5000 for AirPlay.
PORT ?= 5000
HOST ?= 127.0.0.1
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi

# Translations: the .po files are committed; the compiled .mo files are built here (and ignored by git).
TRANSLATIONS := crowdfund/translations
PO_FILES := $(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po)
MO_FILES := $(PO_FILES:.po=.mo)

.PHONY: run test test-fast test-sqlite test-postgres lint bench clean translations messages

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

## Compile the message catalogs when a .po is newer than its .mo
translations: $(MO_FILES)

$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile -l $* -d $(TRANSLATIONS) -i $< -o $@

## Extract every translatable string and merge it into the catalogs (then translate the new msgids)
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output -o messages.pot .
	$(BIN)/pybabel update -i messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching --width 100

## Set up, migrate, seed the demo data and serve on http://$(HOST):$(PORT) (default 127.0.0.1:5000)
run: $(STAMP) translations
	$(BIN)/flask db upgrade
	$(BIN)/flask seed
	FLASK_SCHEDULER_ENABLED=true $(BIN)/flask run --host $(HOST) --port $(PORT)

## The whole suite on SQLite, then on PostgreSQL (mandatory when CI=true)
test: $(STAMP) translations
	$(BIN)/python -m pytest
	@if $(BIN)/python -c "from tests.conftest import postgres_available as up; raise SystemExit(0 if up() else 1)"; then \
		echo "== PostgreSQL leg =="; TEST_DB=postgresql $(BIN)/python -m pytest; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL at 127.0.0.1:5432 is required when CI=true, and it does not answer." >&2; exit 1; \
	else \
		echo "PostgreSQL does not answer: the PostgreSQL leg is skipped (it is mandatory in CI)."; \
	fi

## While you work: the suite on SQLite, over every core, without the tests that need a server or a
## process of their own (`external`: Redis, SMTP, localstripe, Celery workers, live servers,
## Chromium, schemathesis, PostgreSQL) and without the exhaustive sweeps (`slow`)
test-fast: $(STAMP) translations
	TEST_DB=sqlite $(BIN)/python -m pytest -n auto -m "not external and not slow" $(ARGS)

## The lint gate (.ci/run runs it before the tests): settings in pyproject.toml
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-sqlite: $(STAMP) translations
	$(BIN)/python -m pytest $(ARGS)

test-postgres: $(STAMP) translations
	TEST_DB=postgresql $(BIN)/python -m pytest $(ARGS)

## The benchmark: its own PostgreSQL database (127.0.0.1:5432), seeded data, gunicorn, load
## generator; prints one table and writes bench/RESULTS.md (~10 minutes on 2 cores). Redis is
## used for the settlement worker when it answers. Not part of `make test` (a smoke run is).
bench: $(STAMP)
	$(BIN)/python -m bench.run $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache $(MO_FILES)
