"""`cloudctl policy-report` end to end on a small repository: rendered manifests, Terraform and a
Dockerfile through the real checkov, the report written under a hidden folder (.build/), which
checkov itself would skip if the manifests were scanned there."""

from __future__ import annotations

import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

from cloudctl.delivery import policy_report

ROOT = Path(__file__).resolve().parents[4]
FIXTURES = ROOT / "tests/ci/fixtures/checkov"


def make_repo(repo: Path) -> None:
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    for venv in (".venv", ".venv-checkov"):
        (repo / venv).symlink_to(ROOT / venv)
    (repo / "policies").mkdir()
    (repo / "policies/checkov").symlink_to(ROOT / "policies/checkov")
    (repo / "requirements").mkdir()
    shutil.copyfile(ROOT / "requirements/dev.in", repo / "requirements/dev.in")
    workloads = repo / "overlays/dev/workloads"
    workloads.mkdir(parents=True)
    names = []
    for fixture in sorted((FIXTURES / "kubernetes").glob("*.yaml")):
        shutil.copyfile(fixture, workloads / fixture.name)
        names.append(fixture.name)
    (workloads / "kustomization.yaml").write_text(f"resources: [{', '.join(names)}]\n")
    shutil.copytree(FIXTURES / "terraform", repo / "infrastructure/terraform")
    (repo / "services/api").mkdir(parents=True)
    (repo / "services/api/Dockerfile").write_text("FROM python:3.11.14-slim-bookworm\nUSER 10001\n")


def test_the_report_scans_all_three_kinds_and_fails_on_findings(tmp_path, capsys):
    repo = tmp_path / "repo"
    make_repo(repo)
    out = repo / ".build/policy"

    assert policy_report.run(repo, out) == 1  # the fixtures hold failing objects on purpose

    printed = capsys.readouterr()
    assert "error:" not in printed.err, printed.err  # every framework and project check saw something
    assert "FAILED " in printed.out and "CKV_CD_K8S_8" in printed.out and "CKV_CD_TF_1" in printed.out
    junit = ET.parse(out / "results_junitxml.xml").getroot()  # noqa: S314 - the report this test just wrote
    cases = junit.findall(".//testcase")
    assert len(cases) > 50 and junit.findall(".//failure")
    assert sorted(p.name for p in (out / "rendered").iterdir()) == ["overlays--dev--workloads.yaml"]


def test_a_tree_with_nothing_to_scan_is_an_error_not_a_pass(tmp_path, capsys):
    repo = tmp_path / "repo"
    make_repo(repo)
    shutil.rmtree(repo / "infrastructure/terraform")
    (repo / "infrastructure/terraform").mkdir()

    assert policy_report.run(repo, repo / ".build/policy") == 1
    err = capsys.readouterr().err
    assert "checkov scanned no terraform resource" in err
    assert "project checks reported nothing (not loaded?): CKV_CD_TF_1, CKV_CD_TF_2, CKV_CD_TF_3" in err
