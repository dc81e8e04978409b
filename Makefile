# digitpad: `make run` serves the app, `make test` runs every check. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint train evaluate canvas-eval clean docker-test

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m uvicorn app.main:app --host $(HOST) --port $(PORT)

lint: install
	$(PY) -m ruff check .

test: lint
	$(PY) -m pytest

train: install
	$(PY) -m model.train --preset classic
	$(PY) -m model.train --preset default

evaluate: install
	$(PY) -m model.evaluate model/weights/classic.npz model/weights/default.npz

# The canvas set (bench/canvas_set.py) through the real API: accuracy per source and per style, both models.
$(VENV)/.installed-eval: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[test,eval]'
	touch $@

canvas-eval: $(VENV)/.installed-eval
	OPENBLAS_NUM_THREADS=1 $(PY) -m bench.canvas_eval

# Builds the Docker image on a local Debian base and runs it for real (needs root or a running engine).
docker-test:
	docker/test.sh

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info
