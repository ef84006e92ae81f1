# opready: the two commands a new user needs are `make run` and `make test`.
.DEFAULT_GOAL := help
SHELL := /bin/bash
PY := .venv/bin/python

.PHONY: help run test env system-deps migrate demo lint check worker clean mutate

help:
	@echo "make run    install everything, load the demo data, start the web server and a Celery worker"
	@echo "make test   install what the tests need and run the whole suite (browser tests included)"
	@echo "make lint   ruff and mypy"
	@echo "make mutate mutation testing of scoring, access, scan safety, exports and share links"
	@echo "            (AREAS=\"scoring access\" for some; see docs/testing.md)"

env: .venv/.installed

.venv/.installed: pyproject.toml uv.lock scripts/bootstrap.sh
	@scripts/bootstrap.sh

system-deps:
	@scripts/system-deps.sh

migrate: env
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py validate_rubric
	$(PY) manage.py seed_demo

run: env system-deps demo
	@scripts/run-dev.sh

test: env
	@scripts/system-deps.sh --need
	@scripts/test.sh $(ARGS)

lint: env
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy scoring assessments reports config

mutate: env
	$(PY) scripts/mutate.py $(AREAS)

check: env
	DEBUG=0 SECRET_KEY=$$(head -c 48 /dev/urandom | base64) ALLOWED_HOSTS=opready.example \
		$(PY) manage.py check --deploy --fail-level WARNING

worker: env
	.venv/bin/celery -A config worker --loglevel=INFO

clean:
	rm -rf .venv .tools var/broker var/test-* var/mutate .pytest_cache
