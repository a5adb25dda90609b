"""The broker's boot definitions against the queues the worker's code declares."""

from __future__ import annotations

from cloudctl.manifests.contract import rabbitmq
from cloudctl.manifests.contract.env import Env
from contract_helpers import contract_root
from manifest_helpers import ROOT, find


def test_queue_arguments_unlike_the_code_are_caught(env_objects):
    objects = env_objects("dev")
    es = find(objects, "ExternalSecret", "rabbitmq")
    template = es.doc["spec"]["target"]["template"]["data"]
    template["definitions.json"] = template["definitions.json"].replace(
        '"x-message-ttl": 5000', '"x-message-ttl": 6000'
    )
    assert any(
        "ExternalSecret/rabbitmq: queues" in p and "differ from billing.topology" in p
        for p in rabbitmq.check(Env(ROOT, "dev", objects))
    )


def test_definitions_on_another_vhost_are_caught(env_objects):
    objects = env_objects("dev")
    template = find(objects, "ExternalSecret", "rabbitmq").doc["spec"]["target"]["template"]["data"]
    template["definitions.json"] = template["definitions.json"].replace(
        '"vhost": "movies"', '"vhost": "shop"'
    )
    assert any(
        "every queue must be durable and on vhost 'movies' (Deployment/billing-worker's AMQP URL)" in p
        for p in rabbitmq.check(Env(ROOT, "dev", objects))
    )


def test_no_queues_to_compare_with_is_caught(env_objects, tmp_path):
    root = contract_root(tmp_path, lambda d: d["workloads"]["billing-worker"].pop("topology"))
    assert rabbitmq.check(Env(root, "dev", env_objects("dev"))) == [
        "base/secrets/rabbitmq.yaml: ExternalSecret/rabbitmq: no process here declares queues "
        "(contract.yaml: topology) to compare with"
    ]
