# make e2e (e2e/README.md): the ci environment synced by Argo CD into a throw-away K3s cluster (k3d),
# then the README's curl examples through the gateway's NodePort. Needs a Docker engine and the
# pinned k3d (e2e/install-k3d); minutes, not seconds, so it is not part of `make test`. CI runs it
# on merge requests (the e2e job). Without an engine it says so in one line and fails.
.PHONY: e2e
e2e: $(VENV)/.synced ## the ci environment synced into a throw-away K3s cluster, then the README's curls (Docker, k3d)
	@$(BIN)/python $(ROOT)/e2e/run.py
