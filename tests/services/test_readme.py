"""The generated tables (services/README.md, services/billing/README.md, docs/contract.md) are
exactly what contract.yaml and the Setting tuples say, and a stale one is caught."""

from __future__ import annotations

import copy

import pytest
from devtools import settings_table

FILES = sorted({block.path for block in settings_table.BLOCKS})
STALE = "is stale: run `python -m devtools.settings_table --write` in services/"


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(settings_table.ROOT)))
def test_every_generated_block_is_current(path) -> None:
    current = path.read_text()
    assert settings_table.generated(path, current) == current, f"{path} {STALE}"


def test_a_hand_edited_row_is_stale() -> None:
    path = settings_table.ROOT / "docs" / "contract.md"
    current = path.read_text()
    edited = current.replace("| 30001 |", "| 30005 |", 1)
    assert edited != current
    assert settings_table.generated(path, edited) == current


def test_a_contract_change_makes_the_docs_stale(monkeypatch) -> None:
    changed = copy.deepcopy(settings_table.contract())
    changed["workloads"]["inventory"]["node_port"] = 30005
    changed["secrets"]["rabbitmq"]["keys"].append("tls_key")
    changed["workloads"]["inventory"]["requires"].append("PGPASSWORD")
    changed["workloads"]["api-gateway"]["secrets"] = {"rabbitmq": ["username"]}
    monkeypatch.setattr(settings_table, "contract", lambda: changed)
    path = settings_table.ROOT / "docs" / "contract.md"
    regenerated = settings_table.generated(path, path.read_text())
    assert "| inventory | `/inventory/*` | 30005 |" in regenerated
    assert "`username`, `password`, `erlang_cookie`, `tls_key`" in regenerated
    assert "| 30005 | `DATABASE_URL`, `PGPASSWORD` |" in regenerated
    assert "| 30000 | `INVENTORY_URL`, `BILLING_URL` | `rabbitmq`: `username` |" in regenerated


def test_a_file_without_its_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="lacks the workloads-table markers"):
        settings_table.generated(settings_table.ROOT / "docs" / "contract.md", "no markers here\n")


def test_table_covers_every_setting_of_every_workload() -> None:
    text = settings_table.table()
    for workload, settings in settings_table.workload_settings().items():
        for setting in settings:
            row = next(line for line in text.splitlines() if line.startswith(f"| `{setting.name}` |"))
            assert workload in row.split("|")[2]
