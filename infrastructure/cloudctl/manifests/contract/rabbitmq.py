"""The broker's boot definitions declare exactly the queues the code declares, on its AMQP_URL's vhost."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

from cloudctl.manifests import esotemplate
from cloudctl.manifests.contract.env import Env


def check(env: Env) -> list[str]:
    es = next((o for o in env.of_kind("ExternalSecret") if esotemplate.secret_name(o) == "rabbitmq"), None)
    if es is None:
        return [f"{env.namespace}: no ExternalSecret makes the `rabbitmq` Secret (definitions.json)"]
    try:
        definitions = json.loads(env.secrets["rabbitmq"]["definitions.json"])
    except (KeyError, ValueError) as exc:
        return [f"{es.where()}: definitions.json does not render to JSON: {exc}"]
    declaring = [(p, answer) for p in env.processes if "topology" in (answer := env.describe(p))]
    if not declaring:
        return [f"{es.where()}: no process here declares queues (contract.yaml: topology) to compare with"]
    have = {
        (q["name"], json.dumps(q.get("arguments") or {}, sort_keys=True))
        for q in definitions.get("queues", [])
    }
    problems = []
    for process, answer in declaring:
        want = {(name, json.dumps(args, sort_keys=True)) for name, args in answer["topology"]["declarations"]}
        if want != have:
            problems.append(
                f"{es.where()}: queues {sorted(have)} differ from {answer['topology']['declared_by']}'s "
                f"{sorted(want)} ({process.obj.label()})"
            )
        # The vhost is the path of the URL the process connects with (its amqp:// value).
        vhosts = {
            urlsplit(value).path.lstrip("/")
            for value in process.environ.values()
            if urlsplit(value).scheme in ("amqp", "amqps")
        }
        for vhost in sorted(vhosts):
            if any(q.get("vhost") != vhost or not q.get("durable") for q in definitions.get("queues", [])):
                problems.append(
                    f"{es.where()}: every queue must be durable and on vhost {vhost!r} "
                    f"({process.obj.label()}'s AMQP URL)"
                )
            if [v["name"] for v in definitions.get("vhosts", [])] != [vhost]:
                problems.append(
                    f"{es.where()}: vhosts {definitions.get('vhosts')} but {process.obj.label()} "
                    f"uses {vhost!r}"
                )
    return problems
