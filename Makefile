# resotrack — the two commands are `make demo` and `make test`; the rest are helpers.
SHELL := /bin/bash
.DEFAULT_GOAL := help
# uv is installed with pip when missing (for the user where the system Python is managed by
# apt, PEP 668); `python3 -m uv` then works without touching PATH.
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
export RESOTRACK_TEST_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/test

.PHONY: help uv install services system test test-fast lint demo bench catalogs

help:
	@echo "make demo   run the story on seed resolutions"
	@echo "make test   install what is needed and run the whole test suite"
	@echo "make test-fast  the inner loop: unit tests, and integration tests on SQLite"
	@echo "make lint   ruff, mypy and the import contracts"
	@echo "make catalogs  extract messages into .pot files, update the .po files, compile-check"
	@echo "make bench  run the benchmarks and update bench/RESULTS.md"

uv:
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 \
		|| python3 -m pip install --quiet uv \
		|| python3 -m pip install --quiet --user --break-system-packages uv

# --compile-bytecode: every library's modules compiled once, here. A Python started with
# PYTHONDONTWRITEBYTECODE (as some machines set it) never writes a module cache, so without it
# each process compiles Airflow, Great Expectations and pandas from source again: seconds of
# CPU at every command, Airflow task and DAG parse. compileall does the same for our sources.
install: uv
	$(UV) sync --frozen --compile-bytecode
	$(UV) run --frozen python -m compileall -q src dags plugins > /dev/null

services:
	scripts/services.sh

# Debian programs the tests drive for real: LibreOffice, Chromium, dovecot, pdftoppm.
system:
	scripts/system-deps.sh

# Two workers, one per core (WORKERS= to change it). The suite waits on servers for about a
# third of its time (about 1,000 s of CPU in 800 s of wall at -n 2), but three workers on two
# cores were no faster (889 s against 778-862 s), nor was `--dist worksteal` (813 s). Each
# worker has its own Airflow home, so tests that drive Airflow run on every worker.
WORKERS ?= 2
test: install services system
	$(UV) run pytest -n $(WORKERS) --durations=15

# The inner loop: the unit tests, and the integration tests on SQLite without LibreOffice or
# the slow ones, on two workers; `make test` still runs every test.
FAST := not postgres and not airflow and not cluster and not browser and not libreoffice and not slow
test-fast: install
	$(UV) run pytest -n 2 -m "$(FAST)" tests/unit tests/integration $(PYTEST_ARGS)

lint: install
	$(UV) run ruff check src tests dags plugins bench
	$(UV) run ruff format --check src tests dags plugins bench
	$(UV) run mypy
	$(UV) run lint-imports

# The story on the seed resolutions until Ctrl-C (README, "make demo"); DEMO_ARGS=--no-wait
# stops after the summary. --frozen: the environment is the lock's, as `install` made it.
demo: install
	$(UV) run --frozen python -m resotrack.demo $(DEMO_ARGS)

bench: install
	@for b in bench/bench_*.py; do echo "== $$b"; $(UV) run python "$$b" || exit 1; done

# The message catalog (src/resotrack/locales): extract each domain's message ids from the code
# and templates that name them into a .pot, merge it into the ar/en/fr .po files (new ids come
# in untranslated, so tests/unit/test_catalog.py names them), then compile each .po as a check.
# `common` is kept by hand (its ids are read from several stages).
LOCALES := src/resotrack/locales
POT := $(LOCALES)/pot
PYBABEL := $(UV) run pybabel
define domain_pot
	$(PYBABEL) extract --no-default-keywords -k N_ -k N_n:1,2 -w 100 --sort-output --omit-header \
		--no-location -o $(POT)/$(1).pot $(2)
endef
# The staff domain: the Secretariat's pages (their templates and the code that speaks on them).
STAFF_SOURCES := src/resotrack/portal/templates/staff src/resotrack/consolidation/templates/dashboard \
	src/resotrack/portal/staff src/resotrack/consolidation/staff_words.py \
	src/resotrack/consolidation/dashboard.py src/resotrack/consolidation/review.py
# The values domain: the names of stored codes (states, kinds, channels), one table
# (catalog.ValueNames) in the stage that owns each value; the staff pages and the command line
# both say them.
VALUES_SOURCES := src/resotrack/validation/lifecycle.py src/resotrack/questionnaires/cycles.py \
	src/resotrack/consolidation/builds.py src/resotrack/consolidation/dashboard.py \
	src/resotrack/mail/labels.py src/resotrack/intake/queries.py src/resotrack/registry/entities.py \
	src/resotrack/reminders/ladder.py src/resotrack/recovery/verify.py \
	src/resotrack/resolutions/lineage.py src/resotrack/resolutions/themes.py
catalogs: install
	@mkdir -p $(POT)
	$(call domain_pot,portal,src/resotrack/portal/i18n.py)
	$(call domain_pot,questionnaire,src/resotrack/questionnaires/i18n.py)
	$(call domain_pot,registry,src/resotrack/registry/grammar.py)
	$(PYBABEL) extract --no-default-keywords -k ngettext:3,4 -w 100 --sort-output --omit-header \
		--no-location -o $(POT)/reminders.pot src/resotrack/reminders/messages.py
	$(PYBABEL) extract --no-default-keywords -k N_ -k Counted:1,2 -w 100 --sort-output --omit-header \
		--no-location -o $(POT)/validation.pot src/resotrack/validation/messages.py
	$(PYBABEL) extract -F $(LOCALES)/mail.cfg -k _ -k gettext -k ngettext:1,2 -k N_ -w 100 \
		--no-location --sort-output --omit-header -o $(POT)/mail.pot src/resotrack/mail/templates \
		src/resotrack/consolidation/review.py src/resotrack/intake/acknowledge.py
	$(PYBABEL) extract -F $(LOCALES)/staff.cfg --no-default-keywords -k t -k tn:1,2 \
		-k ReviewError -w 100 --sort-output --omit-header --no-location -o $(POT)/staff.pot \
		$(STAFF_SOURCES)
	$(PYBABEL) extract --no-default-keywords -k w -k n:1,2 -k N_ -k NP_:1c,2 -k Said -w 100 \
		--sort-output --omit-header --no-location -o $(POT)/demo.pot src/resotrack/demo
	$(PYBABEL) extract --no-default-keywords -k NP_:1c,2 -w 100 --sort-output --omit-header \
		--no-location -o $(POT)/values.pot $(VALUES_SOURCES)
	@for d in portal questionnaire registry mail reminders validation staff demo values; do \
		$(PYBABEL) update -i $(POT)/$$d.pot -d $(LOCALES) -D $$d -w 100 --no-fuzzy-matching \
			--ignore-pot-creation-date || exit 1; \
	done
	@for f in $(LOCALES)/*/LC_MESSAGES/*.po; do \
		$(PYBABEL) compile -i $$f -o /dev/null --statistics 2>&1 | grep -v '^compiling' || true; \
	done
