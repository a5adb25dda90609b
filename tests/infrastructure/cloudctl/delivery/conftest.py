"""Fixtures for the delivery scripts' and policies' tests."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import fake_gitlab
import oci_registry
import pytest
from fake_gitlab import TOKEN

# tests/ci/gitlab_ci_local.py runs the build jobs here too: this folder run alone must find it.
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "ci"))


@pytest.fixture
def gitlab_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[fake_gitlab.FakeGitLab]:
    """The fake GitLab API, with the CI variables the scripts read pointing at it."""
    fake, server = fake_gitlab.start()
    fake.reply("GET", "/api/v4/user", {"id": 7, "username": "cloud-design-ci-bot"})
    monkeypatch.setenv("CI_SERVER_URL", fake.url)
    monkeypatch.setenv("CI_PROJECT_ID", "42")
    monkeypatch.setenv("GITLAB_API_TOKEN", TOKEN)
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def registry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[oci_registry.Registry]:
    """Debian's docker-registry on a free loopback port, open to all; stopped after the module."""
    server = oci_registry.start(tmp_path_factory.mktemp("registry"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def private_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[oci_registry.Registry]:
    """The same behind basic auth: user AWS, as ECR's login names it, and a password of its own."""
    server = oci_registry.start(tmp_path_factory.mktemp("private-registry"), creds="AWS:ecr-token-for-tests")
    yield server
    server.stop()
