# Two commands on a fresh machine: `make run` and `make test` (see README.md).
# Without DATABASE_URL both start the embedded PostgreSQL under .data/pg.

PY := .venv/bin/python
# The embedded database unless DATABASE_URL names a server.
WITH_DB = export DATABASE_URL="$${DATABASE_URL:-$$($(PY) scripts/devdb.py start crm)}" || exit 1;

.PHONY: venv run test bench lint format messages makemessages stop-db

.venv/.installed: requirements.txt
	test -d .venv || python3 -m venv .venv
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

venv: .venv/.installed

# Compiled translations (gettext's msgfmt).
messages: .venv/.installed
	@sh scripts/apt-install.sh msgfmt gettext
	@DATABASE_URL=postgres://unused/x DEBUG=1 $(PY) manage.py compilemessages --ignore=.venv -v 0

makemessages: .venv/.installed
	DATABASE_URL=postgres://unused/x DEBUG=1 $(PY) manage.py makemessages -l zh_Hans --ignore=.venv --ignore=.data --no-obsolete

run: .venv/.installed messages
	@$(WITH_DB) export DEBUG="$${DEBUG:-1}"; \
	$(PY) manage.py migrate --noinput -v 0 && \
	$(PY) manage.py seed_demo && \
	$(PY) manage.py runserver 127.0.0.1:8000

test: .venv/.installed messages
	@sh scripts/apt-install.sh chromium chromium
	@# Chinese glyphs, so that the browser tests' screenshots show the pages as users see them.
	@sh scripts/apt-install.sh /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc fonts-noto-cjk
	@$(WITH_DB) export REDIS_URL="$${REDIS_URL:-$$(sh scripts/devredis.sh)}" || exit 1; \
	$(PY) -m pytest $(PYTEST_ARGS)

# Its own database (100,000 customers), never the demo one; BENCH_DATABASE_URL overrides.
bench: .venv/.installed messages
	@export DATABASE_URL="$${BENCH_DATABASE_URL:-$$($(PY) scripts/devdb.py start crm_bench)}" || exit 1; \
	export DEBUG=0; $(PY) -m bench $(BENCH_ARGS)

lint: .venv/.installed
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .

format: .venv/.installed
	.venv/bin/ruff check --fix .
	.venv/bin/ruff format .

stop-db:
	$(PY) scripts/devdb.py stop
