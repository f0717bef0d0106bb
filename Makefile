# broker-mocks: `make run` serves both emulators with the demo data; `make test` runs the suite.
PYTHON ?= python3
VENV ?= .venv
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
MATRIX ?= 3.10 3.11 3.12 3.13
PYTEST_ARGS ?=

.PHONY: install run test test-matrix test-thorough mutation-check conformance-example bench lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# Both emulators in the foreground, printing their URLs; Ctrl-C stops both.
run: install
	@$(VENV)/bin/mock-instaforex serve --host 127.0.0.1 --port 8080 & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid' EXIT; \
	$(VENV)/bin/mock-streamster serve --host 127.0.0.1 --port 8018 --scenario fixtures/streamster/demo.yaml

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

# Figures, not pass/fail: throughput and latency of both emulators, memory over time (bench/).
bench: install
	$(VENV)/bin/python -m bench.throughput
	$(VENV)/bin/python -m bench.memory
	$(VENV)/bin/python -m bench.plugin

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf .venv .venv-* .pytest_cache .hypothesis build *.egg-info
