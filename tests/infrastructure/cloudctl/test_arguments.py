"""Argument handling of up, down, plan, status and cost (argparse errors exit 2 with usage on stderr)."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("command", ["up", "down", "plan", "status", "cost"])
def test_env_is_required(run, command):
    result = run(command)

    assert result.code == 2
    assert "the following arguments are required: --env" in result.err


@pytest.mark.parametrize("command", ["up", "down", "plan", "status", "cost"])
def test_env_must_be_dev_or_prod(run, command):
    result = run(command, "--env", "staging")

    assert result.code == 2
    assert "argument --env: invalid choice: 'staging'" in result.err


def test_from_must_name_a_step(run, repo):
    result = run("up", "--env", "dev", "--repo-root", str(repo), "--from", "argocd")

    assert result.code == 2
    assert "argument --from: invalid choice: 'argocd'" in result.err


def test_down_asks_for_confirmation(run, repo, standins, ssm):
    result = run("down", "--env", "prod", "--repo-root", str(repo))

    assert result.code == 1
    assert (
        result.err
        == "cloudctl down: error: down destroys prod; confirm with --yes (or look first with --dry-run)\n"
    )
    assert standins.calls() == []


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--egress-gb", "-5", "must be >= 0: -5"),
        ("--log-gb", "lots", "not a number: 'lots'"),
    ],
)
def test_cost_rejects_bad_usage_numbers(run, flag, value, message):
    result = run("cost", "--env", "dev", flag, value)

    assert result.code == 2
    assert message in result.err


def test_cost_with_a_missing_price_table_is_one_line(run, repo, tmp_path):
    result = run("cost", "--env", "dev", "--repo-root", str(repo), "--prices", str(tmp_path / "none.json"))

    assert result.code == 1
    assert (
        result.err == f"cloudctl cost: error: cannot read the price table {tmp_path / 'none.json'}: "
        "No such file or directory\n"
    )
