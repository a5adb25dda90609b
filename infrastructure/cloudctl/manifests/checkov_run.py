"""checkov over the rendered manifests a cluster runs, with this project's checks loaded.

Skips live only in the manifests (checkov.io/skipN annotations with a reason); this runner passes
no --skip-check. It fails when checkov scanned no resource (e.g. it could not parse the files),
so a silent no-op cannot pass.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

from cloudctl.errors import CloudctlError
from cloudctl.manifests import tree


@dataclass
class Result:
    resources: int
    passed: int
    failed: list[str]
    skipped: list[str]


def checkov_bin() -> Path:
    path = tree.ROOT / ".venv-checkov/bin/checkov"  # the tool's own pinned checkov
    if not path.is_file():
        raise CloudctlError(f"{path} is missing: run `make venv`")
    return path


def run(root: Path, files: dict[str, Path]) -> Result:
    """files: label (the kustomization) → rendered YAML file."""
    if not files:
        raise CloudctlError("checkov: no rendered files to scan")
    command = [
        str(checkov_bin()),
        "--framework",
        "kubernetes",
        "--output",
        "json",
        "--compact",
        "--external-checks-dir",
        str(root / "policies/checkov"),
        "-f",
        *map(str, files.values()),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=root)
    try:
        reports = json.loads(done.stdout)
    except ValueError:
        raise CloudctlError(
            f"checkov produced no JSON report (exit {done.returncode}): {done.stderr.strip()[-500:]}"
        ) from None
    reports = reports if isinstance(reports, list) else [reports]
    by_file = {str(path): label for label, path in files.items()}
    failed, skipped, passed, resources = [], [], 0, 0
    for report in reports:
        summary = report.get("summary") or {}
        resources += summary.get("resource_count", 0)
        passed += summary.get("passed", 0)
        if summary.get("parsing_errors"):
            raise CloudctlError(f"checkov could not parse {summary['parsing_errors']} file(s)")
        results = report.get("results") or {}
        for check in results.get("failed_checks") or []:
            label = by_file.get(check.get("file_abs_path"), check.get("file_path"))
            failed.append(f"{label}: {check.get('resource')}: {check['check_id']} {check.get('check_name')}")
        for check in results.get("skipped_checks") or []:
            reason = (check.get("check_result") or {}).get("suppress_comment", "")
            skipped.append(f"{check.get('resource')}: {check['check_id']} ({reason})")
    if resources == 0:
        raise CloudctlError(f"checkov scanned zero resources in {len(files)} file(s): the scan did nothing")
    return Result(resources, passed, failed, skipped)
