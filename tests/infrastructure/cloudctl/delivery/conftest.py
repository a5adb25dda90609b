"""Fixtures for the delivery scripts' and policies' tests."""

from __future__ import annotations

import fake_gitlab
import pytest
from fake_gitlab import TOKEN


@pytest.fixture
def gitlab_server(monkeypatch):
    """The fake GitLab API, with the CI variables the scripts read pointing at it."""
    fake, server = fake_gitlab.start()
    fake.reply("GET", "/api/v4/user", {"id": 7, "username": "cloud-design-ci-bot"})
    monkeypatch.setenv("CI_SERVER_URL", fake.url)
    monkeypatch.setenv("CI_PROJECT_ID", "42")
    monkeypatch.setenv("GITLAB_API_TOKEN", TOKEN)
    yield fake
    server.shutdown()
    server.server_close()
