# GitOps tree (base/, overlays/, apps/, clusters/): offline render and proof.
.PHONY: validate test-gitops
validate: $(VENV)/.synced $(VENV_CHECKOV)/.synced ## render every kustomization offline; schema, contract, capacity, checkov
	cd $(ROOT) && $(BIN)/python -m cloudctl.manifests validate

test-gitops: $(VENV)/.synced $(VENV_CHECKOV)/.synced validate ## make validate, then the manifest tests (broken manifests must fail)
	cd $(ROOT) && $(PYTEST) -q tests/infrastructure/cloudctl/manifests

TEST_TARGETS += test-gitops
