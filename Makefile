# Commun: `make run` serves the demo on SQLite; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := app:create_app

.PHONY: run test serve bench lint format clean

$(BIN)/.installed: requirements.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --disable-pip-version-check -q -r requirements.txt
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed requirements-dev.txt
	$(BIN)/pip install --disable-pip-version-check -q -r requirements-dev.txt
	touch $@

run: $(BIN)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/flask demo
	$(BIN)/flask run --host 127.0.0.1 --port 5000

# The suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
test: $(BIN)/.installed-dev
	$(BIN)/python -m pytest
	if [ -n "$$TEST_DATABASE_URL" ]; then COMMUN_TEST_BACKEND=postgresql $(BIN)/python -m pytest; fi

serve: $(BIN)/.installed
	$(BIN)/flask db upgrade
	$(BIN)/gunicorn --workers $${WORKERS:-4} --bind $${BIND:-127.0.0.1:8000} --access-logfile - 'app:create_app()'

bench: $(BIN)/.installed-dev
	$(BIN)/python -m bench.run

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(BIN)/.installed-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
