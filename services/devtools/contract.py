"""contract.yaml as plain data, for devtools (the docs' generated tables, `make dev`'s Procfile).

devtools runs in the repository's venv, which has PyYAML; the services' images do not, which is
why common.describe takes its contract entry as JSON on stdin instead of reading this file.
"""

from __future__ import annotations

from typing import Any

import yaml

from devtools import local

FILE = local.SERVICES_DIR.parent / "contract.yaml"


def load_contract() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(FILE.read_text())
    return data
