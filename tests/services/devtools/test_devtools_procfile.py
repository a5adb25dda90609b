"""make dev's Procfile (devtools/procfile.py): each workload of contract.yaml started with the
contract's command in its source folder, with devtools/local.py's settings."""

from __future__ import annotations

import copy
import shlex
import subprocess
import sys

import pytest
from devtools import local, procfile
from devtools.contract import load_contract


def parsed(text: str) -> dict[str, tuple[str, dict[str, str], list[str]]]:
    """name -> (folder, environment, command) of each line `<name>: cd F && exec env K=V... CMD`."""
    found = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        name, _, rest = line.partition(": ")
        words = shlex.split(rest)
        assert words[0] == "cd" and words[2:5] == ["&&", "exec", "env"], line
        settings = [w for w in words[5:] if "=" in w and w.split("=", 1)[0].isupper()]
        found[name] = (words[1], dict(w.split("=", 1) for w in settings), words[5 + len(settings) :])
    return found


def test_each_workload_starts_with_the_contracts_command_in_its_folder() -> None:
    contract = load_contract()
    lines = parsed(procfile.procfile(contract))
    assert list(lines) == list(contract["workloads"])
    for name, item in contract["workloads"].items():
        folder, environ, command = lines[name]
        assert folder == str(local.SERVICES_DIR.parent / item["source"])
        assert command == item["command"]
        assert environ["PORT"] == str(local.PORTS[name])
        assert set(item["requires"]) <= set(environ)


def test_a_required_setting_the_local_stack_does_not_give_is_refused() -> None:
    contract = copy.deepcopy(load_contract())
    contract["workloads"]["inventory"]["requires"].append("INVENTORY_SIGNING_KEY")
    with pytest.raises(
        KeyError, match=r"gives inventory no INVENTORY_SIGNING_KEY \(contract.yaml: requires\)"
    ):
        procfile.procfile(contract)


def test_a_workload_without_local_settings_is_refused() -> None:
    contract = copy.deepcopy(load_contract())
    contract["workloads"]["search"] = dict(contract["workloads"]["inventory"])
    with pytest.raises(KeyError, match="no local port and settings for workload 'search'"):
        procfile.procfile(contract)


def test_the_command_writes_the_file_and_names_the_urls(tmp_path) -> None:
    path = tmp_path / "build" / "Procfile"
    done = subprocess.run(
        [sys.executable, "-m", "devtools.procfile", str(path)],
        cwd=local.SERVICES_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert path.read_text() == procfile.procfile(load_contract())
    assert "api-gateway     http://127.0.0.1:3000" in done.stdout
