# Cloud-Design: the entry points people need. Each area keeps its targets in mk/<area>.mk;
# this file holds the shared tooling (virtual environments, locks) and the aggregate targets.
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

ROOT      := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
PYTHON    ?= python3.11
VENV      := $(ROOT)/.venv
VENV_CHECKOV := $(ROOT)/.venv-checkov
BIN       := $(VENV)/bin
UV        := $(BIN)/uv
# The pinned kubectl, terraform fmt and every tool come from the venvs, never from the machine's PATH.
export PATH := $(BIN):$(PATH)
# Every area's pytest call is $(PYTEST), so PYTEST_ARGS reaches them all, e.g.
# make test PYTEST_ARGS='-m "not server_control"' (CI's test job: its servers are service containers).
PYTEST_ARGS ?=
PYTEST = $(BIN)/pytest $(PYTEST_ARGS)

.PHONY: help
help: ## list the targets
	@grep -hE '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | sort | awk -F':.*## ' '{printf "  %-19s %s\n", $$1, $$2}'
	@echo "variables: PYTEST_ARGS='...' extra pytest arguments for every test target (e.g. -m \"not server_control\");"
	@echo "           PGHOST, PGPORT, AMQP_URL where the tests and make dev find PostgreSQL and RabbitMQ (default 127.0.0.1)"

# --- virtual environments -------------------------------------------------------------------
$(UV): requirements/bootstrap.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/bootstrap.txt
	@touch $@

$(VENV)/.synced: $(UV) requirements/dev.txt
	$(UV) pip sync --quiet --python $(BIN)/python requirements/dev.txt
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e infrastructure
	@touch $@

# checkov lives apart: it installs bc-python-hcl2, which replaces python-hcl2's `hcl2` module.
$(VENV_CHECKOV)/.synced: $(UV) requirements/checkov.txt
	$(UV) venv --quiet --allow-existing --python $(PYTHON) $(VENV_CHECKOV)
	$(UV) pip sync --quiet --python $(VENV_CHECKOV)/bin/python requirements/checkov.txt
	@touch $@

.PHONY: venv
venv: $(VENV)/.synced $(VENV_CHECKOV)/.synced ## create both virtual environments from the locks

LOCK_FLAGS := --quiet --generate-hashes --python-version 3.11 --python-platform x86_64-manylinux_2_36
.PHONY: lock
lock: $(UV) ## re-resolve every lock file from its .in file
	for svc in services/*/requirements.in; do \
	  $(UV) pip compile $(LOCK_FLAGS) $$svc -o $${svc%.in}.txt; done
	$(UV) pip compile $(LOCK_FLAGS) requirements/dev.in -o requirements/dev.txt
	$(UV) pip compile $(LOCK_FLAGS) requirements/checkov.in -o requirements/checkov.txt

include $(wildcard mk/*.mk)

# --- aggregates ---------------------------------------------------------------------------------
# test-infra and test-cloudctl spend most of their minutes in Terraform's serial changes against
# the AWS emulator (each on its own moto), so each gets a lane of its own from the start; the other
# targets share a third lane, one after another (the service tests stop and start the local
# servers, which the emulator lanes do not use).
EMULATOR_TEST_TARGETS := test-infra test-cloudctl
.PHONY: test
test: ## run every test (services, manifests, infrastructure, CI scripts)
	$(MAKE) --no-print-directory -j3 --output-sync=target $(EMULATOR_TEST_TARGETS) $(filter-out $(EMULATOR_TEST_TARGETS),$(TEST_TARGETS))
