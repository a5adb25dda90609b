"""Terraform checks: Python checks and YAML graph checks (loaded by checkov from this folder)."""
