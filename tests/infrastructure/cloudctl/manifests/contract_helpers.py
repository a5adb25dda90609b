"""A repository root whose contract.yaml says something else (the services are the real ones)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from manifest_helpers import ROOT


def contract_root(tmp_path: Path, edit: Callable[[dict[str, Any]], None]) -> Path:
    data = yaml.safe_load((ROOT / "contract.yaml").read_text())
    edit(data)
    (tmp_path / "contract.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (tmp_path / "services").symlink_to(ROOT / "services")
    return tmp_path
