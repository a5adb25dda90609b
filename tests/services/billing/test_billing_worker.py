"""The billing worker (`python -m billing.worker`) on real RabbitMQ and PostgreSQL."""

from __future__ import annotations

import json
import signal
import socket
import time
import uuid

import pytest
import requests
import servicekit
from billing.amqp import RETRY_COUNT_HEADER
from billing.consumer import IDLE_WAKEUP_SECONDS
from billingkit import BillingWorld, Broker, metric, payments_trigger, post_order, status_counts, wait_until


def order_status(world: BillingWorld, order_id: str) -> tuple[str, str | None]:
    return tuple(world.query("SELECT status, reason FROM orders WHERE id = %s", (order_id,))[0])


def payments_for(world: BillingWorld, order_id: str) -> int:
    return world.scalar("SELECT count(*) FROM payments WHERE order_id = %s", (order_id,))


def test_order_completes_and_a_second_purchase_is_rejected(
    billing_api, billing_world: BillingWorld, start_worker
) -> None:
    worker = start_worker()
    assert metric(worker.url, "billing_consumer_up") == 1
    first = post_order(billing_api.url, 501, 9).json()["id"]
    wait_until("first order completed", lambda: order_status(billing_world, first)[0] == "completed", 10)
    second = post_order(billing_api.url, 501, 9).json()["id"]
    wait_until("second order processed", lambda: order_status(billing_world, second)[0] != "pending", 10)

    assert order_status(billing_world, second) == ("rejected", "already purchased")
    assert (payments_for(billing_world, first), payments_for(billing_world, second)) == (1, 0)
    body = requests.get(f"{billing_api.url}/orders/{first}", timeout=5).json()
    assert body["status"] == "completed" and body["processed_at"] >= body["created_at"]
    assert metric(worker.url, "orders_processed_total", outcome="completed") == 1
    assert metric(worker.url, "orders_processed_total", outcome="rejected") == 1


def test_duplicate_delivery_is_processed_once(
    billing_api, billing_world: BillingWorld, broker: Broker, start_worker
) -> None:
    order_id = post_order(billing_api.url, 502, 9).json()["id"]
    for _ in range(2):  # e.g. the relay and the API both published it
        broker.publish(billing_world.queue, json.dumps({"order_id": order_id}).encode())
    worker = start_worker()
    wait_until(
        "queue drained",
        lambda: (
            broker.counts(billing_world.queue)[0] == 0
            and order_status(billing_world, order_id)[0] == "completed"
        ),
        10,
    )
    time.sleep(0.3)  # let the last ack land before reading the counter
    assert payments_for(billing_world, order_id) == 1
    assert metric(worker.url, "orders_processed_total", outcome="completed") == 1


def test_a_burst_is_acked_in_batches_and_nothing_is_left_unacked_once_idle(
    billing_world: BillingWorld, broker: Broker, start_worker
) -> None:
    """Acks go out together (consumer.BATCH), and the last ones as soon as the queue runs dry: a worker
    killed with SIGKILL once idle hands nothing back to the queue."""
    order_ids = billing_world.commit_orders(25, 509)
    worker = start_worker(WORKER_PREFETCH="25")
    wait_until("burst completed", lambda: status_counts(billing_world, order_ids) == {"completed": 25}, 15)
    time.sleep(IDLE_WAKEUP_SECONDS * 2)  # past the consume loop's idle wake-up
    worker.process.kill()
    worker.process.wait(10)
    # An unacked delivery returns to the queue when its consumer's connection drops.
    time.sleep(0.5)
    assert broker.counts(billing_world.queue) == (0, 0)


def test_poison_messages_go_to_the_dlq_at_once_and_do_not_delay_orders(
    billing_api, billing_world: BillingWorld, broker: Broker, start_worker
) -> None:
    poison = [
        b"\xff not json",
        b'{"no_order_id": 1}',
        b'{"order_id": "not-a-uuid"}',
        json.dumps({"order_id": str(uuid.uuid4())}).encode(),
    ]  # well-formed, unknown order
    for body in poison:
        broker.publish(billing_world.queue, body)
    orders = [post_order(billing_api.url, 503, movie).json()["id"] for movie in range(1, 21)]

    worker = start_worker()
    started = time.monotonic()
    wait_until(
        "orders behind the poison completed",
        lambda: status_counts(billing_world, orders) == {"completed": 20},
        10,
    )
    # Well under the 5 s retry delay: nothing waited behind a poison message.
    assert time.monotonic() - started < 4
    dead = wait_until(
        "poison in the DLQ",
        lambda: (
            broker.counts(billing_world.topology.dead_letter_queue)[0] == 4
            and broker.take_all(billing_world.topology.dead_letter_queue)
        ),
        5,
    )
    assert sorted(body for _, body in dead) == sorted(poison)
    assert broker.counts(billing_world.topology.retry_queue)[0] == 0
    assert metric(worker.url, "orders_dead_lettered_total") == 4


def test_failing_order_is_retried_a_bounded_number_of_times_then_dead_lettered(
    billing_api, billing_world: BillingWorld, broker: Broker, start_worker
) -> None:
    movie = 660001
    with payments_trigger(billing_world, movie, "RAISE EXCEPTION 'ledger refuses movie %%', NEW.movie_id"):
        worker = start_worker(WORKER_MAX_RETRIES="2")
        failing = post_order(billing_api.url, 504, movie).json()["id"]
        healthy = post_order(billing_api.url, 504, 1).json()["id"]
        wait_until(
            "healthy order completed", lambda: order_status(billing_world, healthy)[0] == "completed", 5
        )
        dlq = billing_world.topology.dead_letter_queue
        # Two retries through <q>.retry (5 s TTL each), then the DLQ.
        wait_until("failing order dead-lettered", lambda: broker.counts(dlq)[0] == 1, 20)
        [(properties, body)] = broker.take_all(dlq)

    assert json.loads(body) == {"order_id": failing}
    assert properties.headers[RETRY_COUNT_HEADER] == 2
    assert order_status(billing_world, failing) == ("pending", None)
    assert payments_for(billing_world, failing) == 0
    assert metric(worker.url, "orders_failed_total") == 3  # the first attempt and two retries
    assert metric(worker.url, "orders_dead_lettered_total") == 1
    assert "ledger refuses movie 660001" in worker.logs()


def test_orders_committed_while_no_worker_ran_are_published_when_one_starts(
    billing_world: BillingWorld, broker: Broker, start_worker
) -> None:
    # What a crash or an outage leaves behind: committed orders whose messages were never published.
    order_ids = billing_world.commit_orders(3, 505)
    worker = start_worker()
    wait_until(
        "relayed orders completed", lambda: status_counts(billing_world, order_ids) == {"completed": 3}, 10
    )
    wait_until("outbox emptied", lambda: billing_world.scalar("SELECT count(*) FROM outbox") == 0, 5)
    assert sum(payments_for(billing_world, order_id) for order_id in order_ids) == 3
    assert metric(worker.url, "orders_published_total") == 3


def test_sigterm_finishes_the_current_message_then_exits_cleanly(
    billing_api, billing_world: BillingWorld, broker: Broker, start_worker
) -> None:
    movie = 660002
    with payments_trigger(billing_world, movie, "PERFORM pg_sleep(1.5)"):
        worker = start_worker()
        order_id = post_order(billing_api.url, 506, movie).json()["id"]
        wait_until(
            "worker inside the slow ledger insert",
            lambda: billing_world.scalar(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state = 'active' AND wait_event = 'PgSleep'"  # in the trigger's pg_sleep
            ),
            10,
            0.02,
        )
        worker.process.send_signal(signal.SIGTERM)
        assert worker.process.wait(10) == 0

    assert order_status(billing_world, order_id)[0] == "completed"
    assert broker.counts(billing_world.queue) == (0, 0)  # acked before closing; no consumer left
    assert '"message": "worker stopped"' in worker.logs()


def test_worker_health_endpoints(start_worker) -> None:
    worker = start_worker()
    assert requests.get(f"{worker.url}/health", timeout=5).json()["status"] == "ok"
    assert requests.get(f"{worker.url}/ready", timeout=5).json()["checks"] == {
        "rabbitmq": "ok",
        "database": "ok",
    }
    missing = requests.get(f"{worker.url}/nope", timeout=5)
    assert missing.status_code == 404 and missing.json()["message"] == "no such route"
    post = requests.post(f"{worker.url}/health", timeout=5)
    assert post.status_code == 405 and post.headers["Allow"] == "GET"


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"AMQP_URL": ""}, "config error: AMQP_URL: is required but not set"),
        (
            {"AMQP_URL": "http://x"},
            "config error: AMQP_URL: must be a URL with scheme amqp or amqps, got 'http://x'",
        ),
        (
            {"BILLING_QUEUE": "bad queue"},
            "config error: BILLING_QUEUE: must be 1-200 characters of letters, digits, '_.:-',"
            " got 'bad queue'",
        ),
        ({"WORKER_PREFETCH": "0"}, "config error: WORKER_PREFETCH: must be >= 1, got 0"),
        ({"WORKER_MAX_RETRIES": "x"}, "config error: WORKER_MAX_RETRIES: must be an integer, got 'x'"),
    ],
)
def test_worker_bad_config_exits_with_one_line(billing_world: BillingWorld, env: dict, line: str) -> None:
    done = servicekit.run_cli(
        ["python", "-m", "billing.worker"], billing_world.env(**env), cwd=servicekit.SERVICES / "billing"
    )
    assert done.returncode == 2
    assert done.stderr.strip() == line


def test_worker_exits_with_one_line_when_its_port_is_taken(billing_world: BillingWorld) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = servicekit.run_cli(
            ["python", "-m", "billing.worker"],
            billing_world.env(PORT=str(port)),
            cwd=servicekit.SERVICES / "billing",
        )
    assert done.returncode == 1
    assert done.stderr.strip() == f"error: cannot listen on port {port}: Address already in use"
