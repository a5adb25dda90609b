"""Docs and comments point at the repository's files, never at the issue tracker's history:
an issue number or a name for the first version means nothing to someone who adopts the repository."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Assembled so that this file does not match itself.
HISTORY = re.compile(r"\b" + "issue" + r"s?\s+#?\d+|\bthe\s+" + "seed" + r"\b", re.IGNORECASE)
TEXT_SUFFIXES = {".md", ".py", ".tf", ".yaml", ".yml", ".mk", ".sh", ".toml", ".in", ".txt", ".hcl"}


def history_references(files: list[Path], root: Path = ROOT) -> list[str]:
    found = []
    for path in files:
        if path.suffix not in TEXT_SUFFIXES and path.name not in {"Makefile", "Dockerfile"}:
            continue
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if HISTORY.search(line):
                found.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    return found


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [ROOT / name for name in listed.split("\0") if name and (ROOT / name).is_file()]


def test_no_doc_or_comment_names_an_issue_or_the_seed():
    assert history_references(tracked_files()) == []


def test_the_rule_finds_each_form(tmp_path):
    sample = tmp_path / "README.md"
    sample.write_text(
        # Split so that this file's own lines do not match the rule.
        "Fixed in iss" + "ue 14.\nSee Iss" + "ue #3 too.\nAs the " + "seed did.\nissues and seeds are fine.\n"
    )
    found = history_references([sample], root=tmp_path)
    assert [line.split(": ", 1)[0].rsplit(":", 1)[1] for line in found] == ["1", "2", "3"]
