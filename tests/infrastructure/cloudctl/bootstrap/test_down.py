"""cloudctl down and status against STAND-IN terraform/kubectl binaries and STAND-IN AWS (botocore
Stubbers); the kubectl stand-in answers recorded `get applications -o json` lists."""

from __future__ import annotations

import json

import pytest
from cloudctl_fakes import (
    ADMIN_CIDR,
    CHILD_APPS,
    CONVERGED,
    KUBECONFIG,
    STATE_BUCKET,
    application,
    applications_json,
)

WAIT = ["--ignore-not-found", "--wait=true", "--timeout=900s"]
LIST = ["-n", "argocd", "get", "applications.argoproj.io", "-o", "json"]


def deleting(kind: str, *names: str) -> list[str]:
    return ["-n", "argocd", "delete", kind, *names, *WAIT]


# Dependency order: the root (ApplicationSet first, else it regenerates the Application), then the
# movie Applications, highest wave first, each gone before the next, while KEDA and ESO still run;
# then the platform ones, highest wave first.
KUBE_DOWN = [
    deleting("applicationsets.argoproj.io", "root"),
    deleting("applications.argoproj.io", "root"),
    LIST,
    deleting("applications.argoproj.io", "movies-workloads"),
    deleting("applications.argoproj.io", "movies-rabbitmq"),
    deleting("applications.argoproj.io", "movies-secrets"),
    LIST,
    deleting("applications.argoproj.io", "argocd-gitlab-webhook"),
    deleting("applications.argoproj.io", "external-secrets", "keda"),
    deleting("applications.argoproj.io", "movies-namespace"),
    deleting("applications.argoproj.io", "argocd"),
]


@pytest.fixture(autouse=True)
def cluster_after_the_root(standins):
    """What Argo CD lists once the root is deleted: every child, then (movies gone) the platform ones."""
    platform = [app for app in CHILD_APPS if app["spec"]["project"] == "platform"]
    standins.prepend("kubectl", {"match": LIST, "stdout": applications_json(platform)})
    standins.prepend("kubectl", {"match": LIST, "stdout": applications_json(CHILD_APPS), "times": 1})


@pytest.fixture
def kubeconfig(tmp_path):
    return tmp_path / "kube" / "dev.yaml"


def down(run, repo, kubeconfig, *extra):
    return run(
        "down",
        "--env",
        "dev",
        "--repo-root",
        str(repo),
        "--kubeconfig",
        str(kubeconfig),
        "--admin-cidr",
        ADMIN_CIDR,
        "--yes",
        *extra,
    )


def summary(standins) -> list[tuple[str, list[str], str]]:
    calls = []
    for call in standins.calls():
        argv = call["argv"][2:] if call["tool"] == "kubectl" else call["argv"]
        calls.append((call["tool"], argv, call["cwd"].rsplit("/", 2)[-1]))
    return calls


def test_down_prunes_the_apps_then_destroys_the_env_and_keeps_the_state_root(
    run, repo, standins, ssm, clock, kubeconfig
):
    ssm.holds()

    result = down(run, repo, kubeconfig)

    assert result.code == 0, result.err
    calls = summary(standins)
    assert [argv for tool, argv, _ in calls if tool == "kubectl"] == KUBE_DOWN
    assert "wave 3: movies-workloads" in result.out and "wave -3: external-secrets keda" in result.out
    terraform = [(argv[0], folder) for tool, argv, folder in calls if tool == "terraform"]
    assert terraform == [
        ("init", "state"),
        ("output", "state"),
        ("init", "dev"),
        ("output", "dev"),
        ("destroy", "dev"),
    ]
    last_kubectl = max(i for i, call in enumerate(calls) if call[0] == "kubectl")
    assert calls[-1][1][0] == "destroy" and last_kubectl < len(calls) - 1  # pruned before destroying
    destroy = standins.calls()[-1]
    assert destroy["tf_vars"] == {"TF_VAR_admin_cidr": ADMIN_CIDR}
    env_init = next(argv for tool, argv, folder in calls if folder == "dev" and argv[0] == "init")
    assert env_init[-2:] == ["-backend-config=backend.hcl", f"-backend-config=bucket={STATE_BUCKET}"]
    assert kubeconfig.read_text() == KUBECONFIG


def test_down_with_include_state_destroys_the_state_root_last(run, repo, standins, ssm, clock, kubeconfig):
    ssm.holds()

    assert down(run, repo, kubeconfig, "--include-state").code == 0

    last = summary(standins)[-1]
    assert last == ("terraform", ["destroy", "-input=false", "-auto-approve"], "state")


def test_down_of_an_env_that_is_gone_converges(run, repo, standins, ssm, clock, kubeconfig):
    """Second down: no outputs, no cluster to prune; terraform destroy still runs (a no-op) and succeeds."""
    standins.prepend("terraform", {"match": ["output", "-json"], "cwd": "envs/dev", "stdout": "{}\n"})

    result = down(run, repo, kubeconfig)

    assert result.code == 0, result.err
    assert "has no outputs: nothing of it is deployed" in result.out
    assert not any(call["tool"] == "kubectl" for call in standins.calls())
    assert summary(standins)[-1][1][0] == "destroy"
    ssm.assert_all_used()  # SSM not even asked


def test_down_when_argocd_is_gone_already(run, repo, standins, ssm, clock, kubeconfig):
    missing = 'error: the server doesn\'t have a resource type "applications"\n'
    standins.prepend("kubectl", {"match": ["applications.argoproj.io"], "exit": 1, "stderr": missing})
    ssm.holds()

    result = down(run, repo, kubeconfig)

    assert result.code == 0, result.err
    assert summary(standins)[-1][1][0] == "destroy"


def test_down_stops_before_destroying_when_the_apps_cannot_be_deleted(
    run, repo, standins, ssm, clock, kubeconfig
):
    forbidden = (
        'Error from server (Forbidden): applications.argoproj.io "root" is forbidden: '
        'User "system:anonymous" '
        "cannot delete resource\n"
    )
    standins.prepend(
        "kubectl", {"match": ["delete", "applications.argoproj.io", "root"], "exit": 1, "stderr": forbidden}
    )
    ssm.holds()

    result = down(run, repo, kubeconfig)

    assert result.code == 1
    assert result.err.startswith(
        "cloudctl down: error: step root-delete failed: cannot delete application root: "
        "Error from server "
        "(Forbidden)"
    )
    assert "--from root-delete`" in result.err and "--yes" in result.err
    assert not any(argv[0] == "destroy" for _, argv, _ in summary(standins))


def test_status_reports_outputs_nodes_and_applications(run, repo, standins, ssm, clock, kubeconfig):
    standins.prepend("kubectl", {"match": LIST, "stdout": applications_json(CONVERGED)})
    ssm.holds()

    result = run("status", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", str(kubeconfig))

    assert result.code == 0, result.err
    assert "dev: cluster cloud-design-dev in eu-west-1" in result.out
    assert (
        "ECR api-gateway: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/cloud-design/dev/api-gateway"
        in result.out
    )
    assert "ip-10-0-0-10 Ready control-plane" in result.out
    assert "      NAME                   WAVE  SYNC    HEALTH   MESSAGE\n" in result.out
    assert "      root                   0     Synced  Healthy\n" in result.out
    assert "      movies-workloads       3     Synced  Healthy\n" in result.out
    assert not any(call["argv"][0] in ("apply", "destroy", "delete") for call in standins.calls())


def test_status_of_an_env_not_deployed_exits_3(run, repo, standins, ssm, clock, kubeconfig):
    standins.prepend("terraform", {"match": ["output", "-json"], "cwd": "envs/dev", "stdout": "{}"})

    result = run("status", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", str(kubeconfig))

    assert result.code == 3
    assert "dev: not deployed" in result.out


def test_status_with_an_unreachable_cluster_says_so_and_exits_3(run, repo, standins, ssm, clock, kubeconfig):
    unreachable = "Unable to connect to the server: dial tcp 203.0.113.10:6443: i/o timeout\n"
    standins.prepend("kubectl", {"match": ["get"], "exit": 1, "stderr": unreachable})
    ssm.holds()

    result = run("status", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", str(kubeconfig))

    assert result.code == 3
    assert f"nodes: unavailable ({unreachable.strip()})" in result.out


@pytest.mark.parametrize(("exit_code", "verdict"), [(0, "no changes"), (2, "changes pending")])
def test_plan_reports_each_root(run, repo, standins, ssm, exit_code, verdict):
    standins.prepend("terraform", {"match": ["plan"], "exit": exit_code, "stdout": "Plan: ...\n"})

    result = run("plan", "--env", "dev", "--repo-root", str(repo), "--admin-cidr", ADMIN_CIDR)

    assert result.code == 0, result.err
    assert f"infrastructure/terraform/state: {verdict}" in result.out
    assert f"infrastructure/terraform/envs/dev: {verdict}" in result.out
    plans = [call["argv"] for call in standins.calls() if call["argv"][0] == "plan"]
    assert plans == [["plan", "-input=false", "-no-color", "-detailed-exitcode"]] * 2


def test_a_failing_plan_is_a_failed_step(run, repo, standins, ssm):
    standins.prepend(
        "terraform",
        {
            "match": ["plan"],
            "cwd": "envs/dev",
            "exit": 1,
            "stderr": "Error: Reference to undeclared input variable\n",
        },
    )

    result = run("plan", "--env", "dev", "--repo-root", str(repo), "--admin-cidr", ADMIN_CIDR)

    assert result.code == 1
    assert "cloudctl plan: error: step env-plan failed: `terraform plan` exited 1" in result.err


def test_state_outputs_without_the_bucket_are_named(run, repo, standins, ssm):
    standins.prepend(
        "terraform",
        {
            "match": ["output", "-json"],
            "cwd": "terraform/state",
            "stdout": json.dumps({"region": {"value": "eu-west-1", "type": "string"}}),
        },
    )

    result = run("plan", "--env", "dev", "--repo-root", str(repo), "--admin-cidr", ADMIN_CIDR)

    assert result.code == 1
    assert (
        "step backend failed: infrastructure/terraform/state lacks the output state_bucket: "
        "was the state root "
        "applied?" in result.err
    )


def test_plan_passes_the_admin_cidr_to_the_env_root_only(run, repo, standins, ssm):
    assert run("plan", "--env", "dev", "--repo-root", str(repo), "--admin-cidr", ADMIN_CIDR).code == 0

    plans = [
        (call["cwd"].rsplit("/", 1)[-1], call["tf_vars"])
        for call in standins.calls()
        if call["argv"][0] == "plan"
    ]
    assert plans == [("state", {}), ("dev", {"TF_VAR_admin_cidr": ADMIN_CIDR})]


@pytest.mark.parametrize("command", ["plan", "down"])
def test_plan_and_down_need_the_admin_cidr(run, repo, standins, ssm, command):
    confirm = {"plan": "--dry-run", "down": "--yes"}[command]

    result = run(command, "--env", "dev", "--repo-root", str(repo), confirm)

    assert result.code == 1
    assert result.err == (
        f"cloudctl {command}: error: --admin-cidr required (as flags, or keys admin_cidr in --config FILE)\n"
    )
    assert standins.calls() == []


def test_status_prints_one_row_per_application_with_argo_cds_message(
    run, repo, standins, ssm, clock, kubeconfig
):
    degraded = application(
        "movies-workloads",
        "movies",
        3,
        sync="Synced",
        health="Degraded",
        resources=[
            {
                "group": "apps",
                "kind": "Deployment",
                "namespace": "movies-dev",
                "name": "api-gateway",
                "status": "Synced",
                "health": {"status": "Degraded", "message": "Deployment has timed out progressing."},
            }
        ],
    )
    apps = [application("root"), *CHILD_APPS[:-1], degraded]
    standins.prepend("kubectl", {"match": LIST, "stdout": applications_json(apps)})
    ssm.holds()

    result = run("status", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", str(kubeconfig))

    assert result.code == 0, result.err
    rows = [line.split() for line in result.out.splitlines() if line.startswith("      ")][2:]
    assert [row[:4] for row in rows if row[0] != "NAME"][-9:] == [
        ["root", "0", "Synced", "Healthy"],
        ["argocd", "-5", "Synced", "Healthy"],
        ["movies-namespace", "-4", "Synced", "Healthy"],
        ["external-secrets", "-3", "Synced", "Healthy"],
        ["keda", "-3", "Synced", "Healthy"],
        ["argocd-gitlab-webhook", "-1", "Synced", "Healthy"],
        ["movies-secrets", "1", "Synced", "Healthy"],
        ["movies-rabbitmq", "2", "Synced", "Healthy"],
        ["movies-workloads", "3", "Synced", "Degraded"],
    ]
    assert (
        "Degraded  Deployment movies-dev/api-gateway Degraded (Deployment has timed out progressing.)"
        in result.out
    )


def test_status_and_down_ignore_a_kubeconfig_a_previous_master_published(
    run, repo, standins, ssm, clock, kubeconfig
):
    ssm.described("published by i-0000000000000old0")

    result = down(run, repo, kubeconfig)

    assert result.code == 0, result.err
    assert "a previous master" in result.out and "no cluster to talk to" in result.out
    assert not any(call["tool"] == "kubectl" for call in standins.calls())
    assert not kubeconfig.exists()


def test_status_before_argo_cd_is_installed_says_so_and_exits_3(run, repo, standins, ssm, clock, kubeconfig):
    missing = 'error: the server doesn\'t have a resource type "applications"\n'
    standins.prepend("kubectl", {"match": LIST, "exit": 1, "stderr": missing})
    ssm.holds()

    result = run("status", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", str(kubeconfig))

    assert result.code == 3
    assert "    applications: Argo CD is not installed\n" in result.out
