# digitpad: `make run` serves the app, `make test` runs every check. Both create .venv on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run test lint train evaluate canvas-eval clean docker-test constraints audit loadtest fuzz \
	bench bench-trainer bench-inprocess bench-service bench-container

# Runtime dependencies at the versions in constraints.txt (the tested ones; `make constraints` renews it).
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) -m uvicorn app.main:app --host $(HOST) --port $(PORT) --no-server-header

lint: install
	$(PY) -m ruff check .

test: lint
	$(PY) -m pytest

# The default model is an MLP averaged with a convnet: each trained on its own, then combined into one file,
# the convnet reading each drawing also moved by a pixel each way (--shifts 0,1: README, "Five views").
train: install
	$(PY) -m model.train --preset classic
	$(PY) -m model.train --preset default --output build/default-mlp.npz
	$(PY) -m model.train --preset convnet --output build/default-convnet.npz
	$(PY) -m model.combine build/default-mlp.npz build/default-convnet.npz --shifts 0,1 --name default \
		--output model/weights/default.npz

evaluate: install
	$(PY) -m model.evaluate model/weights/classic.npz model/weights/default.npz

# The canvas set (bench/canvas_set.py) through the real API: accuracy per source and per style, both models.
$(VENV)/.installed-eval: $(VENV)/.installed
	$(PY) -m pip install --quiet -c constraints.txt -e '.[test,eval]'
	touch $@

canvas-eval: $(VENV)/.installed-eval
	OPENBLAS_NUM_THREADS=1 $(PY) -m bench.canvas_eval

# Benchmarks, run by hand; each prints the machine and its figures side by side (docs/performance.md).
# PyTorch for bench-trainer comes with the `bench` extra: read docs/performance.md before installing it;
# without it the trainer is measured alone. The HTTP benchmarks need wrk (`apt-get install -y wrk`).
bench: bench-trainer bench-inprocess bench-service

bench-trainer: install
	$(PY) -m bench.trainer

bench-inprocess: install
	$(PY) -m bench.inprocess

bench-service: install
	@command -v wrk >/dev/null || { echo "bench-service needs wrk: apt-get install -y wrk"; exit 2; }
	$(PY) -m bench.service

# The same HTTP benchmark against the container (builds the image as docker-test does; needs root or an engine).
bench-container: install
	bench/container.sh

# Builds the Docker image on a local Debian base and runs it for real (needs root or a running engine).
docker-test:
	docker/test.sh

# Pin the runtime dependencies to the versions installed in .venv (run it after the suite passes on new ones).
constraints: install
	$(PY) tools/constraints.py > constraints.txt.new && mv constraints.txt.new constraints.txt

# pip-audit over constraints.txt, in its own virtual environment; needs PyPI's or OSV's vulnerability data
# online, and says which packages it could not audit (exit 2) rather than report them clean.
AUDIT_VENV ?= .venv-audit
$(AUDIT_VENV)/.installed:
	$(PYTHON) -m venv $(AUDIT_VENV)
	$(AUDIT_VENV)/bin/python -m pip install --quiet pip-audit
	touch $@

audit: $(AUDIT_VENV)/.installed
	$(AUDIT_VENV)/bin/python tools/audit.py constraints.txt

# The full load test: 20,000 mixed requests at concurrency 64 against the shipped models (the suite sends 1,000).
loadtest: install
	DIGITPAD_LOAD_REQUESTS=20000 DIGITPAD_LOAD_MODELS=model/weights $(PY) -m pytest tests/app/test_load.py -q -s -p no:cacheprovider

# Fuzz the API much longer than the suite does (1,000 examples per operation and mode, fresh random seeds).
fuzz: install
	DIGITPAD_FUZZ_EXAMPLES=1000 DIGITPAD_FUZZ_RANDOM=1 $(PY) -m pytest tests/app/test_fuzz.py -q -p no:cacheprovider

clean:
	rm -rf $(VENV) $(AUDIT_VENV) .pytest_cache .ruff_cache build *.egg-info
