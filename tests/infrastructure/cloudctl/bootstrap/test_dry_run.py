"""--dry-run prints every command in order and runs none (STAND-IN binaries on PATH record any call)."""

from __future__ import annotations

import subprocess
import sys

from cloudctl.bootstrap.state_adopt import STATE_RESOURCES
from cloudctl_fakes import ADMIN_CIDR, INPUTS, STATE_BUCKET

KUBE = "kubectl --kubeconfig /k/dev.yaml"
STATE = "(cd infrastructure/terraform/state && terraform"
DEV = "(cd infrastructure/terraform/envs/dev && terraform"
# plan, apply and destroy of the env root get the admin CIDR, which git does not hold.
DEV_VARS = f"(cd infrastructure/terraform/envs/dev && TF_VAR_admin_cidr={ADMIN_CIDR} terraform"
BUCKET_PLACEHOLDER = "'-backend-config=bucket=<state_bucket output of the state root>'"
# Run only when this machine lacks the state root's local state while the bucket exists (state-adopt).
ADOPT = [
    "aws sts get-caller-identity; aws s3api head-bucket --bucket cloud-design-tfstate-<account>",
    *[f"{STATE} import -input=false {address} '<bucket>')" for address in STATE_RESOURCES],
]
UP_PLAN = [
    f"{STATE} init -input=false -no-color)",
    f"{STATE} state list)",
    *ADOPT,
    f"{STATE} apply -input=false -auto-approve)",
    f"{STATE} output -json)",
    f"{DEV} init -input=false -no-color -reconfigure -backend-config=backend.hcl {BUCKET_PLACEHOLDER})",
    f"{DEV_VARS} apply -input=false -auto-approve)",
    f"{DEV} output -json)",
    "aws ecr describe-images --repository-name <each of ecr_repository_urls> "
    "--image-ids imageTag=<its newTag in overlays/dev/images/kustomization.yaml>",
    "python-gitlab: pipelines.create(ref=main, BUILD_ALL=true)",
    "aws ssm get-parameter --region eu-west-1 --name /cloud-design/dev/kubeconfig --with-decryption "
    "> /k/dev.yaml",
    f"{KUBE} get --raw /readyz",
    f"{KUBE} apply --server-side --force-conflicts -k clusters/dev/argocd",
    f"{KUBE} wait --for condition=established --timeout=120s crd/applications.argoproj.io "
    "crd/applicationsets.argoproj.io crd/appprojects.argoproj.io",
    f"{KUBE} -n argocd rollout status deployment/argocd-server --timeout=600s",
    f"{KUBE} apply --server-side --force-conflicts -f -",  # the cluster Secret
    f"{KUBE} apply --server-side --force-conflicts -f -",  # root.yaml's objects
    f"{KUBE} -n argocd get applications.argoproj.io -o json",
    "curl -fsS http://<alb_dns_name>/api/movies",
]


# The inputs each command needs (up: all; plan and down: the admin CIDR; status: none).
NEEDS = {"up": INPUTS, "down": ("--admin-cidr", ADMIN_CIDR), "plan": ("--admin-cidr", ADMIN_CIDR)}


def dry(run, repo, command, env="dev", *extra):
    return run(
        command,
        "--env",
        env,
        "--repo-root",
        str(repo),
        "--kubeconfig",
        f"/k/{env}.yaml",
        "--dry-run",
        *NEEDS.get(command, ()),
        *extra,
    )


def test_up_dry_run_prints_the_whole_plan_and_runs_nothing(run, repo, standins, ssm):
    result = dry(run, repo, "up")

    assert result.code == 0, result.err
    assert result.commands() == UP_PLAN
    assert standins.calls() == []
    assert ssm.regions == []  # AWS not asked either: the preflight's STS answer is still queued
    assert ssm.stubbers["sts"]._queue
    assert "preflight: skipped in a dry run" in result.out
    assert "Argo CD UI:  http://<alb_dns_name>/argocd" in result.out


def test_dry_run_needs_no_tools_and_no_credentials(run, repo, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no terraform, no kubectl
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)

    result = dry(run, repo, "up", "prod")

    assert result.code == 0, result.err
    assert (
        f"(cd infrastructure/terraform/envs/prod && TF_VAR_admin_cidr={ADMIN_CIDR} terraform apply "
        "-input=false -auto-approve)" in result.commands()
    )


def test_dry_run_prints_the_same_plan_as_the_real_run_issues(run, repo, standins, ssm, clock, alb):
    """Every command the dry run prints is the one the real run executes, in the same order."""
    planned = dry(run, repo, "up")
    ssm.images_present()
    ssm.holds()
    real = run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", *INPUTS)

    assert real.code == 0, real.err
    # This machine has the state root's state, so no adoption; the real run knows the bucket's name.
    expected = [
        line.replace(BUCKET_PLACEHOLDER, f"-backend-config=bucket={STATE_BUCKET}").replace(
            "<alb_dns_name>", alb.host
        )
        for line in planned.commands()
        if line not in ADOPT and not line.startswith("python-gitlab")  # the images are there: no build
    ]
    assert real.commands() == expected


def test_down_dry_run_deletes_the_apps_before_destroying_and_the_state_root_last(run, repo, standins, ssm):
    result = dry(run, repo, "down", "dev", "--include-state")

    assert result.code == 0, result.err
    plan = result.commands()
    assert standins.calls() == []
    order = [
        f"{KUBE} -n argocd delete applicationsets.argoproj.io root --ignore-not-found --wait=true "
        "--timeout=900s",
        f"{KUBE} -n argocd delete applications.argoproj.io root --ignore-not-found --wait=true "
        "--timeout=900s",
        f"{KUBE} -n argocd get applications.argoproj.io -o json",  # the movie Applications, by wave
        f"{KUBE} -n argocd get applications.argoproj.io -o json",  # then the platform ones
        f"{DEV_VARS} destroy -input=false -auto-approve)",
        f"{STATE} destroy -input=false -auto-approve)",
    ]
    positions = [plan.index(line, plan.index(order[i - 1]) + 1 if i else 0) for i, line in enumerate(order)]
    assert positions == sorted(positions)
    assert plan[-1] == order[-1]


def test_down_keeps_the_state_root_without_the_flag(run, repo, standins, ssm):
    result = dry(run, repo, "down")

    assert result.code == 0
    assert not any(line.startswith(f"{STATE} destroy") for line in result.commands())
    assert result.commands()[-1] == f"{DEV_VARS} destroy -input=false -auto-approve)"


def test_plan_dry_run(run, repo, standins, ssm):
    result = dry(run, repo, "plan", "prod")

    assert result.code == 0
    plans = [line for line in result.commands() if " plan " in line]
    assert plans == [
        f"{STATE} plan -input=false -no-color -detailed-exitcode)",
        f"(cd infrastructure/terraform/envs/prod && TF_VAR_admin_cidr={ADMIN_CIDR} terraform plan "
        "-input=false -no-color -detailed-exitcode)",
    ]
    assert standins.calls() == []


def test_the_installed_cli_dry_runs_up_against_this_checkout():
    """End to end through `python -m cloudctl` (all command modules) and this checkout's real files."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cloudctl",
            "up",
            "--env",
            "dev",
            "--kubeconfig",
            "/k/dev.yaml",
            "--dry-run",
            *INPUTS,
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )

    assert done.returncode == 0, done.stderr
    printed = [line[2:].split("   # ")[0] for line in done.stdout.splitlines() if line.startswith("$ ")]
    assert printed == UP_PLAN
