# The two commands: `make run` (demo on http://127.0.0.1:8050) and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8050
WORKERS ?= 4
APT_PKGS := chromium chromium-driver fonts-noto-cjk postgresql libreoffice-writer-nogui poppler-utils redis-server

.PHONY: run test bench loadtest serve install install-dev system-deps clean-db

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

run: $(VENV)/.installed
	@if [ -z "$$DATABASE_URL" ] && [ ! -f instance/dangjian.sqlite3 ]; then \
	  $(VENV)/bin/flask --app app init-db --demo; else $(VENV)/bin/flask --app app init-db; fi
	@echo ""
	@echo "  党建工作考核系统: http://127.0.0.1:$(PORT)"
	@echo "  演示账号 (用户名 / 密码):"
	@echo "    admin     / Xitong-Guanli-2026    系统管理员"
	@echo "    leader    / Juzhang-Kaohe-2026    局领导"
	@echo "    inspector / Kaohezu-Jiancha-2026  考核组"
	@echo "    staff     / Linhe-Dangwu-2026     党务干事（临河县局）"
	@echo "    staff_sj  / Shiju-Yizhibu-2026    党务干事（市局机关第一党支部）"
	@echo ""
	$(VENV)/bin/flask --app app run --host 127.0.0.1 --port $(PORT) --with-threads

serve: $(VENV)/.installed
	$(VENV)/bin/flask --app app init-db
	$(VENV)/bin/gunicorn app:server --workers $(WORKERS) --bind 0.0.0.0:$(PORT) --access-logfile -

# Debian packages the browser and PostgreSQL tests need; installed only when root and missing.
system-deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = "0" ]; then \
	    echo "installing:$$missing"; \
	    (apt-get install -y -q $$missing || (apt-get update -q && apt-get install -y -q $$missing)) >/dev/null; \
	  else echo "WARNING: missing Debian packages:$$missing (browser/PostgreSQL tests will be skipped)"; fi; \
	fi

test: $(VENV)/.installed-dev system-deps
	$(PY) -m pytest -q -n 2 --durations=20  # two workers: the browser, LibreOffice and server tests wait on I/O much of the time

bench: $(VENV)/.installed-dev
	$(PY) -m benchmarks

# Not part of `make test`: gunicorn (4 workers) + PostgreSQL, then SQLite; 127.0.0.1 only, 60 s each.
loadtest: $(VENV)/.installed-dev
	$(PY) -m benchmarks.loadtest

clean-db:
	rm -f instance/dangjian.sqlite3 instance/dangjian.sqlite3-wal instance/dangjian.sqlite3-shm
