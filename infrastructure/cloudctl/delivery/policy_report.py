"""One checkov run over everything that ships, with JUnit for the merge request.

Scans the rendered overlays and clusters (what Argo CD applies), infrastructure/terraform and the
services' Dockerfiles, with this project's checks loaded. It fails loudly when a framework scanned
nothing or a project check reported nothing, since checkov itself would pass silently then.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from cloudctl.delivery import render
from cloudctl.errors import CloudctlError

FRAMEWORKS = ("kubernetes", "terraform", "dockerfile")
CHECK_ID = re.compile(r"""\bid(?:=|:\s*)["']?(CKV_CD_[A-Z0-9_]+)""")


@dataclass
class Report:
    resources: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)
    reported_checks: set[str] = field(default_factory=set)


def project_check_ids(policies: Path) -> set[str]:
    ids: set[str] = set()
    for path in policies.rglob("*"):
        if path.suffix in (".py", ".yaml"):
            ids.update(CHECK_ID.findall(path.read_text()))
    return ids


def write_rendered(root: Path, out: Path) -> list[Path]:
    """Render every overlay and cluster into `out`, one YAML file per target."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    files = []
    for target, objects in render.render_tree(root).items():
        path = out / (target.replace("/", "--").removesuffix(".yaml") + ".yaml")
        path.write_text(yaml.safe_dump_all(objects, sort_keys=False))
        files.append(path)
    return files


def checkov_binary(root: Path) -> Path:
    path = root / ".venv-checkov/bin/checkov"
    if not path.is_file():
        raise CloudctlError(f"{path} is missing: run `make venv`")
    return path


def run_checkov(root: Path, rendered: Path, out: Path) -> Report:
    command = [
        str(checkov_binary(root)),
        "--skip-download",
        "--compact",
        "--framework",
        *FRAMEWORKS,
        "--external-checks-dir",
        str(root / "policies/checkov"),
        "-d",
        str(rendered),
        "-d",
        str(root / "infrastructure/terraform"),
        "-d",
        str(root / "services"),
        "-o",
        "junitxml",
        "-o",
        "json",
        "--output-file-path",
        str(out),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=root)
    if done.returncode not in (0, 1):
        raise CloudctlError(f"checkov exited {done.returncode}: {done.stderr.strip()[-500:]}")
    json_report = out / "results_json.json"
    try:
        reports = json.loads(json_report.read_text())
    except (OSError, ValueError) as err:
        raise CloudctlError(f"checkov wrote no JSON report ({err}): {done.stderr.strip()[-500:]}") from err
    return summarize(reports if isinstance(reports, list) else [reports])


def summarize(reports: list[dict[str, Any]]) -> Report:
    report = Report()
    for entry in reports:
        summary = entry.get("summary") or {}
        if summary.get("parsing_errors"):
            raise CloudctlError(
                f"checkov could not parse {summary['parsing_errors']} {entry.get('check_type')} file(s)"
            )
        report.resources[entry.get("check_type", "?")] = summary.get("resource_count", 0)
        results = entry.get("results") or {}
        for section in ("passed_checks", "failed_checks", "skipped_checks"):
            report.reported_checks.update(c["check_id"] for c in results.get(section) or [])
        report.failed += [
            f"{c.get('file_path')}: {c.get('resource')}: {c['check_id']} {c.get('check_name')}"
            for c in results.get("failed_checks") or []
        ]
    return report


def verdict(report: Report, expected_checks: set[str]) -> list[str]:
    """Why the run must fail, beyond failed checks: anything that means checkov did not really look."""
    problems = [f"checkov scanned no {fw} resource" for fw in FRAMEWORKS if not report.resources.get(fw)]
    silent = sorted(expected_checks - report.reported_checks)
    if silent:
        problems.append(f"project checks reported nothing (not loaded?): {', '.join(silent)}")
    return problems


def run(root: Path, out: Path) -> int:
    out.mkdir(parents=True, exist_ok=True)
    # checkov skips hidden folders (such as .build/), so the manifests are scanned from a temporary
    # folder and kept next to the report afterwards.
    with tempfile.TemporaryDirectory(prefix="cloudctl-policy-") as scratch:
        rendered = Path(scratch) / "rendered"
        write_rendered(root, rendered)
        report = run_checkov(root, rendered, out)
        shutil.rmtree(out / "rendered", ignore_errors=True)
        shutil.copytree(rendered, out / "rendered")
    problems = verdict(report, project_check_ids(root / "policies/checkov"))
    for line in report.failed:
        print(f"FAILED {line}")
    counts = ", ".join(f"{fw} {report.resources.get(fw, 0)}" for fw in FRAMEWORKS)
    junit = out / "results_junitxml.xml"
    print(f"checkov: resources scanned: {counts}; {len(report.failed)} failed; JUnit report: {junit}")
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if report.failed or problems else 0
