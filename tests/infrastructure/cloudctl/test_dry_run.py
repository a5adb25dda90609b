"""--dry-run prints every command in order and runs none (STAND-IN binaries on PATH record any call)."""
from __future__ import annotations

from conftest import STATE_BUCKET

KUBE = "kubectl --kubeconfig /k/dev.yaml"
UP_PLAN = [
    "(cd infrastructure/terraform/state && terraform init -input=false -no-color)",
    "(cd infrastructure/terraform/state && terraform apply -input=false -auto-approve)",
    "(cd infrastructure/terraform/state && terraform output -json)",
    "(cd infrastructure/terraform/envs/dev && terraform init -input=false -no-color -reconfigure "
    "'-backend-config=bucket=<state_bucket output of the state root>' "
    "'-backend-config=region=<region output of the state root>' -backend-config=key=envs/dev/terraform.tfstate)",
    "(cd infrastructure/terraform/envs/dev && terraform apply -input=false -auto-approve)",
    "(cd infrastructure/terraform/envs/dev && terraform output -json)",
    "aws ssm get-parameter --region eu-west-1 --name /cloud-design/dev/kubeconfig --with-decryption > /k/dev.yaml",
    f"{KUBE} get --raw /readyz",
    f"{KUBE} apply --server-side --force-conflicts -k clusters/dev/argocd",
    f"{KUBE} wait --for condition=established --timeout=120s crd/applications.argoproj.io "
    "crd/applicationsets.argoproj.io crd/appprojects.argoproj.io",
    f"{KUBE} -n argocd rollout status deployment/argocd-server --timeout=600s",
    f"{KUBE} apply --server-side --force-conflicts -f clusters/dev/root.yaml",
]


def test_up_dry_run_prints_the_whole_plan_and_runs_nothing(run, repo, standins, ssm):
    result = run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", "--dry-run")

    assert result.code == 0, result.err
    assert result.commands() == UP_PLAN
    assert standins.calls() == []
    assert ssm.regions == []  # SSM not asked either
    assert "preflight: skipped in a dry run" in result.out
    assert "Argo CD UI:  http://<alb_dns_name>/argocd" in result.out


def test_dry_run_needs_no_tools_and_no_credentials(run, repo, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no terraform, no kubectl
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)

    result = run("up", "--env", "prod", "--repo-root", str(repo), "--kubeconfig", "/k/prod.yaml", "--dry-run")

    assert result.code == 0, result.err
    assert "(cd infrastructure/terraform/envs/prod && terraform apply -input=false -auto-approve)" in result.commands()


def test_dry_run_prints_the_same_plan_as_the_real_run_issues(run, repo, standins, ssm, clock):
    """Every command the dry run prints is the one the real run executes, in the same order."""
    dry = run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", "--dry-run")
    ssm.holds()
    real = run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml")

    assert real.code == 0, real.err
    # Only the state root's outputs, unknown before it runs, differ: the real run fills them in.
    filled = [
        line.replace("'-backend-config=bucket=<state_bucket output of the state root>'",
                     f"-backend-config=bucket={STATE_BUCKET}")
        .replace("'-backend-config=region=<region output of the state root>'", "-backend-config=region=eu-west-1")
        for line in dry.commands()
    ]
    assert real.commands() == filled


def test_down_dry_run_deletes_the_apps_before_destroying_and_the_state_root_last(run, repo, standins, ssm):
    result = run("down", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", "--dry-run",
                 "--include-state")

    assert result.code == 0, result.err
    plan = result.commands()
    assert standins.calls() == []
    order = [
        f"{KUBE} -n argocd delete applications.argoproj.io root --ignore-not-found --wait=true --timeout=900s",
        f"{KUBE} -n argocd get applications.argoproj.io -o name",
        "(cd infrastructure/terraform/envs/dev && terraform destroy -input=false -auto-approve)",
        "(cd infrastructure/terraform/state && terraform destroy -input=false -auto-approve)",
    ]
    assert [plan.index(line) for line in order] == sorted(plan.index(line) for line in order)
    assert plan[-1] == order[-1]


def test_down_keeps_the_state_root_without_the_flag(run, repo, standins, ssm):
    result = run("down", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", "/k/dev.yaml", "--dry-run")

    assert result.code == 0
    assert not any("state && terraform destroy" in line for line in result.commands())
    assert result.commands()[-1] == "(cd infrastructure/terraform/envs/dev && terraform destroy -input=false -auto-approve)"


def test_plan_dry_run(run, repo, standins, ssm):
    result = run("plan", "--env", "prod", "--repo-root", str(repo), "--dry-run")

    assert result.code == 0
    plans = [line for line in result.commands() if " plan " in line]
    assert plans == [
        "(cd infrastructure/terraform/state && terraform plan -input=false -no-color -detailed-exitcode)",
        "(cd infrastructure/terraform/envs/prod && terraform plan -input=false -no-color -detailed-exitcode)",
    ]
    assert standins.calls() == []
