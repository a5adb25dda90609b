"""The billing queues, exactly as docs/contract.md lists them (base/rabbitmq declares the same).

Everything lives on the default exchange "" with routing key = queue name:
- `<q>`: work queue; a rejected message dead-letters to `<q>.dlq`;
- `<q>.retry`: parking queue; after RETRY_DELAY_MS a message dead-letters back to `<q>`;
- `<q>.dlq`: poison and exhausted messages, kept for a human.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RETRY_DELAY_MS = 5000
DEFAULT_EXCHANGE = ""


@dataclass(frozen=True)
class Topology:
    queue: str

    @property
    def retry_queue(self) -> str:
        return f"{self.queue}.retry"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.queue}.dlq"

    def declarations(self) -> list[tuple[str, dict[str, Any]]]:
        """(queue name, arguments) for every queue; all are durable."""
        return [
            (
                self.queue,
                {
                    "x-dead-letter-exchange": DEFAULT_EXCHANGE,
                    "x-dead-letter-routing-key": self.dead_letter_queue,
                },
            ),
            (
                self.retry_queue,
                {
                    "x-message-ttl": RETRY_DELAY_MS,
                    "x-dead-letter-exchange": DEFAULT_EXCHANGE,
                    "x-dead-letter-routing-key": self.queue,
                },
            ),
            (self.dead_letter_queue, {}),
        ]

    def declare(self, channel) -> None:
        """Declare every queue (idempotent; a mismatch with an existing queue closes the channel loudly)."""
        for name, arguments in self.declarations():
            channel.queue_declare(queue=name, durable=True, arguments=arguments or None)
