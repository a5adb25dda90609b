"""The benchmark's CPU accounting (devtools/cpu.py) on real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from devtools import cpu

# A parent that starts a child; each burns 0.3 s of CPU, then both stay alive (a process's ticks
# leave /proc when it exits) until the test ends their session.
BURN = "import time\nwhile time.process_time() < 0.3: pass\ntime.sleep(60)"
PARENT = f"import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', {BURN!r}])\n{BURN}"


def test_a_root_counts_its_descendants_and_nothing_else() -> None:
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    burner = subprocess.Popen([sys.executable, "-c", PARENT], start_new_session=True)
    roots = {"burner": burner.pid, "idle": idle.pid}
    try:
        before, machine_before = cpu.snapshot(roots), cpu.machine()
        deadline = time.monotonic() + 20
        used = cpu.difference(before, cpu.snapshot(roots))
        while used["burner"] < 0.55 and time.monotonic() < deadline:
            time.sleep(0.05)
            used = cpu.difference(before, cpu.snapshot(roots))
        assert used["burner"] >= 0.55, f"parent and child burnt 0.6 s between them, counted {used}"
        assert used["idle"] < 0.1
        assert set(used) == {"burner", "idle", *cpu.SERVERS}
        busy, stolen = (after - before for after, before in zip(cpu.machine(), machine_before, strict=True))
        assert busy >= used["burner"] - 0.05 and stolen >= 0  # the machine's busy time holds the burners'
        family = list(cpu.descendants(burner.pid).values())
        assert len(family) == 1 and "time.process_time()" in family[0]  # the child, by its command line
        assert cpu.descendants(idle.pid) == {}
    finally:
        for process in (idle, burner):
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
