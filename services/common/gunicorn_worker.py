"""gunicorn's gthread worker, whose own 414 and 431 refusals answer the services' JSON error contract.

gunicorn refuses a request line longer than `limit_request_line` (414) and headers beyond
`limit_request_fields` / `limit_request_field_size` (431) before any application code runs, and
answers them with an HTML page. gunicorn has no setting for that page; its public hook is the
worker's `handle_error(req, client, addr, exc)`, which every worker class calls for an error it
met while parsing. This class overrides that one method for those two errors and leaves every
other behaviour, and every other error, to gthread. (docs/decisions/gunicorn-workers.md)
"""

from __future__ import annotations

import json
import socket
import uuid
from http import HTTPStatus
from typing import TYPE_CHECKING

from gunicorn.http.errors import LimitRequestHeaders, LimitRequestLine
from gunicorn.workers.gthread import ThreadWorker

from common.errors import error_body

if TYPE_CHECKING:
    from gunicorn.http import Request

REFUSALS: dict[type[Exception], tuple[HTTPStatus, str]] = {
    LimitRequestLine: (HTTPStatus.REQUEST_URI_TOO_LONG, "request line too long"),
    LimitRequestHeaders: (HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request headers too large"),
}


def refusal_response(status: HTTPStatus, message: str, request_id: str) -> bytes:
    """The whole HTTP/1.1 answer; the connection closes after it, as gunicorn's own does."""
    body = json.dumps(error_body(status, message, request_id)).encode()
    head = (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"X-Request-ID: {request_id}\r\n\r\n"
    )
    return head.encode("latin-1") + body


# A listener's peer as gunicorn passes it: (host, port) for TCP, a UNIX socket's path, or a descriptor.
Address = str | int | tuple[str, int]


def remote_host(addr: Address) -> str:
    """The client's host for the log: "" unless gunicorn gave a TCP (host, port) address."""
    return addr[0] if isinstance(addr, tuple) else ""


class JsonErrorWorker(ThreadWorker):
    def handle_error(
        self, req: Request | None, client: socket.socket, addr: Address, exc: BaseException
    ) -> None:
        refusal = next((answer for kind, answer in REFUSALS.items() if isinstance(exc, kind)), None)
        if refusal is None:
            super().handle_error(req, client, addr, exc)
            return
        status, message = refusal
        request_id = uuid.uuid4().hex  # the request's own id, if it sent one, was not parsed
        self.log.warning(
            "request refused: %s",
            exc,
            extra={"status": status.value, "remote_addr": remote_host(addr), "request_id": request_id},
        )
        try:
            client.sendall(refusal_response(status, message, request_id))
        except OSError:
            self.log.debug("the refused client left before its answer")
