# Two entry points that work on a fresh machine: `make repro` and `make test`.
PYTHON ?= python3
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup repro test bench clean

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

setup: $(VENV)/.installed

repro: setup
	dvc repro

test: setup
	pytest

bench: setup
	python bench/train_loop.py
	python bench/pipeline.py

clean:
	rm -rf $(VENV) data models relearn eval dvc_plots
