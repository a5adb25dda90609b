"""Where a benchmark run's CPU went: CPU seconds by process group, read from /proc.

A group is a process and its descendants (a gunicorn master and its workers), or every process
of a server by its command name (PostgreSQL's backends, RabbitMQ's Erlang VM). Only Linux.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
# Servers the stack uses, by the command name their processes run under.
SERVERS = {"postgresql": ("postgres",), "rabbitmq": ("beam.smp", "erl_child_setup", "inet_gethost")}


def _processes() -> dict[int, tuple[int, str, int]]:
    """pid -> (parent pid, command name, CPU ticks used so far)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited while we looked
            continue
        comm = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        found[int(entry.name)] = (int(fields[1]), comm, int(fields[11]) + int(fields[12]))
    return found


def snapshot(roots: Mapping[str, int]) -> dict[str, float]:
    """CPU seconds used so far by each named root process with its descendants, and by SERVERS."""
    processes = _processes()
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in processes.items():
        children.setdefault(parent, []).append(pid)
    used: dict[str, float] = {}
    for name, root in roots.items():
        ticks, todo = 0, [root]
        while todo:
            pid = todo.pop()
            if pid in processes:
                ticks += processes[pid][2]
            todo.extend(children.get(pid, ()))
        used[name] = ticks / _TICKS_PER_SECOND
    for name, commands in SERVERS.items():
        ticks = sum(t for _, comm, t in processes.values() if comm in commands)
        used[name] = ticks / _TICKS_PER_SECOND
    return used


def difference(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}


def wake_up_round_trip_us(round_trips: int = 20_000) -> float:
    """Microseconds for one process to wake another and be woken back (a pipe ping-pong).

    Every request through the stack crosses processes several times, so this figure moves the
    benchmark's results: a host whose wake-ups got slower shows it here, while a pure CPU loop
    would not.
    """
    to_child, from_parent = os.pipe()
    to_parent, from_child = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child echoes every byte back, then exits without running any cleanup
        try:
            for _ in range(round_trips):
                os.read(to_child, 1)
                os.write(from_child, b".")
        finally:
            os._exit(0)
    try:
        started = time.perf_counter()
        for _ in range(round_trips):
            os.write(from_parent, b".")
            os.read(to_parent, 1)
        elapsed = time.perf_counter() - started
    finally:
        os.waitpid(pid, 0)
        for fd in (to_child, from_parent, to_parent, from_child):
            os.close(fd)
    return elapsed / round_trips * 1e6
