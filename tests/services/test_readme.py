"""services/README.md's environment table is exactly what the Setting tuples say."""

from __future__ import annotations

from devtools import settings_table


def test_readme_table_matches_the_settings_in_code() -> None:
    current = settings_table.README.read_text()
    assert settings_table.readme_with_table(current) == current, (
        "services/README.md is stale: run `python -m devtools.settings_table --write` in services/"
    )


def test_table_covers_every_setting_of_every_workload() -> None:
    text = settings_table.table()
    for workload, settings in settings_table.workload_settings().items():
        for setting in settings:
            row = next(line for line in text.splitlines() if line.startswith(f"| `{setting.name}` |"))
            assert workload in row.split("|")[2]
