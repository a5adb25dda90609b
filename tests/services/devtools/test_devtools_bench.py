"""The benchmark's description of the machine it ran on (devtools/bench.py), measured for real."""

from __future__ import annotations

import re

from devtools import bench


def test_machine_names_the_host_and_measures_its_wake_up_round_trip() -> None:
    info = bench.machine()
    assert re.fullmatch(r"\d+ x .+", info["cpu"])
    assert re.fullmatch(r"\d+\.\d+", info["postgresql"])
    wake_up = info[f"{bench.WAKE_UP} at start"]
    assert re.fullmatch(r"\d+\.\d µs", wake_up) and float(wake_up.split()[0]) > 0
