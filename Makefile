# Two commands: `make run` (the service on this machine, nothing else needed) and `make test` (the suite); `make bench` measures (BENCHMARKS.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PORT ?= 5000
DEV_ENV := CERTIFY_ENV=development

.PHONY: run test install translations clean-instance

# The service's own dependencies (make run); the test tools come on top for make test.
$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

install: $(DEV_STAMP)

# The Korean message catalogues, one per area of the app, compiled for Flask-Babel.
CATALOGUES := $(wildcard certify/translations/*/ko/LC_MESSAGES/messages.po)
COMPILED := $(CATALOGUES:.po=.mo)
%.mo: %.po $(STAMP)
	$(BIN)/pybabel compile -i $< -o $@ >/dev/null
translations: $(COMPILED)

# Web server and a real Celery worker (with the periodic sweep) on SQLite and the embedded broker.
run: $(STAMP) translations
	$(DEV_ENV) $(BIN)/flask --app certify db upgrade
	$(DEV_ENV) $(BIN)/flask --app certify seed-demo
	@echo
	@echo "certify is starting on http://127.0.0.1:$(PORT)  (Ctrl-C stops web and worker)"
	@echo "Demo accounts (also in instance/demo-accounts.txt):"
	@cat instance/demo-accounts.txt
	@echo
	@trap 'kill 0' INT TERM EXIT; \
	$(DEV_ENV) $(BIN)/celery --app workers worker --beat --concurrency 2 --loglevel INFO \
		--schedule instance/celerybeat-schedule & \
	$(DEV_ENV) $(BIN)/flask --app certify run --port $(PORT)

# The whole suite, against PostgreSQL and Redis on this machine (CERTIFY_TEST_DATABASE_URL, CERTIFY_TEST_BROKER_URL).
test: $(DEV_STAMP) translations
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean-instance:
	rm -rf instance

# Performance at national scale (BENCHMARKS.md): gunicorn, two Celery workers, PostgreSQL and Redis on a fresh
# database seeded with BENCH_BATCHES batches; prints a table and writes bench/results.json.
BENCH_BATCHES ?= 100000
.PHONY: bench
bench: $(STAMP) translations
	BENCH_BATCHES=$(BENCH_BATCHES) bash bench/run.sh
