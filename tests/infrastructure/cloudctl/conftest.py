"""Fixtures for the bootstrap CLI: a checkout tree, STAND-IN terraform/kubectl binaries, STAND-IN AWS,
a STAND-IN ALB.

Nothing here reaches AWS or a cluster. What is real: the CLI's argument parsing, step order, the argv it
builds (through python-terraform), the files it reads and writes, and the parsing of tool output.
"""

from __future__ import annotations

import json
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cloudctl import cli
from cloudctl.bootstrap import commands
from cloudctl.bootstrap.waits import WaitPolicy
from cloudctl_fakes import (
    BACKEND_FIXTURE,
    ENV_OUTPUTS,
    HERE,
    IMAGES_FIXTURE,
    ROOT_APP_FIXTURE,
    TFVARS_FIXTURE,
    AlbStandIn,
    FakeClock,
    Result,
    Standins,
    StubbedAws,
    kubectl_rules,
    terraform_rules,
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A checkout tree with the files the bootstrap reads (fixture content in the contract's shape)."""
    root = tmp_path / "checkout"
    (root / "infrastructure/terraform/state").mkdir(parents=True)
    for env, multi_az in (("dev", "false"), ("prod", "true")):
        env_root = root / f"infrastructure/terraform/envs/{env}"
        env_root.mkdir(parents=True)
        (env_root / "terraform.tfvars").write_text(TFVARS_FIXTURE.format(env=env, multi_az=multi_az))
        (env_root / "backend.hcl").write_text(BACKEND_FIXTURE.format(env=env))
        (root / f"clusters/{env}/argocd").mkdir(parents=True)
        (root / f"clusters/{env}/argocd/kustomization.yaml").write_text("resources: [install.yaml]\n")
        (root / f"clusters/{env}/root.yaml").write_text(ROOT_APP_FIXTURE.format(env=env))
        (root / f"overlays/{env}/images").mkdir(parents=True)
        (root / f"overlays/{env}/images/kustomization.yaml").write_text(IMAGES_FIXTURE)
    return root


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake keys (never valid anywhere) and no other credential source: no files, no instance metadata."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # dev's preflight asks S3 and ECR whether a build is coming only without a token (test_preflight.py).
    monkeypatch.setenv("GITLAB_TOKEN", "glpat-standin-not-a-token")
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def standins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws_credentials: None) -> Standins:
    home = tmp_path / "standins"
    bin_dir = home / "bin"
    bin_dir.mkdir(parents=True)
    for tool in ("terraform", "kubectl"):
        wrapper = bin_dir / tool
        wrapper.write_text(f'#!/bin/sh\nexec {sys.executable} -S {HERE / "standin_tool.py"} {tool} "$@"\n')
        wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    found = Standins(home=home, bin=bin_dir)
    found.set_rules("terraform", terraform_rules())
    found.set_rules("kubectl", kubectl_rules())
    monkeypatch.setenv("STANDIN_DIR", str(home))
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return found


@pytest.fixture
def alb(standins: Standins) -> Iterator[AlbStandIn]:
    """A STAND-IN ALB on loopback, and the env root's outputs naming it as alb_dns_name."""
    server = AlbStandIn().start()
    outputs = {**ENV_OUTPUTS, "alb_dns_name": {**ENV_OUTPUTS["alb_dns_name"], "value": server.host}}
    standins.prepend(
        "terraform", {"match": ["output", "-json"], "cwd": "envs/dev", "stdout": json.dumps(outputs)}
    )
    yield server
    server.stop()


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch, aws_credentials: None) -> StubbedAws:
    stub = StubbedAws()
    stub.account()  # the preflight's sts get-caller-identity
    monkeypatch.setattr(commands, "aws_factory", lambda: stub)
    return stub


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(
        commands, "wait_policy", WaitPolicy(timeout_s=60, interval_s=15, sleep=fake.sleep, clock=fake.clock)
    )
    return fake


@pytest.fixture
def run(capfd: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch):
    """Run `cloudctl ARGS` in-process through cli.main, with only the bootstrap's commands registered."""
    monkeypatch.setattr(cli, "COMMAND_MODULES", ("cloudctl.bootstrap.commands",))

    def invoke(*argv: str) -> Result:
        capfd.readouterr()
        try:
            code = cli.main(list(argv))
        except SystemExit as exit_:  # argparse rejects the arguments
            code = exit_.code
        out, err = capfd.readouterr()
        return Result(code, out, err)

    return invoke


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # python-terraform 0.10.1 calls the deprecated Logger.warn when a command fails; not ours to fix.
    for item in items:
        if HERE in Path(item.fspath).parents:
            item.add_marker(
                pytest.mark.filterwarnings("ignore:The 'warn' method is deprecated:DeprecationWarning")
            )
