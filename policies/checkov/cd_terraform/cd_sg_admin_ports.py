"""CKV_CD_TF_1: no security group opens SSH (22) or the Kubernetes API (6443) to the internet
(0.0.0.0/0 or ::/0), whether by an inline ingress block, an aws_security_group_rule or an
aws_vpc_security_group_ingress_rule. Protocol "-1" (all) counts as opening every port."""

from __future__ import annotations

from typing import Any

from checkov.common.models.enums import CheckCategories, CheckResult
from checkov.terraform.checks.resource.base_resource_check import BaseResourceCheck

ADMIN_PORTS = (22, 6443)
WORLD = {"0.0.0.0/0", "::/0"}


def _first(value: Any) -> Any:
    """checkov wraps every HCL attribute value in a list."""
    return value[0] if isinstance(value, list) and len(value) == 1 else value


def _flat(value: Any) -> list[Any]:
    value = _first(value)
    if isinstance(value, list):
        return [item for inner in value for item in _flat(inner)]
    return [] if value is None else [value]


def _port(value: Any) -> int | None:
    try:
        return int(_first(value))
    except (TypeError, ValueError):
        return None  # an unresolved variable: judged by the caller


def opens_admin_port(rule: dict[str, Any], cidr_keys: tuple[str, ...]) -> bool:
    cidrs = {str(c) for key in cidr_keys for c in _flat(rule.get(key))}
    if not cidrs & WORLD:
        return False
    if str(_first(rule.get("protocol", rule.get("ip_protocol")))) in ("-1", "all"):
        return True
    low, high = _port(rule.get("from_port")), _port(rule.get("to_port"))
    if low is None or high is None:
        return True  # open to the world on ports nobody can read here: treat as open
    return any(low <= port <= high for port in ADMIN_PORTS)


class NoAdminPortsToTheWorld(BaseResourceCheck):
    def __init__(self) -> None:
        super().__init__(
            name="No security group opens 22 or 6443 to 0.0.0.0/0 or ::/0",
            id="CKV_CD_TF_1",
            categories=[CheckCategories.NETWORKING],
            supported_resources=(
                "aws_security_group",
                "aws_security_group_rule",
                "aws_vpc_security_group_ingress_rule",
            ),
        )

    def scan_resource_conf(self, conf: dict[str, list[Any]]) -> CheckResult:
        if self.entity_type == "aws_security_group":
            for index, block in enumerate(_flat(conf.get("ingress"))):
                if isinstance(block, dict) and opens_admin_port(block, ("cidr_blocks", "ipv6_cidr_blocks")):
                    self.evaluated_keys = [f"ingress/[{index}]"]
                    return CheckResult.FAILED
            return CheckResult.PASSED
        if self.entity_type == "aws_security_group_rule":
            if str(_first(conf.get("type"))) != "ingress":
                return CheckResult.PASSED
            cidr_keys: tuple[str, ...] = ("cidr_blocks", "ipv6_cidr_blocks")
        else:
            cidr_keys = ("cidr_ipv4", "cidr_ipv6")
        self.evaluated_keys = [*cidr_keys, "from_port", "to_port"]
        return CheckResult.FAILED if opens_admin_port(conf, cidr_keys) else CheckResult.PASSED


check = NoAdminPortsToTheWorld()
