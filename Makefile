# syndicate: `make run` sets everything up and runs the main job on the bundled sample;
# `make test` runs the tests. Both are idempotent and safe to repeat.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
ARGOS_VERSION := 1.11.0
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# What running needs from Debian is Apertium and the pairs config.toml translates:
# `syndicate models packages` names them (python3-venv too, where the interpreter lacks
# ensurepip). What only the tests and benchmarks use comes with `make test`/`make bench`:
# xmllint (Atom schema checks), sfeed (a real feed reader; its sfeed_update fetches with
# curl), headless Chromium driven by Selenium through chromium-driver (the status page),
# nginx and wrk (benchmarks/serve_bench.py), redis-server and PostgreSQL (the cluster tests
# start their own on 127.0.0.1, tests/services.py). scripts/apt-install starts no service.
TEST_PACKAGES := libxml2-utils sfeed curl chromium chromium-driver nginx wrk redis-server postgresql

.PHONY: setup setup-test apertium run lint test docs bench bench-serve bench-quality catalogs clean distclean

setup: $(RUN_STAMP) apertium

setup-test: setup $(TEST_STAMP)
	@scripts/apt-install $(TEST_PACKAGES)

$(RUN_STAMP): pyproject.toml
	@$(PYTHON) -c 'import ensurepip' 2>/dev/null || scripts/apt-install python3-venv
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[argos]'
	# The light Argos install: argostranslate's package code without torch/stanza/spacy
	# (its ctranslate2, sentencepiece and packaging come from the [argos] extra above).
	$(PY) -m pip install --quiet --no-deps argostranslate==$(ARGOS_VERSION)
	# Byte-compiled once, as a wheel install would be (with PYTHONDONTWRITEBYTECODE set,
	# an editable checkout would compile every module in every run).
	$(PY) -m compileall -q syndicate >/dev/null
	touch $(RUN_STAMP)

$(TEST_STAMP): $(RUN_STAMP)
	$(PY) -m pip install --quiet -e '.[argos,cat,test]'
	touch $(TEST_STAMP)

# Apertium and the language pairs of ./config.toml (a fresh machine's package index is
# read first when it knows no apertium-* package yet).
apertium: $(RUN_STAMP)
	@[ -n "$$(apt-cache pkgnames apertium- 2>/dev/null)" ] || $(SUDO) apt-get update -q
	@scripts/apt-install $$($(VENV)/bin/syndicate -q models packages)

run: setup
	$(VENV)/bin/syndicate once

# Style, lint and strict types (ruff and mypy, configured in pyproject.toml): run by
# `make test` first, so CI fails on them too.
lint: setup-test
	$(VENV)/bin/ruff format --check syndicate tests benchmarks scripts
	$(VENV)/bin/ruff check syndicate tests benchmarks scripts
	$(VENV)/bin/mypy

test: setup-test lint
	$(PY) -m pytest

# The documentation site (docs/, mkdocs.yml) into site/; every warning is an error.
docs: setup-test
	$(VENV)/bin/mkdocs build --strict

# The benchmark compares against argos's own translate(), which needs the full
# argostranslate (torch, stanza, spacy): it lives in its own virtualenv, with the CPU
# build of torch installed first so pip does not pull a multi-GB CUDA build.
BENCH_VENV := .bench-venv
$(BENCH_VENV)/.installed:
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/python -m pip install --quiet torch==2.13.0
	$(BENCH_VENV)/bin/python -m pip install --quiet argostranslate==$(ARGOS_VERSION)
	touch $@

bench: setup-test $(BENCH_VENV)/.installed
	$(PY) benchmarks/translate_bench.py --argos-python $(BENCH_VENV)/bin/python

# What readers read: chrF/BLEU on FLORES-200 (Wikinews) against raw Apertium, names and
# numbers kept on 40 real English news pages (benchmarks/data/, offline, about a minute).
bench-quality: setup-test
	$(PY) benchmarks/quality_bench.py

# The pages' own words: extract the messages, merge them into each language's catalogue,
# compile the catalogues (the .mo files are committed: publishing never compiles).
LOCALES := syndicate/publish/locale
catalogs: setup-test
	$(VENV)/bin/pybabel extract -F babel.cfg --no-location --omit-header -k _ -k ngettext:1,2 -o $(LOCALES)/syndicate.pot .
	$(VENV)/bin/pybabel update -i $(LOCALES)/syndicate.pot -d $(LOCALES) -D syndicate --no-wrap
	$(VENV)/bin/pybabel compile -d $(LOCALES) -D syndicate --statistics

# syndicate serve against nginx on the same folders (wrk, 64 connections, 127.0.0.1 only).
bench-serve: setup-test
	$(PY) benchmarks/serve_bench.py

clean:
	find feeds translations -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
	rm -rf .syndicate

distclean: clean
	rm -rf $(VENV) $(BENCH_VENV) benchmarks/.cache
