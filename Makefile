# Cloud Bank: `make up` runs the whole system natively with demo data; `make test` runs every check.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv/bin
PY_PATHS := contracts producers consumers services streams bank tests bench
# 1 or 3 Kafka brokers (README "How each component scales"); unset = what this checkout's stack was formatted with.
# Exported so `bank topics create`, the services and the tests agree with infra/stack.sh (contracts/brokers.py).
KAFKA_BROKERS ?= $(shell cat .run/kafka/brokers 2>/dev/null)
export KAFKA_BROKERS

.PHONY: help python stack topics web apps up down status logs clean lint webtest test unit integration test-cluster bench schemas

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

python:  ## create/refresh .venv with the project and its dev tools
	@bash infra/python.sh

stack: python  ## install what is missing and start Kafka, PostgreSQL, MariaDB, FerretDB
	@bash infra/stack.sh start

topics: stack  ## create the Kafka topics (idempotent)
	@$(VENV)/bank topics create

web: ## install nginx + chromium if missing, npm ci and build the console when sources changed
	@bash web/install.sh

apps: topics web  ## start every service, worker and the load balancers, wait until healthy
	@bash infra/stack.sh start-apps

up: apps  ## the whole system with demo data (seeds only an empty system)
	@if $(VENV)/bank --help 2>/dev/null | grep -q ' seed '; then $(VENV)/bank seed; fi
	@bash infra/stack.sh status
	@bash infra/keycloak/login-info.sh
	@echo "Cloud Bank is up: see README.md for the URLs."

down:  ## stop everything `make up` started
	@bash infra/stack.sh stop

status:  ## health of every component, then the operator view (lag, backlog, DLQ, sagas, failures)
	@bash infra/stack.sh status
	@$(VENV)/python -m bank.ops_status

logs:  ## follow all logs
	@tail -F .run/logs/*.log

clean:  ## stop and delete all data (.run/)
	@bash infra/stack.sh clean

schemas: python  ## regenerate the checked-in JSON Schemas and AsyncAPI document
	@$(VENV)/python -m contracts.schemas

lint: python  ## ruff (lint + format check) and mypy
	$(VENV)/ruff check $(PY_PATHS)
	$(VENV)/ruff format --check $(PY_PATHS)
	$(VENV)/mypy $(PY_PATHS)

unit: python  ## unit tests only (no stack needed)
	@bash infra/pytest.sh tests/unit

integration: apps  ## integration tests against the running stack
	@bash infra/pytest.sh tests/integration

webtest: web  ## the console's unit/component tests (Vitest) and type check
	cd web && npm run typecheck && npm test

test: lint webtest apps  ## everything: lint, types, console tests, the whole pytest suite against the real stack
	@bash infra/pytest.sh

test-cluster:  ## a 3-broker Kafka (KAFKA_BROKERS=3; `make clean` first if this stack has one): the cluster bank test
	@$(MAKE) --no-print-directory apps KAFKA_BROKERS=3
	@KAFKA_BROKERS=3 bash infra/pytest.sh -m cluster -s tests/integration/transacciones/test_bank_cluster.py

bench:  ## benchmarks on a throwaway copy with its own stack, never the demo data (BENCH=saga: one; BENCH_ARGS: its options)
	@BENCH_ARGS="$(BENCH_ARGS)" bash bench/stack.sh $(BENCH)
