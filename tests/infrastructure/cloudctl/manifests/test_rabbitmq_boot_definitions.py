"""The definitions RabbitMQ loads at boot, as ESO renders them from the `rabbitmq` ExternalSecret,
really create the user, vhost, permissions and queues, and the AMQP_URL rendered by `billing-amqp`
really logs in and finds the queues with the code's arguments.

Uses the machine's RabbitMQ (started by .ci/ensure-services) through rabbitmqctl, in a vhost and
user of its own that are deleted afterwards; the Secrets Manager values are stand-ins with
characters that need escaping (esotemplate.STAND_IN). The machine's broker is Debian's 3.10,
the cluster's is 3.12: both read the same definitions format (plain `password` hashed on import).
rabbitmqctl needs the broker on this machine: marked `server_control` (tests/servercontrol.py).
"""

from __future__ import annotations

import json
import time
import uuid
from urllib.parse import quote_plus, urlsplit, urlunsplit

import pika
import pytest
from cloudctl.manifests import esotemplate
from devtools import local
from manifest_helpers import find
from servercontrol import rabbitmqctl

pytestmark = pytest.mark.server_control("rabbitmq")


@pytest.fixture
def loaded(env_objects):
    objects = env_objects("dev")
    secrets = {
        esotemplate.secret_name(o): esotemplate.secret_data(o) for o in objects if o.kind == "ExternalSecret"
    }
    definitions = json.loads(secrets["rabbitmq"]["definitions.json"])
    amqp = urlsplit(secrets["billing-amqp"]["AMQP_URL"])
    assert amqp.path == "/movies" and [v["name"] for v in definitions["vhosts"]] == ["movies"]

    # Own vhost and user so that the machine's broker (shared with other tests) is untouched.
    suffix = uuid.uuid4().hex[:8]
    vhost, user = f"gitops-test-{suffix}", definitions["users"][0]["name"]
    definitions["users"][0]["name"] = user = f"{user}-{suffix}"
    definitions["vhosts"] = [{"name": vhost}]
    definitions["permissions"][0].update(user=user, vhost=vhost)
    for queue in definitions["queues"]:
        queue["vhost"] = vhost
    # on stdin: rabbitmqctl runs as the rabbitmq user, which cannot read pytest's private tmp dirs
    imported = rabbitmqctl("import_definitions", "--format", "json", stdin=json.dumps(definitions))
    assert imported.returncode == 0, imported.stderr
    for _ in range(50):  # the import finishes asynchronously
        if vhost in rabbitmqctl("list_vhosts", "--silent").stdout.split():
            break
        time.sleep(0.2)
    password = definitions["users"][0]["password"]
    # the URL as rendered, pointed at this machine's broker and at the test's own user and vhost
    broker = urlsplit(local.AMQP_URL).netloc.rpartition("@")[2]
    rendered_broker = f"@{amqp.hostname}:{amqp.port}"
    netloc = amqp.netloc.replace(amqp.username, quote_plus(user), 1).replace(rendered_broker, f"@{broker}")
    url = urlunsplit((amqp.scheme, netloc, f"/{vhost}", "", ""))
    try:
        yield {"user": user, "password": password, "vhost": vhost, "url": url}
    finally:
        rabbitmqctl("delete_vhost", vhost)
        rabbitmqctl("delete_user", user)


def test_the_rendered_user_can_log_in(loaded):
    assert rabbitmqctl("authenticate_user", loaded["user"], loaded["password"]).returncode == 0
    assert rabbitmqctl("authenticate_user", loaded["user"], "wrong").returncode != 0


def test_the_rendered_amqp_url_finds_the_code_topology(loaded, env_objects):
    from billing import topology

    queue = find(env_objects("dev"), "ConfigMap", "billing-worker").doc["data"]["BILLING_QUEUE"]
    connection = pika.BlockingConnection(pika.URLParameters(loaded["url"]))
    try:
        channel = connection.channel()
        # passive=False with the code's own arguments: RabbitMQ closes the channel on any mismatch
        topology.Topology(queue).declare(channel)
        for name, _ in topology.Topology(queue).declarations():
            channel.queue_declare(queue=name, passive=True)
    finally:
        connection.close()
