""".gitlab-ci.yml: valid against GitLab's schema, thin (every make target and cloudctl command it
calls exists), pinned, loop-free, and free of credentials."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / ".gitlab-ci.yml"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def load() -> dict:
    return yaml.safe_load(PIPELINE.read_text())


def scripts() -> list[str]:
    lines = []
    for job in load().values():
        if isinstance(job, dict):
            for key in ("before_script", "script"):
                for line in job.get(key) or []:
                    lines += line if isinstance(line, list) else [line]
    return lines


def schema_check(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.gitlab-ci", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_pipeline_is_valid_against_gitlabs_schema():
    result = schema_check(PIPELINE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_schema_check_rejects_a_broken_pipeline(tmp_path):
    broken = tmp_path / ".gitlab-ci.yml"
    broken.write_text(PIPELINE.read_text().replace("when: manual", "when: sometimes"))
    assert broken.read_text() != PIPELINE.read_text()
    result = schema_check(broken)
    assert result.returncode != 0 and "sometimes" in result.stdout + result.stderr


def test_every_make_target_the_jobs_call_exists():
    targets = {m for line in scripts() for m in re.findall(r"(?:^|&& |; )make ([a-z][a-z-]*)", line)}
    assert {"lint", "validate", "policy-report", "diff"} <= targets
    for target in targets:
        dry = subprocess.run(
            ["make", "-n", target, "BASE=HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
        )
        assert dry.returncode == 0, f"make {target}: {dry.stderr}"


def test_every_cloudctl_command_the_jobs_call_parses():
    from cloudctl.cli import build_parser

    parser = build_parser()
    calls = [line for line in scripts() if "cloudctl " in line]
    assert len(calls) >= 3  # publish-note, set-image, promote
    for line in calls:
        argv = line.split("cloudctl ", 1)[1]
        argv = re.sub(r"\$\(cat [^)]*\)", "api-gateway=abc1234", argv)
        argv = re.sub(r'"?\$\{?[A-Z_]+\}?"?', "value", argv).split("\n")[0].split()
        parser.parse_args(argv)  # SystemExit on an unknown command or option


def test_images_are_pinned_to_exact_versions():
    variables = load()["variables"]
    for name in ("PYTHON_IMAGE", "TERRAFORM_IMAGE", "KANIKO_IMAGE"):
        image = variables[name]
        assert re.search(r":v?\d+\.\d+\.\d+", image), f"{name}={image} is not an exact version"
    versions = (ROOT / "infrastructure/terraform/envs/common/versions.tf").read_text()
    minor = re.search(r'required_version\s*=\s*"~> (\d+\.\d+)\.\d+"', versions)
    if minor:  # the image runs the Terraform release the roots require
        assert variables["TERRAFORM_IMAGE"].split(":")[1].startswith(minor.group(1) + ".")
    for line in PIPELINE.read_text().splitlines():
        assert not re.search(r"image:\s*\S+:latest|image:\s*[a-z./-]+\s*$", line), line


def test_the_bot_commit_cannot_start_a_pipeline_loop():
    rules = load()["workflow"]["rules"]
    assert rules[0] == {"if": "$CI_COMMIT_AUTHOR =~ /^cloud-design-ci-bot /", "when": "never"}
    from cloudctl.delivery import gitlab_api

    assert gitlab_api.BOT_AUTHOR_NAME == "cloud-design-ci-bot" and gitlab_api.SKIP_CI == "[skip ci]"


@pytest.mark.parametrize(
    ("job", "folder", "image"),
    [
        ("build-api-gateway", "api-gateway", "api-gateway"),
        ("build-inventory", "inventory", "inventory-app"),
        ("build-billing", "billing", "billing-app"),
    ],
)
def test_each_service_is_rebuilt_only_when_it_or_the_shared_code_changes(job, folder, image):
    spec = load()[job]
    assert spec["variables"] == {"SERVICE_DIR": folder, "IMAGE_NAME": image}
    (rule,) = spec["rules"]
    assert rule["changes"] == [f"services/{folder}/**/*", "services/common/**/*"]
    assert (ROOT / "services" / folder / "Dockerfile").is_file()
    kaniko = " ".join(str(line) for line in load()[".kaniko"]["script"])
    assert '--context "$CI_PROJECT_DIR/services"' in kaniko
    assert "cloud-design/dev/$IMAGE_NAME:$CI_COMMIT_SHA" in kaniko


def test_aws_access_is_oidc_only_and_no_secret_is_written_here():
    text = PIPELINE.read_text()
    assert load()[".aws_oidc"]["id_tokens"] == {"AWS_ID_TOKEN": {"aud": "sts.amazonaws.com"}}
    assert not re.search(r"AKIA[0-9A-Z]{16}|AWS_SECRET_ACCESS_KEY|glpat-|PRIVATE-TOKEN", text)
    for name, job in load().items():
        for value in (job.get("variables") or {}).values() if isinstance(job, dict) else []:
            assert not re.search(r"(?i)password|secret|token", str(value)) or "$" in str(value), (name, value)


def test_drift_is_checked_on_a_schedule_with_detailed_exitcode():
    drift = load()["terraform-drift"]
    assert drift["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    assert drift["parallel"]["matrix"] == [{"ENV": ["dev", "prod"]}]
    assert any("plan" in line and "-detailed-exitcode" in line for line in drift["script"])
