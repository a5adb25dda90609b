"""cloudctl up against STAND-IN terraform/kubectl binaries, STAND-IN AWS (botocore Stubbers) and a
STAND-IN ALB (an HTTP server on loopback, fixture `alb`)."""

from __future__ import annotations

import stat

import pytest
from cloudctl.bootstrap.state_adopt import STATE_RESOURCES
from cloudctl_fakes import (
    ADMIN_CIDR,
    CHILD_APPS,
    INPUTS,
    KUBECONFIG,
    MASTER,
    REPO_URL,
    STATE_BUCKET,
    application,
    applications_json,
)

# The commands `up --env dev` runs, in order: (tool, argv, the folder it runs in).
EXPECTED_UP = [
    ("terraform", ["init", "-input=false", "-no-color"], "infrastructure/terraform/state"),
    ("terraform", ["state", "list"], "infrastructure/terraform/state"),
    ("terraform", ["apply", "-input=false", "-auto-approve"], "infrastructure/terraform/state"),
    ("terraform", ["output", "-json"], "infrastructure/terraform/state"),
    (
        "terraform",
        [
            "init",
            "-input=false",
            "-no-color",
            "-reconfigure",
            "-backend-config=backend.hcl",  # key, region, locking
            f"-backend-config=bucket={STATE_BUCKET}",  # from the state root's output
        ],
        "infrastructure/terraform/envs/dev",
    ),
    ("terraform", ["apply", "-input=false", "-auto-approve"], "infrastructure/terraform/envs/dev"),
    ("terraform", ["output", "-json"], "infrastructure/terraform/envs/dev"),
    ("kubectl", ["get", "--raw", "/readyz"], ""),
    ("kubectl", ["apply", "--server-side", "--force-conflicts", "-k", "clusters/dev/argocd"], ""),
    (
        "kubectl",
        [
            "wait",
            "--for",
            "condition=established",
            "--timeout=120s",
            "crd/applications.argoproj.io",
            "crd/applicationsets.argoproj.io",
            "crd/appprojects.argoproj.io",
        ],
        "",
    ),
    ("kubectl", ["-n", "argocd", "rollout", "status", "deployment/argocd-server", "--timeout=600s"], ""),
    # the cluster Secret, then the root's objects (placeholders filled), both on stdin
    ("kubectl", ["apply", "--server-side", "--force-conflicts", "-f", "-"], ""),
    ("kubectl", ["apply", "--server-side", "--force-conflicts", "-f", "-"], ""),
    ("kubectl", ["-n", "argocd", "get", "applications.argoproj.io", "-o", "json"], ""),
]


def recorded(standins, repo, kubeconfig) -> list[tuple[str, list[str], str]]:
    """The stand-ins' call log as (tool, argv without --kubeconfig, folder relative to the checkout)."""
    calls = []
    for call in standins.calls():
        argv = call["argv"]
        if call["tool"] == "kubectl":
            assert argv[:2] == ["--kubeconfig", str(kubeconfig)]
            argv = argv[2:]
        folder = (
            "" if call["cwd"] == str(repo) else str(__import__("pathlib").Path(call["cwd"]).relative_to(repo))
        )
        calls.append((call["tool"], argv, folder))
    return calls


@pytest.fixture
def kubeconfig(tmp_path):
    return tmp_path / "home" / ".kube" / "cloud-design-dev.yaml"


def up(run, repo, kubeconfig, *extra):
    return run(
        "up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", str(kubeconfig), *INPUTS, *extra
    )


def rerun_line(repo, kubeconfig) -> str:
    return (
        f"cloudctl up --env dev --repo-root {repo} --kubeconfig {kubeconfig} "
        f"--repo-url {REPO_URL} --admin-cidr {ADMIN_CIDR}"
    )


def test_up_runs_every_step_in_order_and_ends_when_the_system_serves(
    run, repo, standins, ssm, clock, kubeconfig, alb
):
    ssm.images_present()
    ssm.not_yet()
    ssm.not_yet()
    ssm.holds()

    result = up(run, repo, kubeconfig)

    assert result.code == 0, result.err
    assert recorded(standins, repo, kubeconfig) == EXPECTED_UP
    ssm.assert_all_used()  # polled until the master published it; every image asked for
    assert clock.sleeps == 2
    assert ssm.regions == ["eu-west-1"]
    assert kubeconfig.read_text() == KUBECONFIG
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert stat.S_IMODE(kubeconfig.parent.stat().st_mode) == 0o700
    assert alb.requests == ["/api/movies"]
    assert f"http://{alb.host}/api/movies answers 200" in result.out
    assert f"application: http://{alb.host}/api/movies" in result.out
    assert f"waiting for the master {MASTER} to publish its kubeconfig" in result.out
    assert "get secret argocd-initial-admin-secret -o jsonpath='{.data.password}' | base64 -d" in result.out
    assert result.err == ""


def test_the_admin_cidr_reaches_terraform_as_tf_var_only_where_the_env_root_needs_it(
    run, repo, standins, ssm, clock, kubeconfig, alb
):
    ssm.images_present()
    ssm.holds()

    assert up(run, repo, kubeconfig).code == 0

    with_var = [
        (call["argv"][0], call["cwd"].rsplit("/", 1)[-1]) for call in standins.calls() if call["tf_vars"]
    ]
    assert with_var == [("apply", "dev")]
    (apply,) = [call for call in standins.calls() if call["tf_vars"]]
    assert apply["tf_vars"] == {"TF_VAR_admin_cidr": ADMIN_CIDR}
    assert not any(ADMIN_CIDR in " ".join(call["argv"]) for call in standins.calls())


def test_up_writes_the_cluster_secret_before_the_root_with_the_placeholders_filled(
    run, repo, standins, ssm, clock, kubeconfig, alb, monkeypatch
):
    monkeypatch.delenv("CLOUDCTL_GIT_USERNAME", raising=False)
    monkeypatch.delenv("CLOUDCTL_GIT_PASSWORD", raising=False)
    ssm.images_present()
    ssm.holds()

    result = up(run, repo, kubeconfig, "--revision", "release-1")

    assert result.code == 0, result.err
    secret, project, appset = standins.applied()
    assert (secret["kind"], secret["metadata"]["namespace"], secret["metadata"]["name"]) == (
        "Secret",
        "argocd",
        "in-cluster",
    )
    assert secret["metadata"]["labels"] == {
        "argocd.argoproj.io/secret-type": "cluster",
        "cloud-design.io/environment": "dev",
    }
    registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
    assert secret["metadata"]["annotations"] == {
        "repo_url": REPO_URL,
        "repo_revision": "release-1",
        "aws_region": "eu-west-1",
        "aws_account_id": "123456789012",  # the preflight's STS answer
        "cluster_name": "cloud-design-dev",
        "ecr_api_gateway": f"{registry}/cloud-design/dev/api-gateway",
        "ecr_billing_app": f"{registry}/cloud-design/dev/billing-app",
        "ecr_inventory_app": f"{registry}/cloud-design/dev/inventory-app",
    }
    assert (project["kind"], project["spec"]["sourceRepos"][0]) == ("AppProject", REPO_URL)
    assert (appset["kind"], appset["metadata"]["name"]) == ("ApplicationSet", "root")
    assert "no credentials to write" in result.out  # public repository: no repository Secret


def test_a_private_repository_gets_a_repository_secret_from_the_environment_only(
    run, repo, standins, ssm, clock, kubeconfig, alb, monkeypatch
):
    monkeypatch.setenv("CLOUDCTL_GIT_USERNAME", "argocd-reader")
    monkeypatch.setenv("CLOUDCTL_GIT_PASSWORD", "glpat-not-a-real-token")
    ssm.images_present()
    ssm.holds()

    result = up(run, repo, kubeconfig)

    assert result.code == 0, result.err
    kinds = [(obj["kind"], obj["metadata"]["name"]) for obj in standins.applied()]
    assert kinds == [
        ("Secret", "in-cluster"),
        ("Secret", "cloud-design-repository"),
        ("AppProject", "platform"),
        ("ApplicationSet", "root"),
    ]
    credentials = standins.applied()[1]
    assert credentials["metadata"]["labels"] == {"argocd.argoproj.io/secret-type": "repository"}
    assert credentials["stringData"] == {
        "type": "git",
        "url": REPO_URL,
        "username": "argocd-reader",
        "password": "glpat-not-a-real-token",
    }
    assert "glpat-not-a-real-token" not in result.out + result.err
    assert not any("glpat-not-a-real-token" in " ".join(call["argv"]) for call in standins.calls())


def test_half_a_set_of_repository_credentials_is_refused_before_anything_runs(
    run, repo, standins, ssm, kubeconfig, monkeypatch
):
    monkeypatch.setenv("CLOUDCTL_GIT_USERNAME", "argocd-reader")
    monkeypatch.delenv("CLOUDCTL_GIT_PASSWORD", raising=False)

    result = up(run, repo, kubeconfig)

    assert result.code == 1
    assert result.err == (
        "cloudctl up: error: CLOUDCTL_GIT_PASSWORD is not set: a private repository needs both "
        "CLOUDCTL_GIT_USERNAME and CLOUDCTL_GIT_PASSWORD\n"
    )
    assert standins.calls() == []


def test_second_up_issues_the_same_convergent_commands(run, repo, standins, ssm, clock, kubeconfig, alb):
    ssm.images_present()
    ssm.holds()
    first = up(run, repo, kubeconfig)
    first_calls = recorded(standins, repo, kubeconfig)
    first_applied = standins.applied()
    standins.reset_log()
    ssm.images_present()
    ssm.holds()
    second = up(run, repo, kubeconfig)

    assert (first.code, second.code) == (0, 0)
    assert recorded(standins, repo, kubeconfig) == first_calls
    assert standins.applied() == first_applied
    kube_writes = [
        argv for tool, argv, _ in first_calls if tool == "kubectl" and argv[0] in ("apply", "create")
    ]
    assert kube_writes and all("--server-side" in argv for argv in kube_writes)  # never `create`
    assert second.out == first.out


def test_a_fresh_machine_imports_the_existing_state_bucket_before_applying(
    run, repo, standins, ssm, clock, kubeconfig, alb
):
    """The state root's local state is missing here, but the bucket exists: import, never 'already exists'."""
    standins.prepend(
        "terraform",
        {
            "match": ["state", "list"],
            "exit": 1,
            "stderr": "No state file was found!\n\nState management commands "
            "require a state file. Run this command in a directory where Terraform has been run or use the "
            "-state "
            "flag to point the command to a specific state location.\n",
        },
    )
    standins.prepend("terraform", {"match": ["import"], "stdout": "Import successful!\n"})
    ssm.bucket(STATE_BUCKET, exists=True)
    ssm.images_present()
    ssm.holds()

    result = up(run, repo, kubeconfig)

    assert result.code == 0, result.err
    ssm.assert_all_used()
    calls = recorded(standins, repo, kubeconfig)
    imports = [argv for tool, argv, _ in calls if argv[0] == "import"]
    assert imports == [["import", "-input=false", address, STATE_BUCKET] for address in STATE_RESOURCES]
    first_apply = next(i for i, (_, argv, _) in enumerate(calls) if argv[0] == "apply")
    assert max(i for i, (_, argv, _) in enumerate(calls) if argv[0] == "import") < first_apply


def test_a_first_run_creates_the_state_bucket_without_imports(
    run, repo, standins, ssm, clock, kubeconfig, alb
):
    standins.prepend(
        "terraform", {"match": ["state", "list"], "exit": 1, "stderr": "No state file was found!\n"}
    )
    ssm.bucket(STATE_BUCKET, exists=False)
    ssm.images_present()
    ssm.holds()

    result = up(run, repo, kubeconfig)

    assert result.code == 0, result.err
    ssm.assert_all_used()
    assert f"{STATE_BUCKET} does not exist yet: the apply creates it" in result.out
    assert not any(argv[0] == "import" for _, argv, _ in recorded(standins, repo, kubeconfig))


def test_a_state_bucket_name_owned_by_someone_else_stops_the_run(run, repo, standins, ssm, clock, kubeconfig):
    standins.prepend(
        "terraform", {"match": ["state", "list"], "exit": 1, "stderr": "No state file was found!\n"}
    )
    ssm.stubbers["s3"].add_client_error("head_bucket", service_error_code="403", http_status_code=403)

    result = up(run, repo, kubeconfig)

    assert result.code == 1
    assert (
        f"step state-adopt failed: cannot use bucket {STATE_BUCKET}: head-bucket answered 403" in result.err
    )
    assert not any(argv[0] == "apply" for _, argv, _ in recorded(standins, repo, kubeconfig))


def test_the_kubeconfig_wait_ignores_terraforms_placeholder_value(
    run, repo, standins, ssm, clock, kubeconfig, alb
):
    ssm.images_present()
    ssm.not_yet()  # Terraform's own description and placeholder, until the master overwrites both
    ssm.holds()

    result = up(run, repo, kubeconfig)

    assert result.code == 0, result.err
    assert kubeconfig.read_text() == KUBECONFIG
    assert clock.sleeps == 1


def test_a_stale_kubeconfig_of_a_replaced_master_is_not_used(
    run, repo, standins, ssm, clock, kubeconfig, alb
):
    """A K3s bump replaced the master: the parameter still holds the old cluster's kubeconfig."""
    ssm.images_present()
    ssm.described("published by i-0000000000000old0")
    ssm.described("published by i-0000000000000old0")
    ssm.holds()  # the new master (Terraform's master_instance_id) published

    result = up(run, repo, kubeconfig)

    assert result.code == 0, result.err
    ssm.assert_all_used()
    assert clock.sleeps == 2
    assert (
        "/cloud-design/dev/kubeconfig was published by i-0000000000000old0, a previous master, "
        f"not by the master {MASTER}; waiting" in result.out
    )
    assert kubeconfig.read_text() == KUBECONFIG
    first_kubectl = next(i for i, call in enumerate(standins.calls()) if call["tool"] == "kubectl")
    assert first_kubectl > 0 and kubeconfig.exists()


def test_a_stale_kubeconfig_times_out_without_touching_the_cluster(
    run, repo, standins, ssm, clock, kubeconfig
):
    ssm.images_present()
    for _ in range(5):
        ssm.described("published by i-0000000000000old0")

    result = up(run, repo, kubeconfig)

    assert result.code == 1
    assert (
        "step kubeconfig failed: gave up waiting for SSM parameter /cloud-design/dev/kubeconfig" in result.err
    )
    assert not kubeconfig.exists()
    assert not any(call["tool"] == "kubectl" for call in standins.calls())


def test_a_failed_step_says_which_and_how_to_resume(run, repo, standins, ssm, clock, kubeconfig):
    standins.prepend(
        "terraform",
        {
            "match": ["apply"],
            "cwd": "envs/dev",
            "exit": 1,
            "stderr": "\nError: creating EC2 Instance: UnauthorizedOperation: You are not authorized\n",
        },
    )

    result = up(run, repo, kubeconfig)

    assert result.code == 1
    *tool_output, last = result.err.splitlines()
    # terraform's own stderr streams through; the CLI adds exactly one line after it.
    assert "Error: creating EC2 Instance: UnauthorizedOperation: You are not authorized" in tool_output
    rerun = rerun_line(repo, kubeconfig)
    assert last == (
        "cloudctl up: error: step env-apply failed: `terraform apply` exited 1 (its output is above); "
        f"every step is idempotent: re-run `{rerun}` or resume with `{rerun} --from env-apply`"
    )
    assert [tool for tool, *_ in recorded(standins, repo, kubeconfig)] == ["terraform"] * 6  # stopped there
    assert not kubeconfig.exists()


def test_a_failed_captured_command_quotes_the_tool_error(run, repo, standins, ssm, clock, kubeconfig):
    standins.prepend(
        "terraform",
        {
            "match": ["output"],
            "cwd": "envs/dev",
            "exit": 1,
            "stderr": "Error: No outputs found\n\nThe state file either has no outputs defined, or all the "
            "defined outputs"
            " are empty.\n",
        },
    )

    result = up(run, repo, kubeconfig)

    assert result.code == 1
    assert result.err.startswith(
        "cloudctl up: error: step env-outputs failed: `terraform output` exited 1: The state file either has "
        "no "
        "outputs defined, or all the defined outputs are empty.; every step is idempotent"
    )
    assert result.err.count("\n") == 1


def test_from_skips_the_changing_steps_before_it_but_reads_what_later_steps_need(
    run, repo, standins, ssm, clock, kubeconfig, alb
):
    ssm.holds()

    result = up(run, repo, kubeconfig, "--from", "argocd-install")

    assert result.code == 0, result.err
    skipped = {"state-adopt", "state-apply", "env-apply", "images", "cluster-api"}
    assert all(f"==> {name}: skipped (--from argocd-install)" in result.out for name in skipped)
    expected = [call for call in EXPECTED_UP if call[1][0] != "apply" or call[0] == "kubectl"]
    expected = [call for call in expected if call[1] not in (["get", "--raw", "/readyz"], ["state", "list"])]
    assert recorded(standins, repo, kubeconfig) == expected
    assert kubeconfig.read_text() == KUBECONFIG
    ssm.assert_all_used()  # no ECR call: the images step was skipped


def test_waits_for_the_api_server_until_it_answers(run, repo, standins, ssm, clock, kubeconfig, alb):
    standins.prepend(
        "kubectl",
        {
            "match": ["/readyz"],
            "exit": 1,
            "times": 3,
            "stderr": "Unable to connect to the server: dial tcp 198.18.0.10:6443: i/o timeout\n",
        },
    )
    ssm.images_present()
    ssm.holds()

    assert up(run, repo, kubeconfig).code == 0
    readyz = [argv for tool, argv, _ in recorded(standins, repo, kubeconfig) if "/readyz" in argv]
    assert len(readyz) == 4
    assert clock.sleeps == 3


def test_gives_up_on_the_kubeconfig_after_the_timeout(run, repo, standins, ssm, clock, kubeconfig):
    ssm.images_present()
    for _ in range(5):  # 60 s timeout, a look every 15 s: looks at 0, 15, 30, 45, 60
        ssm.not_yet()

    result = up(run, repo, kubeconfig)

    assert result.code == 1
    assert result.err.startswith(
        "cloudctl up: error: step kubeconfig failed: gave up waiting for SSM parameter "
        "/cloud-design/dev/kubeconfig "
        "after 60 s; every step is idempotent"
    )
    ssm.assert_all_used()
    assert not kubeconfig.exists()
    assert not any(call["tool"] == "kubectl" for call in standins.calls())


def test_ssm_access_denied_is_one_line_not_a_wait(run, repo, standins, ssm, clock, kubeconfig):
    ssm.images_present()
    ssm.stubber.add_client_error(
        "describe_parameters", service_error_code="AccessDeniedException", http_status_code=400
    )

    result = up(run, repo, kubeconfig)

    assert result.code == 1
    assert "step kubeconfig failed: An error occurred (AccessDeniedException)" in result.err
    assert result.err.count("\n") == 1
    assert clock.sleeps == 0


def test_a_parameter_that_is_no_kubeconfig_is_refused(run, repo, standins, ssm, clock, kubeconfig):
    ssm.images_present()
    ssm.holds("not yet written by cloud-init")

    result = up(run, repo, kubeconfig)

    assert result.code == 1
    assert "SSM parameter /cloud-design/dev/kubeconfig does not hold a kubeconfig" in result.err
    assert not kubeconfig.exists()


def test_a_failed_kubectl_step_names_the_command(run, repo, standins, ssm, clock, kubeconfig):
    standins.prepend(
        "kubectl",
        {
            "match": ["rollout"],
            "exit": 1,
            "stderr": "error: timed out waiting for the condition on deployments/argocd-server\n",
        },
    )
    ssm.images_present()
    ssm.holds()

    result = up(run, repo, kubeconfig)

    assert result.code == 1
    assert (
        "step argocd-server failed: "
        "`kubectl -n argocd rollout status deployment/argocd-server --timeout=600s` exited 1 "
        "(its output is above)" in result.err
    )
    assert "--from argocd-server`" in result.err
    assert standins.applied() == []  # neither the cluster Secret nor the root


# --- up ends only when the system serves ------------------------------------------------------


def test_up_waits_until_every_application_is_synced_and_healthy(
    run, repo, standins, ssm, clock, kubeconfig, alb
):
    """Recorded states of a first sync: no root yet, then the workloads progressing, then converged."""
    progressing = [
        application("root"),
        *CHILD_APPS[:-1],
        application("movies-workloads", "movies", 3, sync="OutOfSync", health="Progressing"),
    ]
    standins.prepend(
        "kubectl",
        {
            "match": ["applications.argoproj.io", "-o", "json"],
            "stdout": applications_json(progressing),
            "times": 1,
        },
    )
    standins.prepend(
        "kubectl",
        {"match": ["applications.argoproj.io", "-o", "json"], "stdout": applications_json([]), "times": 1},
    )
    ssm.images_present()
    ssm.holds()

    result = up(run, repo, kubeconfig)

    assert result.code == 0, result.err
    assert "no Application root yet" in result.out
    assert (
        "8/9 Applications Synced and Healthy; waiting for movies-workloads (OutOfSync/Progressing)"
        in result.out
    )
    assert "9/9 Applications Synced and Healthy" in result.out
    assert clock.sleeps == 2
    assert alb.requests == ["/api/movies"]  # asked only once everything had synced


def test_a_sync_that_never_converges_names_the_first_application_resource_and_message(
    run, repo, standins, ssm, clock, kubeconfig, alb
):
    stuck = [
        application("root"),
        *CHILD_APPS[:5],
        application(
            "movies-secrets",
            "movies",
            1,
            sync="OutOfSync",
            health="Degraded",
            resources=[
                {
                    "kind": "ServiceAccount",
                    "namespace": "movies-dev",
                    "name": "migrations",
                    "status": "Synced",
                },
                {
                    "group": "external-secrets.io",
                    "kind": "ExternalSecret",
                    "namespace": "movies-dev",
                    "name": "rds-master",
                    "status": "Synced",
                    "health": {"status": "Degraded", "message": "could not get secret data from provider"},
                },
            ],
            conditions=[{"type": "SyncError", "message": "Failed sync attempt: one or more objects failed"}],
            operation_message="waiting for healthy state of external-secrets.io/ExternalSecret/rds-master",
        ),
        application("movies-rabbitmq", "movies", 2, sync="OutOfSync", health="Missing"),
        application("movies-workloads", "movies", 3, sync="OutOfSync", health="Missing"),
    ]
    standins.prepend(
        "kubectl", {"match": ["applications.argoproj.io", "-o", "json"], "stdout": applications_json(stuck)}
    )
    ssm.images_present()
    ssm.holds()

    result = up(run, repo, kubeconfig)

    assert result.code == 1
    assert result.err.count("\n") == 1
    assert (
        "step sync failed: gave up waiting for every Application to be Synced and Healthy after 60 s: "
        "first not ready: movies-secrets (wave 1) OutOfSync/Degraded; "
        "resource ExternalSecret movies-dev/rds-master Degraded (could not get secret data from provider); "
        "Argo CD: SyncError: Failed sync attempt: one or more objects failed; "
        "waiting for healthy state of external-secrets.io/ExternalSecret/rds-master; "
        "every step is idempotent" in result.err
    )
    assert "--from sync`" in result.err
    assert alb.requests == []


def test_up_waits_until_the_alb_serves_the_movies(run, repo, standins, ssm, clock, kubeconfig, alb):
    alb.statuses[:] = [503, 502, 200]
    ssm.images_present()
    ssm.holds()

    result = up(run, repo, kubeconfig)

    assert result.code == 0, result.err
    assert alb.requests == ["/api/movies"] * 3
    assert f"http://{alb.host}/api/movies: 503" in result.out
    assert clock.sleeps == 2


def test_an_alb_that_never_serves_fails_the_serve_step(run, repo, standins, ssm, clock, kubeconfig, alb):
    alb.statuses[:] = [503]
    ssm.images_present()
    ssm.holds()

    result = up(run, repo, kubeconfig)

    assert result.code == 1
    assert (
        f"step serve failed: gave up waiting for GET http://{alb.host}/api/movies to answer 200 after 60 s: "
        "last answer: 503; every step is idempotent" in result.err
    )


def test_rerunning_up_after_a_failed_wait_converges_with_the_same_commands(
    run, repo, standins, ssm, clock, kubeconfig, alb
):
    """The ALB was not serving yet when `up` gave up; the re-run repeats every step and ends green."""
    alb.statuses[:] = [503]
    ssm.images_present()
    ssm.holds()
    failed = up(run, repo, kubeconfig)
    assert failed.code == 1 and "step serve failed" in failed.err
    applied = standins.applied()
    standins.reset_log()
    alb.statuses[:] = [200]
    ssm.images_present()
    ssm.holds()

    again = up(run, repo, kubeconfig)

    assert again.code == 0, again.err
    assert recorded(standins, repo, kubeconfig) == EXPECTED_UP
    assert standins.applied() == applied  # the same Secret and root objects, applied server-side again
