"""The policy report's verdict: failed checks fail it, and so does a run that did not really look.
(The checks themselves run through the real checkov in test_policies.py; the full report, which
renders the whole tree and takes minutes, runs in CI's checkov job and in `make ci-local`.)"""

from __future__ import annotations

from pathlib import Path

import pytest
from cloudctl.delivery import policy_report
from cloudctl.errors import CloudctlError

ROOT = Path(__file__).resolve().parents[4]


def report(check_type: str, resources: int, passed=(), failed=(), parsing_errors: int = 0) -> dict:
    def item(check_id):
        return {"check_id": check_id, "check_name": "n", "resource": "r", "file_path": "/f"}

    return {
        "check_type": check_type,
        "summary": {"resource_count": resources, "parsing_errors": parsing_errors},
        "results": {"passed_checks": [item(c) for c in passed], "failed_checks": [item(c) for c in failed]},
    }


def test_a_clean_run_over_every_framework_passes():
    summary = policy_report.summarize(
        [
            report("kubernetes", 10, passed=["CKV_CD_K8S_1"]),
            report("terraform", 5, passed=["CKV_CD_TF_1"]),
            report("dockerfile", 3, passed=["CKV_DOCKER_3"]),
        ]
    )
    assert policy_report.verdict(summary, {"CKV_CD_K8S_1", "CKV_CD_TF_1"}) == []
    assert summary.failed == []


def test_a_framework_that_scanned_nothing_is_a_failure():
    summary = policy_report.summarize(
        [report("kubernetes", 10, passed=["CKV_CD_K8S_1"]), report("terraform", 0)]
    )
    problems = policy_report.verdict(summary, {"CKV_CD_K8S_1"})
    assert problems == ["checkov scanned no terraform resource", "checkov scanned no dockerfile resource"]


def test_a_project_check_that_reported_nothing_is_a_failure():
    summary = policy_report.summarize(
        [report("kubernetes", 1, passed=["CKV_K8S_1"]), report("terraform", 1), report("dockerfile", 1)]
    )
    assert policy_report.verdict(summary, {"CKV_CD_K8S_8"}) == [
        "project checks reported nothing (not loaded?): CKV_CD_K8S_8"
    ]


def test_failed_checks_are_listed():
    summary = policy_report.summarize([report("kubernetes", 1, failed=["CKV_CD_K8S_3"])])
    assert summary.failed == ["/f: r: CKV_CD_K8S_3 n"]


def test_parse_errors_stop_the_report():

    with pytest.raises(CloudctlError, match="could not parse 2 kubernetes file"):
        policy_report.summarize([report("kubernetes", 1, parsing_errors=2)])


def test_the_project_checks_are_all_found():
    ids = policy_report.project_check_ids(ROOT / "policies/checkov")
    assert {f"CKV_CD_K8S_{n}" for n in range(1, 9)} | {"CKV_CD_TF_1", "CKV_CD_TF_2", "CKV_CD_TF_3"} == ids
