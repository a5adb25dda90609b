"""`make dev`'s Procfile, written from contract.yaml: one line per workload, started with the
contract's `command` in its `source` folder (the image's WORKDIR), with the local settings of
devtools/local.py (ports, databases, broker). honcho runs the file.

    python -m devtools.procfile PATH     # make dev writes .build/Procfile

Each workload's `requires` must be among its local settings: a workload contract.yaml adds without
them here is one line and exit 1, not a process that dies at start.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from devtools import local
from devtools.contract import load_contract


def line(name: str, item: dict[str, Any]) -> str:
    """`<name>: cd <folder> && exec env <settings> <command>` for one workload."""
    environ = {"PYTHONPATH": str(local.SERVICES_DIR), **local.environment(name)}
    missing = [variable for variable in item["requires"] if variable not in environ]
    if missing:
        raise KeyError(f"devtools/local.py gives {name} no {', '.join(missing)} (contract.yaml: requires)")
    folder = local.SERVICES_DIR.parent / item["source"]
    settings = " ".join(f"{key}={shlex.quote(value)}" for key, value in environ.items())
    return f"{name}: cd {shlex.quote(str(folder))} && exec env {settings} {shlex.join(item['command'])}"


def procfile(contract: dict[str, Any]) -> str:
    header = "# Written by `python -m devtools.procfile` from contract.yaml and devtools/local.py.\n"
    return header + "".join(line(name, item) + "\n" for name, item in contract["workloads"].items())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("path", type=Path, help="the Procfile to write")
    args = parser.parse_args(argv)
    try:
        text = procfile(load_contract())
    except KeyError as exc:
        print(f"devtools.procfile: {exc.args[0]}", file=sys.stderr)
        raise SystemExit(1) from None
    args.path.parent.mkdir(parents=True, exist_ok=True)
    args.path.write_text(text)
    for name in local.PORTS:
        print(f"{name:<15} {local.url(name)}")


if __name__ == "__main__":
    main()
