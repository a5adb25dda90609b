"""Kubernetes checks (loaded by checkov from this folder; module names are prefixed to stay unique)."""
