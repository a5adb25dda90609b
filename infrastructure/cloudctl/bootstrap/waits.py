"""Polling with a deadline: the one way the bootstrap waits for something that appears later."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from cloudctl.bootstrap.shell import StepError

T = TypeVar("T")


@dataclass(frozen=True)
class WaitPolicy:
    """How long to wait and how often to look. Tests pass a fake clock and sleep."""

    timeout_s: float = 1200.0  # cloud-init installs K3s in a few minutes; 20 min covers a slow first boot
    interval_s: float = 15.0
    sleep: Callable[[float], None] = field(default=time.sleep)
    clock: Callable[[], float] = field(default=time.monotonic)


def wait_for(
    what: str, probe: Callable[[], T | None], policy: WaitPolicy, explain: Callable[[], str] | None = None
) -> T:
    """Call probe until it returns something other than None; StepError after policy.timeout_s.

    explain, if given, says what the last look found; it ends the error line.
    """
    deadline = policy.clock() + policy.timeout_s
    while True:
        found = probe()
        if found is not None:
            return found
        if policy.clock() >= deadline:
            why = f": {explain()}" if explain else ""
            raise StepError(f"gave up waiting for {what} after {policy.timeout_s:.0f} s{why}")
        policy.sleep(policy.interval_s)
