# Two entry points (see README): `make demo` runs the quickstart study, `make test` runs the tests.
# Both create .venv on first use with the pinned constraints (torch is the local CPU build).
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint bench clean-venv

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -c constraints.txt -e '.[dev]'
	touch $@

demo: $(VENV)/.installed
	$(VENV)/bin/hyperlab run studies/quickstart.toml

# Two pytest processes: most tests wait on a real `hyperlab` subprocess with one torch thread, so the
# suite runs in ~7 min instead of ~11 on a 2-core machine (files stay whole: their fixtures are shared).
PYTEST_WORKERS ?= 2

test: $(VENV)/.installed
	$(PY) -m pytest -q -n $(PYTEST_WORKERS) --dist loadfile

bench: $(VENV)/.installed
	$(PY) benchmarks/bench.py --quick

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/lint-imports

clean-venv:
	rm -rf $(VENV)
