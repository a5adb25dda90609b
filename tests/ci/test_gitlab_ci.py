""".gitlab-ci.yml: valid against GitLab's schema, thin (every make target and cloudctl command it
calls exists), pinned, loop-free, and free of credentials."""

from __future__ import annotations

import os
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
    targets = {m for line in scripts() for m in re.findall(r"(?:^|&& |; )make ([a-z][a-z0-9-]*)", line)}
    assert {"lint", "validate", "policy-report", "diff", "e2e"} <= targets
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
    for name in ("PYTHON_IMAGE", "TERRAFORM_IMAGE", "BUILDAH_IMAGE", "DIND_IMAGE"):
        image = variables[name]
        assert re.search(r":v?\d+\.\d+\.\d+", image), f"{name}={image} is not an exact version"
    # quay.io rebuilds buildah's plain version tags daily; the -immutable ones never change
    assert re.fullmatch(r"quay\.io/containers/buildah:v\d+\.\d+\.\d+-immutable", variables["BUILDAH_IMAGE"])
    # Debian's skopeo (present-images, promote-prod, promote-mr) and ECR's credential helper (the
    # builds, promote-copy)
    assert re.fullmatch(r"\d+\.\d+\.\d+\+ds1-\d+(\+b\d+)?", variables["SKOPEO_DEBIAN_VERSION"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", variables["ECR_LOGIN_VERSION"])
    assert re.fullmatch(r"[0-9a-f]{64}", variables["ECR_LOGIN_SHA256"])
    for job in ("present-images", "promote-prod", "promote-mr"):
        installs = " ".join(load()[job]["before_script"])
        assert '"skopeo=$SKOPEO_DEBIAN_VERSION"' in installs, job
    # promote-copy's skopeo image: the -immutable tag and its digest
    assert re.fullmatch(
        r"quay\.io/skopeo/stable:v\d+\.\d+\.\d+-immutable@sha256:[0-9a-f]{64}", variables["SKOPEO_IMAGE"]
    )
    assert "kaniko" not in yaml.safe_dump(load()).lower()  # archived upstream: no job uses it any more
    # TERRAFORM_IMAGE runs the release required_version names: test_terraform_versions.py holds them equal.
    for line in PIPELINE.read_text().splitlines():
        assert not re.search(r"image:\s*\S+:latest|image:\s*[a-z./-]+\s*$", line), line


def test_the_bot_commit_cannot_start_a_pipeline_loop():
    rules = load()["workflow"]["rules"]
    assert rules[0] == {"if": "$CI_COMMIT_AUTHOR =~ /^cloud-design-ci-bot /", "when": "never"}
    from cloudctl.delivery import gitlab_api

    assert gitlab_api.BOT_AUTHOR_NAME == "cloud-design-ci-bot" and gitlab_api.SKIP_CI == "[skip ci]"


def build_jobs() -> dict[str, dict]:
    return {
        name: job
        for name, job in load().items()
        if isinstance(job, dict) and job.get("extends") == ".buildah"
    }


def test_one_build_job_per_image_of_the_contract_rebuilt_only_when_its_source_changes():
    """contract.yaml names each image's source folder; a build job's `changes:` must be that
    folder and the shared services/common (rules cannot read a file, so the test holds them equal)."""
    from cloudctl.delivery import builds

    sources = builds.sources(ROOT)
    assert {name: job["variables"] for name, job in build_jobs().items()} == {
        f"build-{source.folder}": {"IMAGE_NAME": source.image} for source in sources
    }
    for source in sources:
        build_all, push = build_jobs()[f"build-{source.folder}"]["rules"]
        assert build_all == load()[".build_rules"]["rules"][0] and "changes" not in build_all
        assert push["changes"] == [f"services/{source.folder}/**/*", "services/common/**/*"]


def test_the_build_jobs_run_buildah_unprivileged_from_the_plan_present_images_writes():
    template = load()[".buildah"]
    assert template["image"] == {"name": "$BUILDAH_IMAGE", "entrypoint": [""]}
    assert template["variables"]["STORAGE_DRIVER"] == "vfs"
    assert template["variables"]["BUILDAH_ISOLATION"] == "chroot"
    assert template["variables"]["AWS_ROLE_ARN"] == "$AWS_ROLE_ARN_DEV"
    script = " ".join(str(line) for line in template["script"])
    assert '. ".build/build-plan/$IMAGE_NAME.env"' in script
    assert "buildah build --layers --cache-from" in script and 'buildah push "$DESTINATION"' in script
    assert "sha256sum --check --strict" in script  # the credential helper download is checked
    # the plan comes from present-images, as an artifact of the job each build job needs
    assert template["needs"] == ["present-images"]
    assert load()["present-images"]["artifacts"]["paths"] == [".build/build-plan/"]
    assert any(
        'present-images --env dev --tag "$CI_COMMIT_SHA" --build-plan .build/build-plan' in line
        for line in load()["present-images"]["script"]
    )


PROMOTION = ("promote-prod", "promote-copy", "promote-mr")


def test_the_promotion_plans_copies_in_the_skopeo_image_then_verifies_and_opens_the_mr():
    jobs = load()
    assert jobs[".promotion"]["variables"]["AWS_ROLE_ARN"] == "$AWS_ROLE_ARN_PROD"
    for name in PROMOTION:  # each the prod role of .promotion, none a role of its own
        assert ".promotion" in jobs[name]["extends"] and "AWS_ROLE_ARN" not in jobs[name].get("variables", {})
    (plan,) = [line for line in jobs["promote-prod"]["script"] if "cloudctl promote" in line]
    assert "--plan-out .build/promotion" in plan and "--open-mr" not in plan and "--copy-images" not in plan
    # the plan is the only artifact: names and digests, never the token file or an auth file
    assert jobs["promote-prod"]["artifacts"]["paths"] == [".build/promotion/"]
    assert "artifacts" not in jobs["promote-copy"] and "artifacts" not in jobs["promote-mr"]
    # the copy: the skopeo image (no Python, so no cloudctl), ECR's credential helper from the
    # build jobs' own install steps (the same YAML anchor, so the same pinned, checked download)
    copy = jobs["promote-copy"]
    assert copy["image"] == {"name": "$SKOPEO_IMAGE", "entrypoint": [""]}
    assert "before_script" not in copy and copy["extends"] == ".promotion"
    install = jobs[".install_ecr_login"]
    assert install in copy["script"] and install in jobs[".buildah"]["script"]
    script = "\n".join(str(line) for line in copy["script"])
    assert "cloudctl" not in script and "skopeo copy --all --preserve-digests" in script
    assert '"credHelpers": {"%s": "ecr-login"}' in script
    (check,) = [line for line in jobs["promote-mr"]["script"] if "cloudctl promote" in line]
    assert "--verify-plan .build/promotion --open-mr" in check
    assert jobs["promote-mr"]["before_script"] == jobs["promote-prod"]["before_script"]


def promotion_chain_problems(table: dict[str, dict]) -> list[str]:
    """What is wrong with the promotion jobs gitlab-ci-local lists for a main pipeline."""
    expected = {
        "promote-prod": {"stage": "promote", "when": "manual", "allow_failure": False, "needs": []},
        "promote-copy": {
            "stage": "promote",
            "when": "on_success",
            "allow_failure": False,
            "needs": ["promote-prod"],
        },
        "promote-mr": {
            "stage": "promote",
            "when": "on_success",
            "allow_failure": False,
            "needs": ["promote-prod", "promote-copy"],
        },
    }
    return [
        f"{name}: {table.get(name)} != {want}" for name, want in expected.items() if table.get(name) != want
    ]


def test_the_promotion_chain_waits_for_the_manual_job(listings):
    """promote-prod is manual and blocking (allow_failure false), promote-copy needs it, promote-mr
    needs both: GitLab starts neither before someone runs promote-prod and it succeeds. gitlab-ci-local
    shows the jobs, their when, allow_failure and needs; the waiting itself is GitLab's."""
    assert promotion_chain_problems(listings["push docs"]) == []
    assert promotion_chain_problems(listings["web"]) == []
    for name in ("schedule BUILD_ALL", "MR services", "api BUILD_ALL on another branch"):
        assert not set(PROMOTION) & set(listings[name]), name


def test_a_promotion_chain_that_would_not_wait_is_caught(tmp_path):
    """The check above fails on a pipeline whose manual job is not blocking and whose copy does not
    need it."""
    import gitlab_ci_local

    text = PIPELINE.read_text()
    manual = "      when: manual\n      allow_failure: "
    broken = text.replace(manual + "false", manual + "true")
    broken = broken.replace("  needs: [promote-prod]  #", "  needs: []  #")
    assert broken.count("allow_failure: true") == text.count("allow_failure: true") + 1
    base = gitlab_ci_local.base_repository(tmp_path / "origin", broken)
    clone = gitlab_ci_local.pipeline_clone(base, tmp_path / "p", ["docs/x.md"])
    problems = promotion_chain_problems(gitlab_ci_local.listing(clone, PUSH))
    assert [problem.split(":")[0] for problem in problems] == ["promote-prod", "promote-copy"]


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


# --- PostgreSQL and RabbitMQ: service containers for `test`, servers of its own for `test-outages` ---
SERVER_CONTROL = "server_control"


def make_dry_run(*args: str) -> str:
    """The recipe lines `make -n` prints, also when this test itself runs under make (make test-ci)."""
    outer = ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PYTEST_ARGS")
    env = {key: value for key, value in os.environ.items() if key not in outer}
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert dry.returncode == 0, dry.stderr
    return dry.stdout


def mark_expression(command: str) -> str:
    """The argument of the last -m in a shell command line (quoted or not)."""
    found = re.findall(r"""-m (?:"([^"]+)"|'([^']+)'|(\S+))""", command)
    assert found, f"no -m in {command!r}"
    return next(group for group in found[-1] if group)


def services() -> dict[str, dict]:
    return {service["alias"]: service for service in load()["test"]["services"]}


def test_the_test_job_gets_postgres_and_rabbitmq_as_services_pinned_to_what_production_runs():
    postgres, rabbitmq = services()["postgres"]["name"], services()["rabbitmq"]["name"]
    for image in (postgres, rabbitmq):
        assert re.fullmatch(r"[a-z]+:\d+\.\d+(\.\d+)?(-[a-z]+)?", image), f"{image} is not an exact version"
        assert not image.endswith(":latest")
    # postgres:<major>.<minor>-<debian>: the major RDS runs (modules/database), Debian as the python image
    database = (ROOT / "infrastructure/terraform/modules/database/variables.tf").read_text()
    major = re.search(r'variable "engine_major_version"\s*{[^}]*default\s*=\s*"(\d+)"', database).group(1)
    assert re.fullmatch(rf"postgres:{major}\.\d+-bookworm", postgres)
    assert "bookworm" in load()["variables"]["PYTHON_IMAGE"]
    # rabbitmq:<the cluster broker's version>, without the management plugin the tests do not use
    statefulset = (ROOT / "base/rabbitmq/statefulset.yaml").read_text()
    cluster = re.search(r"image: rabbitmq:(\d+\.\d+\.\d+)-management", statefulset).group(1)
    assert rabbitmq == f"rabbitmq:{cluster}"


def test_the_tests_reach_the_services_through_the_variables_devtools_local_reads():
    job = load()["test"]
    assert job["variables"]["PGHOST"] == "postgres" and "PGPORT" not in job["variables"]
    amqp = job["variables"]["AMQP_URL"]
    assert re.fullmatch(r"amqp://guest:guest@rabbitmq:5672/%2F", amqp)
    # what the tests and the services they start get (servicekit takes every URL from devtools.local)
    shown = subprocess.run(
        [
            sys.executable,
            "-c",
            "from devtools import local; print(local.PG_ADMIN_URL, local.database_url('x'), local.AMQP_URL)",
        ],
        cwd=ROOT / "services",
        env={"PATH": "/usr/bin:/bin", "PGHOST": "postgres", "AMQP_URL": amqp},
        capture_output=True,
        text=True,
        check=True,
    )
    assert shown.stdout.split() == [
        "postgresql://postgres@postgres:5432/postgres",
        "postgresql://x@postgres:5432/x",
        amqp,
    ]
    # throw-away containers: trust and guest from the network, no password invented (see the comment)
    assert services()["postgres"]["variables"] == {"POSTGRES_HOST_AUTH_METHOD": "trust"}
    rabbit = services()["rabbitmq"]["variables"]
    assert rabbit["RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS"] == "-rabbit loopback_users []"
    assert rabbit["HEALTHCHECK_TCP_PORT"] == "5672"
    # nothing installs or starts a server in this job any more
    assert "before_script" not in job
    assert not [
        line for line in job["script"] if re.search(r"postgresql|rabbitmq|ensure-services|\.ci/run", line)
    ]


def test_the_test_job_deselects_exactly_what_the_outage_job_selects():
    (test_call,) = [line for line in load()["test"]["script"] if line.startswith("make ")]
    assert re.fullmatch(r"make test PYTEST_ARGS='-m \"not server_control\"'", test_call)
    assert "make test-server-control" in load()["test-outages"]["script"]
    args = test_call.split("PYTEST_ARGS=", 1)[1].strip("'")
    outage = mark_expression(make_dry_run("test-server-control"))
    assert outage == SERVER_CONTROL and mark_expression(args) == f"not {outage}"
    # every pytest call of `make test` carries the arguments, and the outage target collects all of tests/
    pytest_lines = [
        line for line in make_dry_run("test", f"PYTEST_ARGS={args}").splitlines() if "pytest" in line
    ]
    assert len(pytest_lines) == 5 and all(args in line for line in pytest_lines)
    assert make_dry_run("test-server-control").rstrip().endswith(f"-m {SERVER_CONTROL} tests")


def test_no_make_fragment_calls_pytest_around_pytest_args():
    makefile = (ROOT / "Makefile").read_text()
    assert "PYTEST = $(BIN)/pytest $(PYTEST_ARGS)" in makefile
    for path in [ROOT / "Makefile", *sorted((ROOT / "mk").glob("*.mk"))]:
        for line in path.read_text().splitlines():
            assert "$(BIN)/pytest" not in line or line.startswith("PYTEST ="), f"{path.name}: {line}"


def test_the_outage_job_owns_its_servers_and_runs_only_the_server_control_tests():
    job = load()["test-outages"]
    assert job["stage"] == load()["test"]["stage"] and "services" not in job
    assert job["extends"] == load()["test"]["extends"]
    installs = " ".join(job["before_script"])
    assert "postgresql-15" in installs and "rabbitmq-server" in installs
    assert job["script"] == [".ci/ensure-services", "make test-server-control"]
    assert "variables" not in job  # 127.0.0.1, the default: servers pg_ctlcluster and rabbitmqctl control
    assert {"job": "test-outages", "optional": True} in load()["deploy-dev"][
        "needs"
    ]  # see the push pipeline test


def test_the_server_control_selection_is_the_disruptive_tests_and_the_rabbitmqctl_test():
    collected = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-p",
            "no:cacheprovider",
            "-m",
            SERVER_CONTROL,
            "tests",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert collected.returncode == 0, collected.stdout[-2000:] + collected.stderr
    files = {line.split("::")[0] for line in collected.stdout.splitlines() if "::" in line}
    assert files == {
        "tests/services/billing/test_billing_outages.py",
        "tests/infrastructure/cloudctl/manifests/test_rabbitmq_boot_definitions.py",
    }


def test_every_marker_the_pipeline_and_the_make_targets_select_is_registered_and_enforced():
    import tomllib

    pytest_options = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert "--strict-markers" in pytest_options["addopts"]
    registered = {line.split(":")[0].split("(")[0] for line in pytest_options["markers"]}
    expressions = [mark_expression(make_dry_run("test-server-control"))]
    expressions += [mark_expression(line) for line in scripts() if " -m " in line]
    used = {word for expression in expressions for word in re.findall(r"\w+", expression)} - {
        "and",
        "or",
        "not",
    }
    assert used == {SERVER_CONTROL} and used <= registered


# --- which jobs a pipeline runs: rules evaluated by gitlab-ci-local, as GitLab evaluates them ---
BUILDS = {"build-api-gateway", "build-inventory", "build-billing"}
CHECKS = {"lint", "test", "test-outages", "validate", "checkov"}
DELIVERY = BUILDS | {"present-images", "deploy-dev"}
PUSH = {"CI_PIPELINE_SOURCE": "push"}
MR = {"CI_PIPELINE_SOURCE": "merge_request_event"}
E2E_TREES = ["base", "overlays", "apps", "clusters", "services"]
PIPELINES = {
    "push api-gateway": (["services/api-gateway/app.py"], PUSH, "main"),
    "push common": (["services/common/db.py"], PUSH, "main"),
    "push docs": (["docs/delivery.md"], PUSH, "main"),
    "push api-gateway, BUILD_ALL set as a project variable": (
        ["services/api-gateway/app.py"],
        {**PUSH, "BUILD_ALL": "true"},
        "main",
    ),
    "api BUILD_ALL": ([], {"CI_PIPELINE_SOURCE": "api", "BUILD_ALL": "true"}, "main"),
    "schedule BUILD_ALL": ([], {"CI_PIPELINE_SOURCE": "schedule", "BUILD_ALL": "true"}, "main"),
    "web": ([], {"CI_PIPELINE_SOURCE": "web"}, "main"),
    "api BUILD_ALL on another branch": (
        [],
        {"CI_PIPELINE_SOURCE": "api", "BUILD_ALL": "true", "CI_COMMIT_BRANCH": "feature"},
        "feature",
    ),
    "MR services": (["services/billing/app.py"], MR, "feature"),
    "MR clusters": (["clusters/ci/root.yaml"], MR, "feature"),
    "MR docs and terraform": (["docs/x.md", "infrastructure/terraform/envs/dev/main.tf"], MR, "feature"),
}


@pytest.fixture(scope="module")
def listings(tmp_path_factory) -> dict[str, dict[str, dict]]:
    """Each pipeline of PIPELINES -> the jobs it creates, with their when, allow_failure and needs
    (gitlab-ci-local, four at a time)."""
    from concurrent.futures import ThreadPoolExecutor

    import gitlab_ci_local

    gitlab_ci_local.binary()
    folder = tmp_path_factory.mktemp("pipelines")
    base = gitlab_ci_local.base_repository(folder / "origin")

    def listed(item):
        index, (name, (changed, variables, branch)) = item
        clone = gitlab_ci_local.pipeline_clone(base, folder / f"p{index}", changed, branch)
        return name, gitlab_ci_local.listing(clone, variables)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(pool.map(listed, enumerate(PIPELINES.items())))


@pytest.fixture(scope="module")
def pipelines(listings) -> dict[str, set[str]]:
    """Each pipeline of PIPELINES -> the names of the jobs it creates."""
    return {name: set(table) for name, table in listings.items()}


def test_a_push_builds_only_the_services_it_changed(pipelines):
    assert pipelines["push api-gateway"] & DELIVERY == {"build-api-gateway", "present-images", "deploy-dev"}
    assert pipelines["push common"] & DELIVERY == DELIVERY  # services/common is in every image
    assert pipelines["push docs"] & DELIVERY == set()
    # BUILD_ALL counts only where someone asks for a build: a push still builds what it changed.
    assert pipelines["push api-gateway, BUILD_ALL set as a project variable"] == pipelines["push api-gateway"]
    # and the dev tag commit waits for every check a push pipeline runs (optional needs must be there)
    assert CHECKS <= pipelines["push api-gateway"]


def test_build_all_builds_every_service_and_commits_devs_tags(pipelines):
    for source in ("api", "schedule"):
        assert DELIVERY <= pipelines[f"{source} BUILD_ALL"], source
    assert CHECKS <= pipelines["api BUILD_ALL"]  # a manual or API run on main is checked as a push is
    assert not CHECKS & pipelines["schedule BUILD_ALL"]
    assert not DELIVERY & pipelines["web"]  # without BUILD_ALL a manual pipeline builds nothing
    # only the default branch's commits become dev's tags, and a merge request never builds or promotes
    assert not DELIVERY & pipelines["api BUILD_ALL on another branch"]
    for name in ("MR services", "MR clusters", "MR docs and terraform"):
        assert not (DELIVERY | set(PROMOTION)) & pipelines[name], name
    assert set(PROMOTION) <= pipelines["push docs"]  # on every main pipeline but schedules


def test_deploy_dev_needs_every_check_and_build_job_of_the_pipeline():
    needs = {need["job"]: need.get("optional", False) for need in load()["deploy-dev"]["needs"]}
    assert set(needs) == CHECKS | BUILDS and all(needs.values())
    assert set(build_jobs()) == BUILDS


def test_e2e_runs_on_merge_requests_that_change_what_it_deploys(pipelines):
    assert "e2e" in pipelines["MR services"] and "e2e" in pipelines["MR clusters"]
    (rule,) = load()["e2e"]["rules"]
    assert rule["changes"] == [f"{tree}/**/*" for tree in E2E_TREES]  # the other trees: the same glob


def test_e2e_does_not_run_for_other_changes_nor_outside_merge_requests(pipelines):
    assert "e2e" not in pipelines["MR docs and terraform"]
    assert "terraform-validate: [envs/dev]" in pipelines["MR docs and terraform"]  # the MR pipeline did run
    assert "e2e" not in pipelines["push api-gateway"]


def test_e2e_job_pins_its_engine_and_calls_make_e2e():
    job = load()["e2e"]
    assert job["script"][-1] == "make e2e"
    (service,) = job["services"]
    assert service["name"] == "$DIND_IMAGE" and service["alias"] == "docker"
    assert re.fullmatch(r"docker:\d+\.\d+\.\d+-dind", load()["variables"]["DIND_IMAGE"])
    assert (
        job["variables"]["DOCKER_HOST"] == "tcp://docker:2375"
        and service["variables"]["DOCKER_TLS_CERTDIR"] == ""
    )
    assert "e2e/install-k3d /usr/local/bin" in job["before_script"]
    # Argo CD syncs the merge request's commit, cloned with the job's token (names run.py reads)
    run_py = (ROOT / "e2e/run.py").read_text()
    assert job["variables"]["E2E_REVISION"] == "$CI_COMMIT_SHA" and '"E2E_REVISION"' in run_py
    assert job["variables"]["E2E_REPO_URL"] == "$CI_PROJECT_URL.git" and '"E2E_REPO_URL"' in run_py
    from cloudctl.bootstrap.inputs import GIT_PASSWORD, GIT_USERNAME

    assert f'export {GIT_USERNAME}=gitlab-ci-token {GIT_PASSWORD}="$CI_JOB_TOKEN"' in job["script"]
    assert (ROOT / "e2e/install-k3d").stat().st_mode & 0o111


@pytest.mark.parametrize("job", ["terraform-plan", "terraform-drift"])
def test_terraform_plans_read_admin_cidr_back_from_the_state(job, tmp_path):
    """admin_cidr is in no file of git: the plan jobs take the applied value from the output.
    `terraform` here is a stand-in script answering `output -raw admin_cidr`, then failing."""
    steps = load()[".admin_cidr_from_state"]
    assert all(step in load()[job]["script"] for step in [steps])  # the job uses the anchor
    fake = tmp_path / "terraform"
    script = "\n".join(steps) + '\necho "admin_cidr=$TF_VAR_admin_cidr"\n'
    for answer, code, expected in (
        ("echo 198.18.0.10/32", 0, "admin_cidr=198.18.0.10/32"),
        ('echo "No outputs found" >&2; exit 1', 1, "dev has no admin_cidr output yet, deploy it first"),
    ):
        fake.write_text(f"#!/bin/sh\n{answer}\n")
        fake.chmod(0o755)
        done = subprocess.run(
            ["bash", "-c", script],
            env={**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}", "ENV": "dev"},
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == code
        assert expected in done.stdout + done.stderr
