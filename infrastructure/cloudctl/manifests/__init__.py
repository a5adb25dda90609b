"""Manifests: render every kustomization offline, validate every object, check the contract with
the code, size the cluster, and run checkov (`cloudctl render|validate|capacity`)."""
