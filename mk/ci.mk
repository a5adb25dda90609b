# Delivery: lint, the rendered diff, the policy report, the CI scripts' tests, and
# ci-local, which runs a merge request pipeline's checks on this machine in one go.
CI_OUT ?= $(ROOT)/.build

.PHONY: lint
# lint-imports finds the packages where pytest does: pyproject.toml's pythonpath, read, not copied.
IMPORT_PATH = $$($(BIN)/python -c 'import os, tomllib; print(os.pathsep.join(tomllib.load(open("pyproject.toml", "rb"))["tool"]["pytest"]["ini_options"]["pythonpath"]))')
lint: $(VENV)/.synced ## ruff, mypy (strict), import boundaries, yamllint and hadolint over the repository
	cd $(ROOT) && $(BIN)/ruff check .
	cd $(ROOT) && $(BIN)/mypy
	cd $(ROOT) && PYTHONPATH=$(IMPORT_PATH) $(BIN)/lint-imports
	cd $(ROOT) && $(BIN)/yamllint -c .yamllint.yaml .
	cd $(ROOT) && $(BIN)/hadolint --failure-threshold warning services/*/Dockerfile

# make diff BASE=origin/main [HEAD=<rev>] [FORMAT=markdown] [OUTPUT=file]: without HEAD, the working tree.
.PHONY: diff
diff: $(VENV)/.synced ## render every overlay and cluster at BASE and at HEAD (default: working tree) and diff
	@test -n "$(BASE)" || { echo "usage: make diff BASE=origin/main [HEAD=rev] [FORMAT=markdown] [OUTPUT=file]" >&2; exit 2; }
	$(BIN)/cloudctl diff --repo $(ROOT) --base "$(BASE)" $(if $(HEAD),--head "$(HEAD)") \
	  $(if $(FORMAT),--format $(FORMAT)) $(if $(OUTPUT),--output "$(OUTPUT)")

.PHONY: policy-report
policy-report: $(VENV)/.synced $(VENV_CHECKOV)/.synced ## checkov (project checks loaded) on rendered manifests, Terraform, Dockerfiles; JUnit in .build/policy
	$(BIN)/cloudctl policy-report --repo $(ROOT) --output $(CI_OUT)/policy

# The pinned gitlab-ci-local (tests/ci/gitlab-ci-local/package-lock.json), which runs the
# pipeline's rules and jobs in tests/ci; installed outside the linted tree.
GITLAB_CI_LOCAL_PIN = $(ROOT)/tests/ci/gitlab-ci-local
GITLAB_CI_LOCAL_DIR = $(CI_OUT)/gitlab-ci-local
GITLAB_CI_LOCAL = $(GITLAB_CI_LOCAL_DIR)/node_modules/.bin/gitlab-ci-local
$(GITLAB_CI_LOCAL): $(GITLAB_CI_LOCAL_PIN)/package.json $(GITLAB_CI_LOCAL_PIN)/package-lock.json
	mkdir -p $(GITLAB_CI_LOCAL_DIR)
	cp $^ $(GITLAB_CI_LOCAL_DIR)/
	npm ci --no-audit --no-fund --prefix $(GITLAB_CI_LOCAL_DIR)
	touch $@

.PHONY: test-ci
test-ci: $(VENV)/.synced $(VENV_CHECKOV)/.synced $(GITLAB_CI_LOCAL) ## tests of the delivery scripts, the checkov checks and .gitlab-ci.yml
	cd $(ROOT) && $(PYTEST) -q tests/ci tests/infrastructure/cloudctl/delivery

TEST_TARGETS += test-ci

# The merge request pipeline's checks, in the pipeline's order; keeps going and fails at the end
# if any failed, so one run shows every finding. BASE defaults to origin/main, else main.
CI_LOCAL_BASE = $(or $(BASE),$(shell git -C $(ROOT) rev-parse -q --verify origin/main >/dev/null && echo origin/main || echo main))
.PHONY: ci-local
ci-local: $(VENV)/.synced $(VENV_CHECKOV)/.synced ## run the merge request pipeline's checks locally (lint, test, policy report, diff)
	@failed=""; \
	for step in lint test policy-report; do \
	  echo "=== ci-local: make $$step"; \
	  $(MAKE) --no-print-directory $$step || failed="$$failed $$step"; \
	done; \
	echo "=== ci-local: make diff BASE=$(CI_LOCAL_BASE)"; \
	$(MAKE) --no-print-directory diff BASE="$(CI_LOCAL_BASE)" OUTPUT=$(CI_OUT)/diff/manifest-diff.txt \
	  && echo "rendered diff: $(CI_OUT)/diff/manifest-diff.txt" || failed="$$failed diff"; \
	if [ -n "$$failed" ]; then echo "ci-local: FAILED:$$failed" >&2; exit 1; fi; \
	echo "ci-local: every merge request check passed"
