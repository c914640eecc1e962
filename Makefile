# Two commands do all set-up on a fresh machine with Python 3.11: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PYTEST_ARGS ?=

.PHONY: demo test test-slow venv install install-dev clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP): $(PY) pyproject.toml requirements.txt
	$(PIP) install -q -e .
	touch $@

$(DEV_STAMP): $(STAMP)
	# torch (CPU) comes from local disk where available; tests that need it skip without it.
	$(PIP) install -q -e '.[dev]'
	-$(PIP) install -q 'torch==2.13.0' || echo "torch not installable here: torch-parity tests will skip"
	touch $@

install: $(STAMP)
install-dev: $(DEV_STAMP)

demo: $(STAMP)
	$(VENV)/bin/tfvton demo --out runs/demo

test: $(DEV_STAMP)
	-$(PY) -m tfvton models fetch pose
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest -q $(PYTEST_ARGS)

test-slow: $(DEV_STAMP)
	-$(PY) -m tfvton models fetch pose
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m pytest -q -m slow $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
