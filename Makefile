# Two commands: `make run` (set up everything, serve the demo on SQLite) and `make test`.
# A real installation: `make install` (no test tools, no demo data, no database).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
# The demo's public address (links in e-mails, calendar feeds, allowed Socket.IO origin) follows
# HOST and PORT unless FORUM_BASE_URL is set; listening on every interface (0.0.0.0 or ::),
# links name this machine.
DEMO_HOST := $(if $(filter 0.0.0.0 :: [::],$(HOST)),$(shell hostname -f 2>/dev/null || hostname),$(HOST))
DEMO_BASE_URL := $(or $(FORUM_BASE_URL),http://$(DEMO_HOST):$(PORT))
export FLASK_APP := wsgi

STAMP_PY     := $(VENV)/.installed
STAMP_PROD   := $(VENV)/.installed-production
STAMP_ASSETS := static/vendor/.installed
PO_FILES     := $(wildcard forum/translations/*/LC_MESSAGES/messages.po)
MO_FILES     := $(PO_FILES:.po=.mo)
# The environment that compiles the translations: the production one for `make install`,
# otherwise the one with the test tools (STAMP_PY marks `.[test]`).
ENV_STAMP    := $(if $(filter install,$(MAKECMDGOALS)),$(STAMP_PROD),$(STAMP_PY))

# `make run` is the demo: with FORUM_ENV=production it stops before installing anything.
ifneq ($(filter run,$(or $(MAKECMDGOALS),run)),)
ifneq ($(filter production Production PRODUCTION,$(strip $(FORUM_ENV))),)
$(error make run serves the demo and refuses FORUM_ENV=production. A real installation: \
  make install, then README "Running in production")
endif
endif

.PHONY: run test setup install assets translations extract-messages lint bench clean

run: setup
	FORUM_ENV=$${FORUM_ENV:-development} $(BIN)/flask db upgrade
	FORUM_ENV=$${FORUM_ENV:-development} $(BIN)/flask forum reindex-search --read-files
	FORUM_ENV=$${FORUM_ENV:-development} FORUM_BASE_URL=$(DEMO_BASE_URL) $(BIN)/flask forum seed-demo
	@echo ""
	@echo "  Forum running at $(DEMO_BASE_URL)/  (Ctrl+C stops it)"
	@echo "  Demo logins, password demo-forum-2026: admin@example.org,"
	@echo "  moderator@example.org, member@example.org, expert@example.org"
	@echo ""
	FORUM_ENV=$${FORUM_ENV:-development} FORUM_BASE_URL=$(DEMO_BASE_URL) \
	  $(BIN)/gunicorn -c deploy/gunicorn.conf.py -b $(HOST):$(PORT) wsgi:app

test: setup
	$(BIN)/ruff check forum tests bench
	$(BIN)/lint-imports  # the floor plan (README "Architecture"; contract in pyproject.toml)
	$(BIN)/pytest $(PYTEST_ARGS)

setup: $(STAMP_PY) $(STAMP_ASSETS) $(MO_FILES)

# Production: the package without the test tools, front-end files, translations. Loads no
# demo data and never touches the database (migrations are a separate step).
install: $(STAMP_PROD) $(STAMP_ASSETS) $(MO_FILES)

$(STAMP_PY): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	rm -f $(STAMP_PROD)
	touch $@

# A .venv that `make install` did not build (or that got the test tools since) is built again
# from nothing; otherwise the packages are upgraded in place.
$(STAMP_PROD): pyproject.toml
	@if [ -d $(VENV) ] && [ ! -e $@ ]; then \
	  echo "$(VENV) was not built by make install: building it again without the test tools"; \
	  rm -rf $(VENV); fi
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

# Front-end packages come from npm with the lockfile; only built files are served.
$(STAMP_ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/
	touch $@

assets: $(STAMP_ASSETS)

%.mo: %.po | $(ENV_STAMP)
	$(BIN)/pybabel compile --use-fuzzy -i $< -o $@

translations: $(MO_FILES)

# After changing UI strings: refresh the catalogues, then translate the new entries.
extract-messages: $(STAMP_PY)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --ignore-dirs='.* __pycache__ node_modules .venv' -o forum/translations/messages.pot .
	$(BIN)/pybabel update -i forum/translations/messages.pot -d forum/translations --no-fuzzy-matching

lint: $(STAMP_PY)
	$(BIN)/ruff check forum tests bench

bench: setup
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) node_modules static/vendor instance/forum.db
