"""cloudctl up against STAND-IN terraform/kubectl binaries and a STAND-IN SSM (botocore Stubber)."""

from __future__ import annotations

import stat

import pytest
from cloudctl.bootstrap.state_adopt import STATE_RESOURCES
from cloudctl_fakes import ALB, KUBECONFIG, STATE_BUCKET

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
    ("kubectl", ["apply", "--server-side", "--force-conflicts", "-f", "clusters/dev/root.yaml"], ""),
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
    return run("up", "--env", "dev", "--repo-root", str(repo), "--kubeconfig", str(kubeconfig), *extra)


def test_up_runs_every_step_in_order_and_prints_where_to_go(run, repo, standins, ssm, clock, kubeconfig):
    ssm.not_yet()
    ssm.not_yet()
    ssm.holds()

    result = up(run, repo, kubeconfig)

    assert result.code == 0, result.err
    assert recorded(standins, repo, kubeconfig) == EXPECTED_UP
    ssm.stubber.assert_no_pending_responses()  # polled until the master published it
    assert clock.sleeps == 2
    assert ssm.regions == ["eu-west-1"]
    assert kubeconfig.read_text() == KUBECONFIG
    assert stat.S_IMODE(kubeconfig.stat().st_mode) == 0o600
    assert stat.S_IMODE(kubeconfig.parent.stat().st_mode) == 0o700
    assert f"ALB:         http://{ALB}\n" in result.out
    assert f"application: http://{ALB}/api/movies" in result.out
    assert f"Argo CD UI:  http://{ALB}/argocd" in result.out
    assert "get secret argocd-initial-admin-secret -o jsonpath='{.data.password}' | base64 -d" in result.out
    assert result.err == ""


def test_second_up_issues_the_same_convergent_commands(run, repo, standins, ssm, clock, kubeconfig):
    ssm.holds()
    first = up(run, repo, kubeconfig)
    first_calls = recorded(standins, repo, kubeconfig)
    standins.reset_log()
    ssm.holds()
    second = up(run, repo, kubeconfig)

    assert (first.code, second.code) == (0, 0)
    assert recorded(standins, repo, kubeconfig) == first_calls
    kube_writes = [
        argv for tool, argv, _ in first_calls if tool == "kubectl" and argv[0] in ("apply", "create")
    ]
    assert kube_writes and all("--server-side" in argv for argv in kube_writes)  # never `create`
    assert second.out == first.out


def test_a_fresh_machine_imports_the_existing_state_bucket_before_applying(
    run, repo, standins, ssm, clock, kubeconfig
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
    ssm.holds()

    result = up(run, repo, kubeconfig)

    assert result.code == 0, result.err
    ssm.assert_all_used()
    calls = recorded(standins, repo, kubeconfig)
    imports = [argv for tool, argv, _ in calls if argv[0] == "import"]
    assert imports == [["import", "-input=false", address, STATE_BUCKET] for address in STATE_RESOURCES]
    first_apply = next(i for i, (_, argv, _) in enumerate(calls) if argv[0] == "apply")
    assert max(i for i, (_, argv, _) in enumerate(calls) if argv[0] == "import") < first_apply


def test_a_first_run_creates_the_state_bucket_without_imports(run, repo, standins, ssm, clock, kubeconfig):
    standins.prepend(
        "terraform", {"match": ["state", "list"], "exit": 1, "stderr": "No state file was found!\n"}
    )
    ssm.bucket(STATE_BUCKET, exists=False)
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
    run, repo, standins, ssm, clock, kubeconfig
):
    ssm.holds("pending")  # the value Terraform gives the parameter until the master overwrites it
    ssm.holds()

    result = up(run, repo, kubeconfig)

    assert result.code == 0, result.err
    assert kubeconfig.read_text() == KUBECONFIG
    assert clock.sleeps == 1


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
    rerun = f"cloudctl up --env dev --repo-root {repo} --kubeconfig {kubeconfig}"
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
    run, repo, standins, ssm, clock, kubeconfig
):
    ssm.holds()

    result = up(run, repo, kubeconfig, "--from", "argocd-install")

    assert result.code == 0, result.err
    skipped = {"state-adopt", "state-apply", "env-apply", "cluster-api"}
    assert all(f"==> {name}: skipped (--from argocd-install)" in result.out for name in skipped)
    expected = [call for call in EXPECTED_UP if call[1][0] != "apply" or call[0] == "kubectl"]
    expected = [call for call in expected if call[1] not in (["get", "--raw", "/readyz"], ["state", "list"])]
    assert recorded(standins, repo, kubeconfig) == expected
    assert kubeconfig.read_text() == KUBECONFIG


def test_waits_for_the_api_server_until_it_answers(run, repo, standins, ssm, clock, kubeconfig):
    standins.prepend(
        "kubectl",
        {
            "match": ["/readyz"],
            "exit": 1,
            "times": 3,
            "stderr": "Unable to connect to the server: dial tcp 203.0.113.10:6443: i/o timeout\n",
        },
    )
    ssm.holds()

    assert up(run, repo, kubeconfig).code == 0
    readyz = [argv for tool, argv, _ in recorded(standins, repo, kubeconfig) if "/readyz" in argv]
    assert len(readyz) == 4
    assert clock.sleeps == 3


def test_gives_up_on_the_kubeconfig_after_the_timeout(run, repo, standins, ssm, clock, kubeconfig):
    for _ in range(5):  # 60 s timeout, a look every 15 s: looks at 0, 15, 30, 45, 60
        ssm.not_yet()

    result = up(run, repo, kubeconfig)

    assert result.code == 1
    assert result.err.startswith(
        "cloudctl up: error: step kubeconfig failed: gave up waiting for SSM parameter "
        "/cloud-design/dev/kubeconfig "
        "after 60 s; every step is idempotent"
    )
    ssm.stubber.assert_no_pending_responses()
    assert not kubeconfig.exists()
    assert not any(call["tool"] == "kubectl" for call in standins.calls())


def test_ssm_access_denied_is_one_line_not_a_wait(run, repo, standins, ssm, clock, kubeconfig):
    ssm.stubber.add_client_error(
        "get_parameter", service_error_code="AccessDeniedException", http_status_code=400
    )

    result = up(run, repo, kubeconfig)

    assert result.code == 1
    assert (
        "step kubeconfig failed: SSM get-parameter /cloud-design/dev/kubeconfig failed: AccessDeniedException"
        in result.err
    )
    assert clock.sleeps == 0


def test_a_parameter_that_is_no_kubeconfig_is_refused(run, repo, standins, ssm, clock, kubeconfig):
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
    ssm.holds()

    result = up(run, repo, kubeconfig)

    assert result.code == 1
    assert (
        "step argocd-server failed: "
        "`kubectl -n argocd rollout status deployment/argocd-server --timeout=600s` exited 1 "
        "(its output is above)" in result.err
    )
    assert "--from argocd-server`" in result.err
    assert not any("root.yaml" in call["argv"] for call in standins.calls())
