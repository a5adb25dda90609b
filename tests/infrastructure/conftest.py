"""Shared by tests/infrastructure/*: this folder's helpers (terraform_engine, aws_emulator,
moto_gaps) are importable from every test below it, since pytest puts a conftest's folder on
sys.path."""
