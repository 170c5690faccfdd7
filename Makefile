# syndicate: `make run` sets everything up and runs the main job on the bundled sample;
# `make test` runs the tests. Both are idempotent and safe to repeat.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
ARGOS_VERSION := 1.11.0
# Debian packages: Apertium with the sample's language pairs, xmllint (Atom schema
# checks) and sfeed (a real feed reader used by the tests; its sfeed_update fetches with
# curl, which sfeed does not depend on). The tests run sfeed under C.UTF-8 (in libc-bin).
# `syndicate serve`'s tests load the status page in headless Chromium (driven by Selenium
# through Debian's chromium-driver); benchmarks/serve_bench.py compares it with nginx
# serving the same folders, measured with wrk. The cluster tests (tests/cluster/) start
# their own throwaway redis-server and PostgreSQL on 127.0.0.1 (tests/services.py).
APT_PACKAGES := apertium apertium-eng-spa apertium-eng-cat apertium-en-gl apertium-eo-en libxml2-utils sfeed curl \
	chromium chromium-driver nginx wrk redis-server postgresql

.PHONY: setup system-packages run test bench bench-serve bench-quality catalogs clean distclean

setup: system-packages $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[argos,cat,test]'
	# The light Argos install: argostranslate's package code without torch/stanza/spacy
	# (its ctranslate2, sentencepiece and packaging come from the [argos] extra above).
	$(PY) -m pip install --quiet --no-deps argostranslate==$(ARGOS_VERSION)
	# Byte-compiled once, as a wheel install would be (with PYTHONDONTWRITEBYTECODE set,
	# an editable checkout would compile every module in every run).
	$(PY) -m compileall -q syndicate >/dev/null
	touch $(STAMP)

system-packages:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q '^install ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:" $$missing; \
		if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
		$$SUDO apt-get update -q && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -q $$missing; \
	fi

run: setup
	$(VENV)/bin/syndicate once

test: setup
	$(PY) -m pytest

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

bench: setup $(BENCH_VENV)/.installed
	$(PY) benchmarks/translate_bench.py --argos-python $(BENCH_VENV)/bin/python

# What readers read: chrF/BLEU on FLORES-200 (Wikinews) against raw Apertium, names and
# numbers kept on 40 real English news pages (benchmarks/data/, offline, about a minute).
bench-quality: setup
	$(PY) benchmarks/quality_bench.py

# The pages' own words: extract the messages, merge them into each language's catalogue,
# compile the catalogues (the .mo files are committed: publishing never compiles).
LOCALES := syndicate/publish/locale
catalogs: setup
	$(VENV)/bin/pybabel extract -F babel.cfg --no-location --omit-header -k _ -k ngettext:1,2 -o $(LOCALES)/syndicate.pot .
	$(VENV)/bin/pybabel update -i $(LOCALES)/syndicate.pot -d $(LOCALES) -D syndicate --no-wrap
	$(VENV)/bin/pybabel compile -d $(LOCALES) -D syndicate --statistics

# syndicate serve against nginx on the same folders (wrk, 64 connections, 127.0.0.1 only).
bench-serve: setup
	$(PY) benchmarks/serve_bench.py

clean:
	find feeds translations -mindepth 1 ! -name .gitkeep -exec rm -rf {} +
	rm -rf .syndicate

distclean: clean
	rm -rf $(VENV) $(BENCH_VENV) benchmarks/.cache
