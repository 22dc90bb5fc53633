# Two entry points that work on a fresh machine: `make repro` and `make test`.
PYTHON ?= python3
VENV := .venv
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: setup datasets testtools repro suite test bench clean report

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

# DVC ends a repro with "Use `dvc push`": with a default remote (README, "Sharing results") the outputs and the
# run-cache are pushed; without one, say so instead of leaving a hint that fails. Targeted at dvc.yaml: the scenarios'
# pipelines (scenarios/*/dvc.yaml) are in this DVC project too, and an untargeted push also tries their outputs,
# which `make repro` never makes (a warning per missing file).
# Debian's chromium (renders `dvc plots show` offline) and openssh-server (an SSH DVC remote on 127.0.0.1) for
# tests/test_dvc_usage.py and tests/test_dvc_remote.py; as above, a note and skipped tests where they cannot install.
testtools:
	@if command -v chromium >/dev/null 2>&1 && [ -x /usr/sbin/sshd ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium openssh-server >/dev/null; } \
	  || echo "note: could not install chromium/openssh-server; their tests will be skipped" >&2; \
	else echo "note: not root or no apt-get: chromium/openssh-server not installed; their tests will be skipped" >&2; fi

repro: setup
	dvc repro dvc.yaml
	@if dvc remote default >/dev/null 2>&1; then dvc push --run-cache dvc.yaml; \
	else echo "note: no DVC remote configured, nothing pushed (README: Sharing results)"; fi

# The suite of forget requests (suite/params.yaml): the whole pipeline per request, then suite/report.md. Needs
# Debian's dataset-fashion-mnist for its Fashion-MNIST request (or torchvision's download).
suite: setup datasets
	dvc repro suite/dvc.yaml

# The Markdown a reviewer reads (CI posts it with CML): params diff, verdict table with intervals, the metrics that
# moved beyond their interval against $(BASE), figures.
BASE ?= main
report: setup
	python src/pr_comment.py --base $(BASE) --out build/pr_comment.md

# Two pytest workers, each running whole files (--dist loadfile: a file's tests share one process and its fixtures):
# many tests wait on one single-threaded stage process at a time, so a second worker uses the second core.
test: setup datasets testtools
	pytest -n 2 --dist loadfile

bench: setup
	python bench/train_loop.py
	python bench/pipeline.py

# Only what is not tracked: data/ and scenarios/ hold tracked files (manifests, metrics, .gitignore), so there only
# the ignored files go (`git clean -X`); dvc_plots/ is what `dvc plots show` writes, in the root or a scenario's folder.
clean:
	rm -rf $(VENV) models relearn eval runs live .tmp .cache build
	git clean -fdXq -- data scenarios
	find . -path ./.git -prune -o -type d -name dvc_plots -prune -exec rm -rf {} +
