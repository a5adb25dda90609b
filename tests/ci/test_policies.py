"""This project's checkov checks, run through the real checkov (.venv-checkov) on the fixtures.

Every fixture object carries `# expect: CHECK RESULT RESOURCE` lines; the test demands exactly that
result (UNKNOWN: the check must not report the object). One checkov run covers every fixture,
because checkov takes ~10 s to start. A check that fails to load yields no results, so its
expectations fail: nothing here can pass with the checks missing.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from cloudctl.delivery import policy_report

ROOT = Path(__file__).resolve().parents[2]
POLICIES = ROOT / "policies/checkov"
FIXTURES = Path(__file__).parent / "fixtures/checkov"
CHECKOV = ROOT / ".venv-checkov/bin/checkov"
EXPECT = re.compile(r"^# expect: (CKV_CD_\w+) (PASSED|FAILED|UNKNOWN) (\S+)$", re.M)


def project_check_ids() -> list[str]:
    return sorted(policy_report.project_check_ids(POLICIES))


def expectations() -> list[tuple[str, str, str, str]]:
    """(check id, result, resource, fixture file name)."""
    found = []
    for path in sorted(FIXTURES.rglob("*")):
        if path.is_file():
            found += [(c, r, res, path.name) for c, r, res in EXPECT.findall(path.read_text())]
    return found


@pytest.fixture(scope="module")
def checkov_results() -> dict[tuple[str, str, str], str]:
    """(check id, resource, fixture file name) -> PASSED/FAILED, from one checkov run."""
    assert CHECKOV.is_file(), f"{CHECKOV} missing: run `make venv`"
    result = subprocess.run(
        [
            str(CHECKOV),
            "--skip-download",
            "--compact",
            "-o",
            "json",
            "-d",
            str(FIXTURES),
            "--framework",
            "kubernetes",
            "terraform",
            "--external-checks-dir",
            str(POLICIES),
            "--check",
            ",".join(project_check_ids()),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    assert {r["check_type"] for r in reports} == {"kubernetes", "terraform"}, "a framework scanned nothing"
    outcomes = {}
    for report in reports:
        assert report["summary"]["parsing_errors"] == 0, report["results"].get("parsing_errors")
        for section in ("passed_checks", "failed_checks"):
            for item in report["results"][section]:
                key = (item["check_id"], item["resource"], Path(item["file_path"]).name)
                outcomes[key] = item["check_result"]["result"]
    return outcomes


def test_every_check_has_a_passing_and_a_failing_fixture():
    ids = project_check_ids()
    assert len(ids) == 11, ids  # 8 Kubernetes + 3 Terraform: a vanished check must be noticed
    expected = {(check, result) for check, result, _, _ in expectations()}
    missing = [f"{c} {r}" for c in ids for r in ("PASSED", "FAILED") if (c, r) not in expected]
    assert not missing, f"fixtures lack: {missing}"
    unknown = {check for check, _, _, _ in expectations()} - set(ids)
    assert not unknown, f"fixtures expect checks that do not exist: {unknown}"


@pytest.mark.parametrize(
    ("check", "result", "resource", "fixture"),
    expectations(),
    ids=[f"{c}-{r}-{res}" for c, r, res, _ in expectations()],
)
def test_checkov_reports_the_expected_result(checkov_results, check, result, resource, fixture):
    actual = checkov_results.get((check, resource, fixture), "UNKNOWN")
    assert actual == result, f"{check} on {resource} ({fixture}): {actual}, expected {result}"


def test_every_project_check_reported_something(checkov_results):
    """The checks were loaded from --external-checks-dir: each produced results in the run."""
    reported = {check for check, _, _ in checkov_results}
    assert set(project_check_ids()) <= reported
