"""Hooks for every test folder: the `server_control` guard (tests/servercontrol.py)."""

from __future__ import annotations

import pytest
import servercontrol


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # A test that stops the servers must also be left out where they cannot be stopped.
    unmarked = [i.nodeid for i in items if i.get_closest_marker("disruptive") and _servers(i) is None]
    if unmarked:
        raise pytest.UsageError(f"disruptive tests need @pytest.mark.{servercontrol.MARKER} too: {unmarked}")


@pytest.hookimpl(tryfirst=True)  # before any fixture of the test touches the servers
def pytest_runtest_setup(item: pytest.Item) -> None:
    servers = _servers(item)
    if servers is None:
        return
    found = servercontrol.problems(servers)
    if found:
        pytest.fail(
            f"{servercontrol.MARKER}: {'; '.join(found)}. Run these tests where PostgreSQL 15 and RabbitMQ "
            f"are local (make test-server-control), or leave them out with -m 'not {servercontrol.MARKER}'",
            pytrace=False,
        )


def _servers(item: pytest.Item) -> tuple[str, ...] | None:
    marker = item.get_closest_marker(servercontrol.MARKER)
    return None if marker is None else tuple(marker.args)
