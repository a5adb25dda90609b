"""Every call the code makes (and the load balancer's, and KEDA's) passes the NetworkPolicies."""

from __future__ import annotations

from urllib.parse import urlsplit

from cloudctl.manifests import netpol
from cloudctl.manifests.contract.env import Env
from cloudctl.manifests.policy import containers
from cloudctl.manifests.render import Obj

DNS = netpol.Endpoint("kube-system", {"k8s-app": "kube-dns"})
KEDA_OPERATOR = netpol.Endpoint("keda", {"app.kubernetes.io/name": "keda-operator"})
# A value with one of these schemes is a connection the process opens (the services' URL settings).
DEFAULT_PORTS = {"http": 80, "https": 443, "postgresql": 5432, "postgres": 5432, "amqp": 5672, "amqps": 5671}

Call = tuple[str, netpol.Endpoint, netpol.Endpoint, int, str]  # description, from, to, port, protocol


def _targets(
    env: Env, pods: list[tuple[Obj, netpol.Endpoint]], host: str, port: int
) -> list[tuple[netpol.Endpoint, int]]:
    """Where a connection to host:port lands: a Service of this namespace, or outside the cluster."""
    services = {s.name: s for s in env.of_kind("Service")}
    for suffix in (f".{env.namespace}.svc.cluster.local", f".{env.namespace}.svc", f".{env.namespace}"):
        host = host.removesuffix(suffix)
    svc = services.get(host)
    if svc is None or svc.doc["spec"].get("type") == "ExternalName":
        return [(netpol.Endpoint(None), port)]
    out = []
    for item in svc.doc["spec"].get("ports") or []:
        if item["port"] == port:
            for _, endpoint in pods:
                if netpol.selects({"matchLabels": svc.doc["spec"].get("selector") or {}}, endpoint.labels):
                    target = item.get("targetPort", port)
                    number = endpoint.ports.get(target) if isinstance(target, str) else target
                    if number is not None:  # an unknown port name is reported by the wiring check
                        out.append((endpoint, number))
    return out


def calls(env: Env) -> list[Call]:
    """(description, source, destination, port, protocol) for every connection made."""
    pods = env.pods()
    external = netpol.Endpoint(None)
    found: list[Call] = []
    for obj, endpoint in pods:
        found.append((f"{obj.label()} → DNS", endpoint, DNS, 53, "UDP"))
        for container in containers(obj):
            container_env, _ = env.container_env(obj, container)
            for var, value in sorted(container_env.items()):
                url = urlsplit(value)
                if url.scheme not in DEFAULT_PORTS or not url.hostname:
                    continue
                port = url.port or DEFAULT_PORTS[url.scheme]
                targets = _targets(env, pods, url.hostname, port)
                if not targets:
                    found.append(
                        (
                            f"{obj.label()} → {url.hostname}:{port} ({var}): no such Service port",
                            endpoint,
                            external,
                            -1,
                            "TCP",
                        )
                    )
                for dst, dst_port in targets:
                    found.append(
                        (f"{obj.label()} → {url.hostname}:{port} ({var})", endpoint, dst, dst_port, "TCP")
                    )
    for svc in env.of_kind("Service"):
        if svc.doc["spec"].get("type") == "NodePort":
            for item in svc.doc["spec"]["ports"]:
                for dst, dst_port in _targets(env, pods, svc.name, item["port"]):
                    found.append(
                        (
                            f"load balancer → NodePort {item.get('nodePort')} ({svc.name})",
                            external,
                            dst,
                            dst_port,
                            "TCP",
                        )
                    )
    for so in env.of_kind("ScaledObject"):
        for trigger in so.doc["spec"].get("triggers") or []:
            if trigger["type"] == "rabbitmq":
                for dst, dst_port in _targets(env, pods, "rabbitmq", DEFAULT_PORTS["amqp"]):
                    found.append(
                        (f"KEDA operator → rabbitmq:5672 ({so.label()})", KEDA_OPERATOR, dst, dst_port, "TCP")
                    )
    return found


def check(env: Env) -> list[str]:
    problems = []
    for description, src, dst, port, protocol in calls(env):
        if port < 0:
            problems.append(f"{env.namespace}: {description}")
            continue
        ok, side = netpol.allowed(env.policies, src, dst, port, protocol)
        if not ok:
            problems.append(
                f"{env.namespace}: NetworkPolicy refuses {description} on port {port}/{protocol} ({side})"
            )
    return problems
