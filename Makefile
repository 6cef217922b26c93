# Two commands: `make run` and `make test`. Everything they need is installed here,
# so a fresh machine with Python 3.11+ and npm gets the same result as CI.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app rj
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: setup run test test-postgres assets browser worker bench clean

setup: $(VENV)/.stamp-installed static/govuk/.stamp

$(VENV)/.stamp-installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

# GOV.UK Frontend from the npm package, compiled with our settings (Arial, not the GOV.UK font)
# and served from static/govuk (not committed).
static/govuk/.stamp: package.json package-lock.json assets/app.scss
	npm ci --no-audit --no-fund --silent
	rm -rf static/govuk && mkdir -p static/govuk
	npx sass --pkg-importer=node --style=compressed --no-source-map --quiet-deps assets/app.scss static/govuk/app.css
	cp node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js static/govuk/
	cp -r node_modules/govuk-frontend/dist/govuk/assets static/govuk/assets
	touch $@

# Headless Chromium for the browser tests comes from Debian's packages, never a download.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get install -y -q chromium chromium-driver >/dev/null || (apt-get update -q >/dev/null && apt-get install -y -q chromium chromium-driver >/dev/null); \
	  else echo "chromium is not installed: sudo apt-get install chromium chromium-driver"; fi; }

run: setup
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	$(FLASK) demo-logins
	@echo "Serving on http://$(HOST):$(PORT) (worker running beside it; mail printed to its console)"
	$(FLASK) worker & WORKER=$$!; trap "kill $$WORKER" EXIT INT TERM; $(FLASK) run --host $(HOST) --port $(PORT)

worker: setup
	$(FLASK) worker

test: setup browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The same suite against PostgreSQL: a database is created and dropped per run.
test-postgres: setup browser
	RJ_TEST_DATABASE=postgresql $(BIN)/python -m pytest $(PYTEST_ARGS)

# Benchmarks (not timed tests): the monthly roster solver, and every dashboard and report on 10,000 cases.
bench: setup
	$(BIN)/python -m bench.roster_bench
	$(BIN)/python -m bench.pages_bench --cases 10000

clean:
	rm -rf $(VENV) node_modules static/govuk instance .pytest_cache
