# broker-mocks: `make run` serves both emulators with the demo data; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
MATRIX ?= 3.10 3.11 3.12 3.13
PYTEST_ARGS ?=

.PHONY: install docs docs-serve run test test-matrix test-thorough mutation-check conformance-example bench bench-soak bench-peers lint clean screenshots examples example-php example-python example-monitor example-backtest

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# The docs site (docs/, mkdocs.yml): built strictly (a broken link, a missing reference or a page left
# out of the navigation fails), the reference pages generated from the code; diagrams need Graphviz's `dot`.
DOCS_ADDR ?= 127.0.0.1:8000
$(VENV)/.docs-installed: $(VENV)/.installed
	$(VENV)/bin/pip install --quiet -e '.[test,docs]'
	touch $@

docs: $(VENV)/.docs-installed
	@command -v dot >/dev/null || { echo "make docs: the diagrams need Graphviz's dot (Debian: apt-get install graphviz)" >&2; exit 1; }
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/python -m mkdocs build --strict
	$(VENV)/bin/python -m docgen.check_site site

# The site with live reload on http://$(DOCS_ADDR)/ (loopback only).
docs-serve: $(VENV)/.docs-installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/python -m mkdocs serve --livereload --dev-addr $(DOCS_ADDR)

# Both emulators in the foreground, printing their URLs; Ctrl-C stops both. Port 0 picks a free one.
STREAMSTER_PORT ?= 8018
INSTAFOREX_PORT ?= 8080
run: install
	@$(VENV)/bin/mock-instaforex serve --host 127.0.0.1 --port $(INSTAFOREX_PORT) & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid' EXIT; \
	$(VENV)/bin/mock-streamster serve --host 127.0.0.1 --port $(STREAMSTER_PORT) --scenario fixtures/streamster/demo.yaml

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# The suite on every supported interpreter, each in its own virtual environment.
test-matrix:
	@set -e; for v in $(MATRIX); do \
	  py=$$(ls -d $(PYENV_ROOT)/versions/$$v*/bin/python 2>/dev/null | sort -V | tail -n 1); \
	  if [ -z "$$py" ]; then echo "Python $$v not found under $(PYENV_ROOT)/versions" >&2; exit 1; fi; \
	  echo "=== Python $$v ($$py) ==="; \
	  $(MAKE) --no-print-directory test-one PYTHON=$$py VENV=.venv-$$v; \
	done

test-one: install
	$(VENV)/bin/python -m pytest -q $(PYTEST_ARGS)

# The property tests and state machines with 20x the examples, printing Hypothesis statistics.
test-thorough: install
	HYPOTHESIS_PROFILE=thorough $(VENV)/bin/python -m pytest -p no:logging --timeout 3600 --hypothesis-show-statistics \
	  tests/test_conformance_streamster.py tests/test_conformance_instaforex.py tests/test_instaforex_properties.py

# Deliberately broken emulators: each mutation must make a state machine fail (README lists them).
mutation-check: install
	$(VENV)/bin/python -m pytest -p no:logging -v tests/test_mutations.py

# Your own client through the conformance state machines, with the pytest plugin's fixtures (README).
conformance-example: install
	$(VENV)/bin/python -m pytest -p no:logging -v tests/examples/test_conformance.py

# Figures, not pass/fail: throughput and latency of both emulators, memory over time, the cost of --state (bench/).
bench: install
	$(VENV)/bin/python -m bench.throughput
	$(VENV)/bin/python -m bench.memory
	$(VENV)/bin/python -m bench.persist
	$(VENV)/bin/python -m bench.replay
	$(VENV)/bin/python -m bench.plugin
	$(VENV)/bin/python -m bench.backtest

# The example bots (examples/), each against an emulator served at EXAMPLE_SPEED x on the virtual clock.
EXAMPLE_SPEED ?= 60
EXAMPLE_MINUTES ?= 240
WAIT_READY = for i in $$(seq 100); do $(VENV)/bin/python -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1])" $(1) 2>/dev/null && break; sleep 0.1; done
STREAMSTER_DAY = $(VENV)/bin/mock-streamster serve --port 8018 --clock virtual --speed $(EXAMPLE_SPEED) --scenario fixtures/streamster/day.yaml

examples: example-php example-python example-monitor example-backtest

example-php: install
	@$(STREAMSTER_DAY) >/dev/null & pid=$$!; trap 'kill $$pid 2>/dev/null; wait $$pid' EXIT; \
	$(call WAIT_READY,http://127.0.0.1:8018/_mock/state); \
	php examples/php/ma_cross.php http://127.0.0.1:8018/service.wsdl $(EXAMPLE_MINUTES) 1

example-python: install
	@$(STREAMSTER_DAY) >/dev/null & pid=$$!; trap 'kill $$pid 2>/dev/null; wait $$pid' EXIT; \
	$(call WAIT_READY,http://127.0.0.1:8018/_mock/state); \
	$(VENV)/bin/python -m examples.ma_bot --wsdl http://127.0.0.1:8018/service.wsdl --minutes $(EXAMPLE_MINUTES) --poll 1

# The PHP crossover bot over a quarter of hourly history in lockstep (one GetQuote a bar, at its close);
# the report goes to backtest-report/ (report.html, report.json).
example-backtest: install
	$(VENV)/bin/mock-streamster backtest --history EUR/USD=fixtures/streamster/eurusd-h1.csv --step GetQuote=1h \
	  --start 2024-01-01T00:45:00 --report backtest-report -- php examples/php/sma_cross.php 0

example-monitor: install
	@$(VENV)/bin/mock-instaforex serve --port 8080 --clock virtual --speed $(EXAMPLE_SPEED) >/dev/null & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid' EXIT; \
	$(call WAIT_READY,http://127.0.0.1:8080/_mock/state); \
	$(VENV)/bin/python -m examples.account_monitor --url http://127.0.0.1:8080/ --polls 10 --interval 1

# The docs' dashboard screenshots (docs/images/dashboard-*.png), taken by the browser tests in headless chromium.
screenshots: install
	DASHBOARD_SCREENSHOTS=1 $(VENV)/bin/python -m pytest -q tests/test_dashboard.py -k screenshot

# Tail latency and memory over 1,000,000 requests per emulator, round by round.
bench-soak: install
	$(VENV)/bin/python -m bench.soak

# The emulators beside bare spyne/Flask, WireMock 3, pytest-httpserver and responses; ratios to bench/results.json.
# WireMock comes from npm and runs on Java (Debian: default-jre-headless); without them it is reported missing.
bench-peers: install
	$(VENV)/bin/pip install --quiet -e '.[bench]'
	@if command -v java >/dev/null && command -v npm >/dev/null && ! ls bench/.peers/node_modules/wiremock/build/*.jar >/dev/null 2>&1; then \
	  npm install --silent --no-audit --no-fund --prefix bench/.peers wiremock@3; fi
	$(VENV)/bin/python -m bench.peers

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf .venv .venv-* .pytest_cache .hypothesis build *.egg-info bench/.peers site
