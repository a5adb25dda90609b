"""admin_cidr's checks, run by the real Terraform engine: what an operator passes is refused when
it would reach nobody (a documentation range) or everybody (the whole internet).

The env root's own `variable "admin_cidr"` block, as written in envs/common/variables.tf, is
copied into a root of its own, which needs no provider and no AWS, and planned with each value.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from terraform_engine import TERRAFORM_BIN
from terraform_hcl import TERRAFORM, variable_block

VARIABLES = TERRAFORM / "envs" / "common" / "variables.tf"
NOT_IPV4 = "admin_cidr must be an IPv4 CIDR"
WHOLE_INTERNET = "admin_cidr must not be 0.0.0.0/0 or ::/0"
DOCUMENTATION = "admin_cidr lies in a documentation range"


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("admin-cidr")
    (directory / "main.tf").write_text(variable_block(VARIABLES, "admin_cidr") + "\n")
    return directory


def plan(root: Path, cidr: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(TERRAFORM_BIN), "plan", "-input=false", "-no-color", f"-var=admin_cidr={cidr}"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def errors(result: subprocess.CompletedProcess) -> str:
    """Terraform's error text on one line (it wraps long messages)."""
    return " ".join(result.stderr.replace("│", " ").split())


@pytest.mark.parametrize(
    "cidr",
    [
        "198.18.0.10/32",  # benchmarking space: what the tests pass
        "198.51.101.7/32",  # next to TEST-NET-2, not in it
        "10.20.0.0/16",
        "203.0.112.0/23",  # holds TEST-NET-3 but also addresses that exist
    ],
)
def test_a_real_address_is_accepted(root: Path, cidr: str):
    result = plan(root, cidr)
    assert result.returncode == 0, errors(result)


@pytest.mark.parametrize(
    "cidr, message",
    [
        ("not-a-cidr", NOT_IPV4),
        ("198.18.0.10", NOT_IPV4),  # an address without its prefix length
        ("198.18.0.300/32", NOT_IPV4),
        ("2001:db8::1/128", NOT_IPV4),  # the nodes' security group takes IPv4 only
        ("0.0.0.0/0", WHOLE_INTERNET),
        ("10.0.0.0/0", WHOLE_INTERNET),
        ("::/0", WHOLE_INTERNET),
        ("192.0.2.0/24", DOCUMENTATION),
        ("198.51.100.77/32", DOCUMENTATION),
        ("203.0.113.10/32", DOCUMENTATION),  # the value git used to hold
        ("203.0.113.128/25", DOCUMENTATION),
    ],
)
def test_a_cidr_nobody_or_everybody_comes_from_is_refused(root: Path, cidr: str, message: str):
    result = plan(root, cidr)
    assert result.returncode != 0
    assert message in errors(result), errors(result)


def test_every_refusal_is_one_sentence():
    block = variable_block(VARIABLES, "admin_cidr")
    messages = [
        line.split("=", 1)[1].strip().strip('"') for line in block.splitlines() if "error_message" in line
    ]
    assert len(messages) == 3
    for message in messages:
        assert message.endswith(".") and message.count(". ") == 0, message


def test_without_a_value_the_plan_stops_and_asks_for_it(root: Path):
    result = subprocess.run(
        [str(TERRAFORM_BIN), "plan", "-input=false", "-no-color"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "No value for required variable" in errors(result) and "admin_cidr" in errors(result)
