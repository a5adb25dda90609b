# cloudctl bootstrap (up, down, status, plan, cost): infrastructure/cloudctl/bootstrap.
# Its tests use stand-in terraform/kubectl binaries and botocore Stubbers, and one runs up, plan,
# status and down with the real Terraform against the AWS emulator (moto): no AWS, no cluster.
# The manifests/ and delivery/ tests below tests/infrastructure/cloudctl run in test-gitops and
# test-ci, the lanes that need neither the emulator nor its minutes.
.PHONY: test-cloudctl
test-cloudctl: $(VENV)/.synced ## bootstrap CLI tests (stand-ins; the real Terraform on the AWS emulator)
	cd $(ROOT) && $(PYTEST) -q tests/infrastructure/cloudctl \
	  --ignore=tests/infrastructure/cloudctl/manifests --ignore=tests/infrastructure/cloudctl/delivery

.PHONY: cost
cost: $(VENV)/.synced ## monthly AWS estimate of ENV (dev or prod) from its terraform.tfvars
	$(BIN)/cloudctl cost --env $(or $(ENV),dev)

TEST_TARGETS += test-cloudctl
