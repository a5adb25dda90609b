"""A small NetworkPolicy evaluator: is a connection from one endpoint to another allowed?

Kubernetes semantics: a pod selected by no policy of a direction is open in that direction; once
selected, only what some rule allows passes. Peers are podSelector (policy's namespace),
namespaceSelector (+podSelector) or ipBlock (outside the cluster only).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Endpoint:
    namespace: str | None  # None: outside the cluster
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    ports: dict[str, int] = field(default_factory=dict, hash=False)  # port name -> number
    ip: str = "203.0.113.10"  # outside: an address nothing special (TEST-NET-3)

    def __hash__(self) -> int:
        return hash((self.namespace, tuple(sorted(self.labels.items()))))


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    if selector is None:
        return False
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and labels.get(key) in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _peer_matches(peer: dict[str, Any], policy_ns: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        if other.namespace is not None:
            return False
        block = peer["ipBlock"]
        address = ipaddress.ip_address(other.ip)
        return address in ipaddress.ip_network(block["cidr"]) and not any(
            address in ipaddress.ip_network(cidr) for cidr in block.get("except") or []
        )
    if other.namespace is None:
        return False
    if "namespaceSelector" in peer:
        ns_labels = {"kubernetes.io/metadata.name": other.namespace}
        if not selects(peer["namespaceSelector"], ns_labels):
            return False
    elif other.namespace != policy_ns:
        return False
    return selects(peer.get("podSelector", {}), other.labels)


def _port_matches(
    rule_ports: list[dict[str, Any]] | None, port: int, protocol: str, target: Endpoint
) -> bool:
    if not rule_ports:
        return True
    for item in rule_ports:
        if item.get("protocol", "TCP") != protocol:
            continue
        wanted = item.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            named = target.ports.get(wanted)
            if named is None:
                continue  # a port name the target does not declare matches no port
            wanted = named
        end: int = item.get("endPort", wanted)
        if wanted <= port <= end:
            return True
    return False


def allowed(
    policies: list[dict[str, Any]], src: Endpoint, dst: Endpoint, port: int, protocol: str = "TCP"
) -> tuple[bool, str]:
    """(allowed?, which side refused). Only policies of the endpoints' own namespaces apply."""
    for side, direction, own, other, key in (
        ("egress", "Egress", src, dst, "to"),
        ("ingress", "Ingress", dst, src, "from"),
    ):
        if own.namespace is None:
            continue
        applying = [
            p
            for p in policies
            if p["metadata"].get("namespace") == own.namespace
            and direction in p["spec"].get("policyTypes", ["Ingress"])
            and selects(p["spec"].get("podSelector", {}), own.labels)
        ]
        if not applying:
            continue
        ok = any(
            (
                not rule.get(key)
                or any(_peer_matches(peer, policy["metadata"]["namespace"], other) for peer in rule[key])
            )
            and _port_matches(rule.get("ports"), port, protocol, dst)
            for policy in applying
            for rule in policy["spec"].get(direction.lower()) or []
        )
        if not ok:
            return False, side
    return True, ""
