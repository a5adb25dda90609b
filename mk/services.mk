# Services: local stack, service tests, benchmark. Ports: api-gateway 3000, inventory 8081,
# billing 8082, billing-worker health 8083; PostgreSQL and RabbitMQ from PGHOST/PGPORT and AMQP_URL,
# 127.0.0.1 by default (services/devtools/local.py, services/README.md).
SERVICES_DIR := $(ROOT)/services

# Each workload of contract.yaml, started with its `command` in its `source` folder: devtools.procfile
# writes the Procfile honcho runs (the local ports and settings are devtools/local.py's).
DEV_PROCFILE := $(ROOT)/.build/Procfile

.PHONY: dev
dev: $(VENV)/.synced ## run the whole system locally (gateway :3000); Ctrl-C stops it
	$(ROOT)/.ci/ensure-services
	cd $(SERVICES_DIR) && PYTHONPATH=$(SERVICES_DIR) $(BIN)/python -m devtools.bootstrap
	cd $(SERVICES_DIR) && PYTHONPATH=$(SERVICES_DIR) $(BIN)/python -m devtools.procfile $(DEV_PROCFILE)
	exec $(BIN)/honcho start -f $(DEV_PROCFILE) -d $(SERVICES_DIR)

.PHONY: test-services
test-services: $(VENV)/.synced ## service tests on the real PostgreSQL and RabbitMQ
	cd $(ROOT) && $(PYTEST) tests/services

# The tests marked server_control stop, start or configure this machine's PostgreSQL and RabbitMQ
# (pg_ctlcluster, rabbitmqctl; tests/servercontrol.py). `make test` runs them with the rest; CI's
# test job, whose servers are service containers, deselects them and its test-outages job runs this.
.PHONY: test-server-control
test-server-control: $(VENV)/.synced ## only the tests that stop, start or configure the local PostgreSQL and RabbitMQ
	cd $(ROOT) && $(PYTEST) -m server_control tests

# COMPARE=<git rev> also benchmarks a git worktree of that revision, its rounds interleaved with
# this tree's, e.g. `make bench COMPARE=b08c74f` (the services before gthread and urllib3). It uses make dev's ports.
.PHONY: bench
bench: $(VENV)/.synced ## benchmark the stack as make dev runs it, with wrk (COMPARE=<rev> too); writes docs/benchmarks.md
	$(ROOT)/.ci/install-system-packages
	$(ROOT)/.ci/ensure-services
	cd $(SERVICES_DIR) && PYTHONPATH=$(SERVICES_DIR) $(BIN)/python -m devtools.bench \
	  $(if $(COMPARE),--compare $(COMPARE)) --output $(ROOT)/docs/benchmarks.md

TEST_TARGETS += test-services
