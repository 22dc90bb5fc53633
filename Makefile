# Two entry points that work on a fresh machine: `make repro` and `make test`.
PYTHON ?= python3
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup datasets repro test bench clean

$(VENV)/.installed: requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements.txt
	$(VENV)/bin/pip install -q --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $@

setup: $(VENV)/.installed

# Debian's dataset-fashion-mnist puts the real Fashion-MNIST IDX files in $(FASHION_DIR): the download stage reads
# them without a network, and the tests check the full-size path on them. Installed as root where apt-get exists
# (CI's fresh Debian machine); anywhere else, or if apt fails, a note, and the one test that needs it is skipped.
FASHION_DIR := /usr/share/datasets/fashion-mnist
datasets:
	@if [ -d $(FASHION_DIR) ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq dataset-fashion-mnist >/dev/null; } \
	  || echo "note: could not install dataset-fashion-mnist; its test will be skipped" >&2; \
	else echo "note: not root or no apt-get: dataset-fashion-mnist not installed; its test will be skipped" >&2; fi

repro: setup
	dvc repro dvc.yaml

test: setup datasets
	pytest

bench: setup
	python bench/train_loop.py
	python bench/pipeline.py

clean:
	rm -rf $(VENV) data models relearn eval dvc_plots
