"""Every call the code makes against the NetworkPolicies, and the evaluator itself."""

from __future__ import annotations

from cloudctl.manifests import netpol
from cloudctl.manifests.contract import network
from cloudctl.manifests.contract.env import Env
from manifest_helpers import ROOT, find


def test_a_missing_network_allow_is_caught(env_objects):
    objects = env_objects("dev")
    objects.remove(find(objects, "NetworkPolicy", "allow-gateway-egress"))
    problems = network.check(Env(ROOT, "dev", objects))
    assert (
        "movies-dev: NetworkPolicy refuses Deployment/api-gateway → inventory:8080 (INVENTORY_URL) "
        "on port 8080/TCP (egress)" in problems
    )
    assert any("api-gateway → billing:8080 (BILLING_URL)" in p for p in problems)


def test_removing_the_dns_allow_is_caught(env_objects):
    objects = env_objects("prod")
    objects.remove(find(objects, "NetworkPolicy", "allow-dns"))
    assert any("→ DNS on port 53/UDP (egress)" in p for p in network.check(Env(ROOT, "prod", objects)))


def test_keda_must_reach_rabbitmq(env_objects):
    objects = env_objects("dev")
    policy = find(objects, "NetworkPolicy", "allow-rabbitmq-ingress").doc
    policy["spec"]["ingress"][0]["from"] = policy["spec"]["ingress"][0]["from"][:1]
    assert any("KEDA operator → rabbitmq:5672" in p for p in network.check(Env(ROOT, "dev", objects)))


def test_the_network_evaluator_follows_kubernetes_semantics():
    web = netpol.Endpoint("ns", {"app": "web"}, {"http": 8080})
    db = netpol.Endpoint("ns", {"app": "db"}, {"pg": 5432})
    deny = {
        "metadata": {"namespace": "ns"},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
    }
    assert netpol.allowed([], web, db, 5432) == (True, "")
    assert netpol.allowed([deny], web, db, 5432) == (False, "egress")
    egress = {
        "metadata": {"namespace": "ns"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "web"}},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"podSelector": {"matchLabels": {"app": "db"}}}], "ports": [{"port": "pg"}]}],
        },
    }
    assert netpol.allowed([deny, egress], web, db, 5432) == (False, "ingress")
    ingress = {
        "metadata": {"namespace": "ns"},
        "spec": {
            "podSelector": {"matchLabels": {"app": "db"}},
            "policyTypes": ["Ingress"],
            "ingress": [{"from": [{"podSelector": {"matchLabels": {"app": "web"}}}]}],
        },
    }
    assert netpol.allowed([deny, egress, ingress], web, db, 5432) == (True, "")
    assert netpol.allowed([deny, egress, ingress], web, db, 5433) == (False, "egress")
    outside = netpol.Endpoint(None)
    to_world = {
        "metadata": {"namespace": "ns"},
        "spec": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"port": 5432}]}],
        },
    }
    assert netpol.allowed([deny, to_world], web, outside, 5432) == (True, "")
    assert netpol.allowed([deny, to_world], web, db, 5432)[0] is False  # ipBlock never matches pods
