"""Contract checks between the rendered environments and the real code: the real tree passes, and
each kind of drift is caught with the file and object named."""

from __future__ import annotations

import pytest
from cloudctl.manifests import contract, netpol
from manifest_helpers import ENVS, ROOT, find


@pytest.mark.parametrize("env", ENVS)
def test_the_real_environments_honour_the_contract(env, env_objects):
    assert contract.check(ROOT, env, env_objects(env)) == []


def check(objects, env="dev"):
    return contract.check(ROOT, env, objects)


def test_a_missing_required_variable_is_caught(env_objects):
    objects = env_objects("dev")
    del find(objects, "ConfigMap", "api-gateway").doc["data"]["INVENTORY_URL"]
    assert (
        "base/api-gateway/deployment.yaml: Deployment/api-gateway: container api-gateway: "
        "required INVENTORY_URL is not set" in check(objects)
    )


def test_a_value_the_code_rejects_is_caught(env_objects):
    objects = env_objects("dev")
    find(objects, "ConfigMap", "billing-worker").doc["data"]["WORKER_PREFETCH"] = "many"
    assert any(
        "container billing-worker: WORKER_PREFETCH='many' is rejected by the code" in p
        for p in check(objects)
    )


def test_an_undeclared_variable_is_caught(env_objects):
    objects = env_objects("dev")
    find(objects, "ConfigMap", "inventory").doc["data"]["INVENTORY_DB_URL"] = "x"
    assert any("INVENTORY_DB_URL is set but the code declares no such setting" in p for p in check(objects))


def test_a_secret_no_external_secret_makes_is_caught(env_objects):
    objects = env_objects("dev")
    objects.remove(find(objects, "ExternalSecret", "billing-amqp"))
    problems = check(objects)
    assert any(
        "Deployment/billing-worker: container billing-worker: env AMQP_URL: "
        "billing-amqp/AMQP_URL is not produced" in p
        for p in problems
    )


def test_a_container_port_unlike_the_gunicorn_bind_is_caught(env_objects):
    objects = env_objects("dev")
    container = find(objects, "Deployment", "inventory").doc["spec"]["template"]["spec"]["containers"][0]
    container["ports"][0]["containerPort"] = 9090
    assert any("containerPort http=9090 but the code listens on 8080" in p for p in check(objects))


def test_a_probe_on_a_route_that_does_not_exist_is_caught(env_objects):
    objects = env_objects("dev")
    container = find(objects, "Deployment", "billing").doc["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["httpGet"]["path"] = "/healthz"
    assert any(
        "container billing: probe path /healthz is not a route the code serves" in p for p in check(objects)
    )


def test_a_worker_probe_on_a_missing_path_is_caught(env_objects):
    objects = env_objects("dev")
    container = find(objects, "Deployment", "billing-worker").doc["spec"]["template"]["spec"]["containers"][0]
    container["livenessProbe"]["httpGet"]["path"] = "/alive"
    assert any("container billing-worker: probe path /alive is not a route" in p for p in check(objects))


def test_a_selector_matching_no_pod_is_caught(env_objects):
    objects = env_objects("dev")
    find(objects, "Service", "billing").doc["spec"]["selector"] = {"app.kubernetes.io/name": "biling"}
    assert any(p.startswith("base/billing/service.yaml: Service/billing: selector") for p in check(objects))


def test_a_target_port_naming_no_container_port_is_caught(env_objects):
    objects = env_objects("dev")
    find(objects, "Service", "rabbitmq").doc["spec"]["ports"][0]["targetPort"] = "ampq"
    assert any(
        "Service/rabbitmq: targetPort 'ampq' is not a port of StatefulSet/rabbitmq" in p
        for p in check(objects)
    )


def test_a_moved_node_port_is_caught(env_objects):
    objects = env_objects("dev")
    find(objects, "Service", "api-gateway").doc["spec"]["ports"][0]["nodePort"] = 30500
    assert any("Service/api-gateway: nodePort must be 30000" in p for p in check(objects))


def test_an_autoscaler_of_a_missing_workload_is_caught(env_objects):
    objects = env_objects("dev")
    find(objects, "HorizontalPodAutoscaler", "inventory").doc["spec"]["scaleTargetRef"]["name"] = (
        "inventory-api"
    )
    assert any(
        "HorizontalPodAutoscaler/inventory: scales Deployment/inventory-api, which does not exist" in p
        for p in check(objects)
    )


def test_a_scaled_object_on_another_queue_is_caught(env_objects):
    objects = env_objects("dev")
    find(objects, "ScaledObject", "billing-worker").doc["spec"]["triggers"][0]["metadata"]["queueName"] = (
        "orders"
    )
    assert any(
        "scales on queue 'orders' but the worker consumes 'billing_queue'" in p for p in check(objects)
    )


def test_queue_arguments_unlike_the_code_are_caught(env_objects):
    objects = env_objects("dev")
    es = find(objects, "ExternalSecret", "rabbitmq")
    template = es.doc["spec"]["target"]["template"]["data"]
    template["definitions.json"] = template["definitions.json"].replace(
        '"x-message-ttl": 5000', '"x-message-ttl": 6000'
    )
    assert any(
        "ExternalSecret/rabbitmq: queues" in p and "differ from billing.topology" in p for p in check(objects)
    )


def test_a_missing_network_allow_is_caught(env_objects):
    objects = env_objects("dev")
    objects.remove(find(objects, "NetworkPolicy", "allow-gateway-egress"))
    problems = check(objects)
    assert (
        "movies-dev: NetworkPolicy refuses Deployment/api-gateway → inventory:8080 (INVENTORY_URL) "
        "on port 8080/TCP (egress)" in problems
    )
    assert any("api-gateway → billing:8080 (BILLING_URL)" in p for p in problems)


def test_removing_the_dns_allow_is_caught(env_objects):
    objects = env_objects("prod")
    objects.remove(find(objects, "NetworkPolicy", "allow-dns"))
    assert any("→ DNS on port 53/UDP (egress)" in p for p in check(objects, "prod"))


def test_keda_must_reach_rabbitmq(env_objects):
    objects = env_objects("dev")
    policy = find(objects, "NetworkPolicy", "allow-rabbitmq-ingress").doc
    policy["spec"]["ingress"][0]["from"] = policy["spec"]["ingress"][0]["from"][:1]
    assert any("KEDA operator → rabbitmq:5672" in p for p in check(objects))


def test_an_image_from_another_environment_is_caught(env_objects):
    objects = env_objects("prod")
    container = find(objects, "Deployment", "inventory").doc["spec"]["template"]["spec"]["containers"][0]
    container["image"] = container["image"].replace("/prod/", "/dev/")
    assert any(
        "Deployment/inventory: container inventory: image" in p and "cloud-design/prod/inventory-app" in p
        for p in check(objects, "prod")
    )


def test_a_migration_step_without_its_password_is_caught(env_objects):
    objects = env_objects("dev")
    job = find(objects, "Job", "migrations").doc["spec"]["template"]["spec"]
    step = next(c for c in job["initContainers"] if c["name"] == "provision-inventory")
    step["env"] = [e for e in step["env"] if e["name"] != "ADMIN_DATABASE_URL"]
    assert any(
        "container provision-inventory: required ADMIN_DATABASE_URL is not set" in p for p in check(objects)
    )


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
