"""The services describe themselves in a subprocess (python -m common.describe): cloudctl learns
their settings, rejected values, ports, routes and queues without importing them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from cloudctl.manifests.contract import code, spec
from manifest_helpers import ROOT

WORKER_ENV = {
    "DATABASE_URL": "postgresql://billing@postgres:5432/billing",
    "AMQP_URL": "amqp://u:p@rabbitmq:5672/movies",
    "INVENTORY_URL": "http://inventory:8080",
}


def ask(name, environ, probes=()):
    contract = spec.load(ROOT)
    item = contract.workloads.get(name) or contract.commands[name]
    return code.ask(ROOT, code.question(item, environ, list(probes)))


def test_a_rejected_value_is_reported_with_the_codes_reason():
    answer = ask("billing-worker", {**WORKER_ENV, "WORKER_PREFETCH": "many"}, ["/health"])
    assert answer["rejected"] == {"WORKER_PREFETCH": "must be an integer, got 'many'"}
    assert "the code refuses to start with this environment: config error: WORKER_PREFETCH" in answer["error"]


def test_a_gunicorn_workload_says_where_it_listens_and_what_it_serves():
    answer = ask(
        "api-gateway",
        {"INVENTORY_URL": "http://inventory:8080", "BILLING_URL": "http://billing:8080", "PORT": "3100"},
        ["/health", "/healthz"],
    )
    assert answer["rejected"] == {}
    assert answer["port"] == 3100  # gunicorn.conf.py's bind, from this environment
    assert answer["probes"] == {"/health": True, "/healthz": False}
    assert "/ready" in answer["routes"]
    settings = {s["name"]: s for s in answer["settings"]}
    assert settings["PORT"]["default"] == "3000"
    assert settings["BILLING_URL"]["required"] is True


def test_the_worker_describes_its_health_server_and_queues():
    answer = ask("billing-worker", {**WORKER_ENV, "BILLING_QUEUE": "orders"}, ["/ready", "/alive"])
    assert answer["port"] == 8080
    assert answer["routes"] is None
    assert answer["probes"] == {"/ready": True, "/alive": False}
    assert answer["topology"]["queue"] == "orders"
    assert [name for name, _ in answer["topology"]["declarations"]] == [
        "orders",
        "orders.retry",
        "orders.dlq",
    ]


def test_a_command_describes_its_settings_only():
    answer = ask("common.provision", {"ADMIN_DATABASE_URL": "mysql://x"})
    assert set(answer) == {"name", "settings", "rejected"}
    assert "ADMIN_DATABASE_URL" in answer["rejected"]
    assert "PGPASSWORD" in {s["name"] for s in answer["settings"]}


def test_an_entry_naming_no_settings_fails_in_one_line():
    entry = json.dumps({"settings": "common.config:LOG_LEVELS"})
    answer = code.ask(ROOT, code.Question("web", "services", entry, (), ()))
    assert answer == {
        "error": "common.describe web failed: describe: settings 'common.config:LOG_LEVELS' name no "
        "common.config.Setting"
    }


def describe_cli(stdin: str, *args: str, block_yaml: bool = False) -> subprocess.CompletedProcess[str]:
    """`python -m common.describe` as a person runs it, in services/inventory (the image's WORKDIR)."""
    blocked = "import sys; sys.modules['yaml'] = None; " if block_yaml else ""
    run = f"{blocked}import runpy; runpy.run_module('common.describe', run_name='__main__')"
    return subprocess.run(
        [sys.executable, "-c", run, "inventory", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT / "services/inventory",
        env={
            "PATH": os.environ["PATH"],
            "PYTHONPATH": str(ROOT / "services"),
            "DATABASE_URL": "postgresql://h/i",
        },
        check=False,
    )


def test_describe_reads_its_entry_as_json_and_never_yaml():
    """PyYAML is in no service's image: with it made unimportable, describe still answers."""
    entry = spec.load(ROOT).workloads["inventory"].entry_json
    done = describe_cli(entry, "--probe", "/ready", block_yaml=True)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert (answer["port"], answer["probes"]) == (8080, {"/ready": True})


def test_describe_without_a_json_entry_is_one_line():
    done = describe_cli("workloads: {}")
    assert done.returncode == 2
    assert done.stderr.startswith("describe: stdin is not the contract entry as JSON: ")
    assert len(done.stderr.strip().splitlines()) == 1


def test_each_question_is_asked_once_per_process():
    asked = code.question(
        spec.load(ROOT).commands["billing.migrate"], {"DATABASE_URL": "postgresql://h/b"}, []
    )
    code.ask_all(ROOT, [asked, asked])
    assert code.ask(ROOT, asked) is code.ask(ROOT, asked)


def test_the_services_stay_out_of_the_asking_process():
    script = (
        "import sys\n"
        "from cloudctl.manifests.contract import code, spec\n"
        "from cloudctl.manifests import tree\n"
        "item = spec.load(tree.ROOT).workloads['inventory']\n"
        "asked = code.question(item, {'DATABASE_URL': 'postgresql://h/i'}, ['/health'])\n"
        "answer = code.ask(tree.ROOT, asked)\n"
        "assert answer['probes'] == {'/health': True}, answer\n"
        "print(sorted({'common', 'inventory', 'billing', 'api_gateway'} & set(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT / "infrastructure")},
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "[]"), done.stderr
