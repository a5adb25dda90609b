"""Exponential backoff with jitter, for reconnect loops (many replicas must not retry in step)."""

from __future__ import annotations

import random


class Backoff:
    def __init__(self, initial: float = 0.5, maximum: float = 5.0, factor: float = 2.0):
        self.initial = initial
        self.maximum = maximum
        self.factor = factor
        self._next = initial

    def next_delay(self) -> float:
        """The delay to wait now (between half and all of the current step); grows the step."""
        step = self._next
        self._next = min(self.maximum, self._next * self.factor)
        return step * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not cryptography

    def reset(self) -> None:
        self._next = self.initial
