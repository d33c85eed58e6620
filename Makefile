# The two commands a newcomer runs: `make test` and `make reproduce-mnist`; each sets up what it needs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
KCC := $(VENV)/bin/kcc
ARGS ?=
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: install data test test-slow reproduce-mnist reproduce-mnist1d reproduce-transfer figures tables notebooks notebooks-timings bench clean

install: $(VENV)/.installed

# One TensorFlow distribution, tensorflow (docs/install.md): a venv made by an earlier version holds
# tensorflow-cpu, which shares the tensorflow/ directory with it, so both go before the install.
$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	if $(PY) -m pip show --quiet tensorflow-cpu >/dev/null 2>&1; then \
		$(PY) -m pip uninstall --quiet --yes tensorflow-cpu tensorflow; fi
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

data: install
	$(KCC) data

# Two processes, one test file each at a time (the files share module fixtures): 4 min here
# instead of 7 in one. `.venv/bin/python -m pytest tests/test_x.py` runs one file alone.
test: data
	$(PY) -m pytest -n 2 --dist loadfile --durations=15

# A newcomer's real runs on a fresh clone of the committed project: minutes of training; and the
# installed wheel's commands that build every network and fetch the data.
test-slow: data
	$(PY) -m pytest -m slow tests/test_newcomer.py tests/test_install.py

reproduce-mnist: data
	$(PY) -m reproductions.nielsen_mnist $(ARGS)

reproduce-mnist1d: data
	$(PY) -m reproductions.mnist1d $(ARGS)

reproduce-transfer: data
	$(PY) -m reproductions.transfer $(ARGS)

figures: data
	$(KCC) figures

tables: install
	$(KCC) tables

# The course notebooks, student and teacher versions, from notebooks/src/ (and the README's list).
notebooks: install
	$(PY) notebooks/build.py

# Run every teacher notebook in full mode, one at a time (minutes): notebooks/timings.csv.
notebooks-timings: data
	$(PY) notebooks/build.py --time $(ARGS)

bench: data
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) -m reproductions.bench $(ARGS)

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
