"""Where a benchmark run's CPU went: CPU seconds by process group, read from /proc.

A group is a process and its descendants (a gunicorn master and its workers), or every process
of a server by its command name (PostgreSQL's backends, RabbitMQ's Erlang VM). Only Linux.
"""

from __future__ import annotations

import contextlib
import os
import resource
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


def machine() -> tuple[float, float]:
    """CPU seconds since boot of the whole machine: (busy, stolen by the host for other guests)."""
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(
        int, Path("/proc/stat").read_text().split()[1:9]
    )
    return (user + nice + system + irq + softirq) / _TICKS_PER_SECOND, steal / _TICKS_PER_SECOND


def descendants(pid: int) -> dict[int, str]:
    """Every descendant of `pid`, parents before their children: pid -> command line."""
    children: dict[int, list[int]] = {}
    for child, (parent, _, _) in _processes().items():
        children.setdefault(parent, []).append(child)
    found, todo = {}, list(children.get(pid, ()))
    while todo:
        child = todo.pop(0)
        todo.extend(children.get(child, ()))
        with contextlib.suppress(OSError):  # exited while we looked
            found[child] = (Path("/proc") / str(child) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    return found


def children_seconds() -> float:
    """CPU seconds used by this process's children that have exited and been waited for (wrk)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
