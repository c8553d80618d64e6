# Two commands: `make run` (set up everything, serve the demo on SQLite) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000
export FLASK_APP := wsgi

STAMP_PY     := $(VENV)/.installed
STAMP_ASSETS := static/vendor/.installed
PO_FILES     := $(wildcard forum/translations/*/LC_MESSAGES/messages.po)
MO_FILES     := $(PO_FILES:.po=.mo)

.PHONY: run test setup assets translations extract-messages lint bench clean

run: setup
	FORUM_ENV=$${FORUM_ENV:-development} $(BIN)/flask db upgrade
	FORUM_ENV=$${FORUM_ENV:-development} $(BIN)/flask forum seed-demo
	@echo ""
	@echo "  Forum running at http://$(HOST):$(PORT)/  (Ctrl+C stops it)"
	@echo "  Demo logins, password demo-forum-2026: admin@example.org,"
	@echo "  moderator@example.org, member@example.org, expert@example.org"
	@echo ""
	FORUM_ENV=$${FORUM_ENV:-development} $(BIN)/gunicorn --worker-class gevent -w 1 \
	  -b $(HOST):$(PORT) --access-logfile - wsgi:app

test: setup
	$(BIN)/ruff check forum tests bench
	$(BIN)/pytest $(PYTEST_ARGS)

setup: $(STAMP_PY) $(STAMP_ASSETS) $(MO_FILES)

$(STAMP_PY): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# Front-end packages come from npm with the lockfile; only built files are served.
$(STAMP_ASSETS): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p static/vendor
	cp node_modules/socket.io-client/dist/socket.io.min.js static/vendor/
	touch $@

assets: $(STAMP_ASSETS)

%.mo: %.po $(STAMP_PY)
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
