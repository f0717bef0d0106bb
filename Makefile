# broker-mocks: `make run` serves both emulators with the demo data; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
MATRIX ?= 3.10 3.11 3.12 3.13
PYTEST_ARGS ?=
STREAMSTER_PORT ?= 8018
INSTAFOREX_PORT ?= 8080

.PHONY: install docs docs-serve run test bench-figures test-matrix test-one test-wheel typecheck test-thorough mutation-check conformance-example bench bench-soak bench-peers lint clean screenshots examples example-php example-python example-monitor example-backtest

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

# Both emulators in the foreground, printing their URLs; Ctrl-C stops both (`make run STREAMSTER_PORT=0` picks a free port).
run: install
	$(VENV)/bin/broker-mocks serve --host 127.0.0.1 --streamster-port $(STREAMSTER_PORT) --instaforex-port $(INSTAFOREX_PORT)

test: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MAKE) --no-print-directory typecheck
	$(VENV)/bin/python -m pytest $(PYTEST_ARGS)

# Strict type checking of the typed API and of the docs' Python examples (the [tool.mypy] lists in
# pyproject.toml). mypy cannot follow the editable install's package-dir mapping, so it reads the
# installed layout from links in build/typecheck (docgen/layout.py); the docs' and the README's Python
# blocks are written there as doc_examples, one module per page, each block on its page's lines
# (docgen/examples.py), so an error's line is the page's.
typecheck: install
	@rm -rf build/typecheck
	@$(VENV)/bin/python -m docgen.layout build/typecheck
	@$(VENV)/bin/python -m docgen.examples build/typecheck
	$(VENV)/bin/mypy

# The wheel as a stranger gets it: sdist and wheel built, the wheel installed in a fresh virtual
# environment outside the checkout, the smoke suite (tests/smoke/) run there from another folder.
test-wheel: install
	$(VENV)/bin/python tests/smoke/run.py --python $(PYTHON)

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

# The figures on the docs' Performance page: each script's output with its date, machine and load average,
# written to bench/figures/NAME.txt (all but soak by default; `make bench-figures BENCH="plugin backtest"`).
BENCH ?=
bench-figures: install
	$(VENV)/bin/python -m bench.record $(BENCH)

# The example bots (examples/), each against an emulator served at EXAMPLE_SPEED x on the virtual clock.
EXAMPLE_SPEED ?= 60
EXAMPLE_MINUTES ?= 240
WAIT_READY = for i in $$(seq 100); do $(VENV)/bin/python -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1])" $(1) 2>/dev/null && break; sleep 0.1; done
STREAMSTER_DAY = $(VENV)/bin/mock-streamster serve --port $(STREAMSTER_PORT) --clock virtual --speed $(EXAMPLE_SPEED) --scenario day

examples: example-php example-python example-monitor example-backtest

example-php: install
	@$(STREAMSTER_DAY) >/dev/null & pid=$$!; trap 'kill $$pid 2>/dev/null; wait $$pid' EXIT; \
	$(call WAIT_READY,http://127.0.0.1:$(STREAMSTER_PORT)/_mock/state); \
	php examples/php/ma_cross.php http://127.0.0.1:$(STREAMSTER_PORT)/service.wsdl $(EXAMPLE_MINUTES) 1

example-python: install
	@$(STREAMSTER_DAY) >/dev/null & pid=$$!; trap 'kill $$pid 2>/dev/null; wait $$pid' EXIT; \
	$(call WAIT_READY,http://127.0.0.1:$(STREAMSTER_PORT)/_mock/state); \
	$(VENV)/bin/python -m examples.ma_bot --wsdl http://127.0.0.1:$(STREAMSTER_PORT)/service.wsdl --minutes $(EXAMPLE_MINUTES) --poll 1

# The PHP crossover bot over a quarter of hourly history in lockstep (one GetQuote a bar, at its close);
# the report goes to backtest-report/ (report.html, report.json).
example-backtest: install
	$(VENV)/bin/mock-streamster backtest --history EUR/USD=fixtures/streamster/eurusd-h1.csv --step GetQuote=1h \
	  --start 2024-01-01T00:45:00 --report backtest-report -- php examples/php/sma_cross.php 0

example-monitor: install
	@$(VENV)/bin/mock-instaforex serve --port $(INSTAFOREX_PORT) --clock virtual --speed $(EXAMPLE_SPEED) >/dev/null & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid' EXIT; \
	$(call WAIT_READY,http://127.0.0.1:$(INSTAFOREX_PORT)/_mock/state); \
	$(VENV)/bin/python -m examples.account_monitor --url http://127.0.0.1:$(INSTAFOREX_PORT)/ --polls 10 --interval 1

# The docs' dashboard screenshots (docs/images/dashboard-*.png: Streamster, InstaForex, Streamster during a
# backtest), taken by the browser tests in headless chromium.
screenshots: install
	DASHBOARD_SCREENSHOTS=1 $(VENV)/bin/python -m pytest -q -p no:cacheprovider tests/test_dashboard.py tests/test_backtest_dashboard.py -k screenshot

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
	rm -rf .venv .venv-* .pytest_cache .hypothesis .mypy_cache build dist *.egg-info bench/.peers site
