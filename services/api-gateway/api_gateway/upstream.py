"""The gateway's HTTP client: pooled keep-alive connections, one pool per upstream and process.

Built on the standard library's http.client rather than urllib3: the gateway only ever sends
one request shape to two fixed upstreams, and urllib3's generality (retry objects, header
dicts, URL parsing, pool lookups) cost 0.29 ms of CPU per proxied GET against http.client's
0.16 ms, on a request whose whole gateway budget is under 1 ms (docs/benchmarks.md).

Failures map to gateway answers: upstream refused/unresolvable -> 502 "unavailable", upstream
too slow (connect or read) -> 504, upstream broke the exchange -> 502 "failed to answer".
Hop-by-hop headers (RFC 9110 7.6.1) are dropped in both directions.
"""

from __future__ import annotations

import http.client
import os
import select
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from common.errors import ApiError

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection"}
)
# Recomputed for the new message by whoever sends it (http.client upstream, werkzeug downstream).
RECOMPUTED = frozenset({"host", "content-length"})
# A refused connection is tried once more (nothing was sent). A request the upstream may have
# received is never resent behind the client's back.
CONNECT_ATTEMPTS = 2


def end_to_end_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop hop-by-hop headers, Proxy-*, those the Connection header names, and recomputed ones."""
    pairs = list(headers)
    named = {
        token.strip().lower()
        for name, value in pairs
        if name.lower() == "connection"
        for token in value.split(",")
    }
    return [
        (name, value)
        for name, value in pairs
        if (lower := name.lower()) not in HOP_BY_HOP
        and lower not in RECOMPUTED
        and lower not in named
        and not lower.startswith("proxy-")
    ]


@dataclass(frozen=True)
class Timeout:
    """Seconds allowed to open a connection, and to wait for each read of the answer."""

    connect: float
    read: float


@dataclass(frozen=True)
class UpstreamResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class _Failed(Exception):
    """An exchange failed; `status`/`message` say how the gateway answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def is_dropped(connection: http.client.HTTPConnection) -> bool:
    """True if an idle pooled connection cannot carry a request.

    An idle keep-alive connection has nothing to read: readable means the upstream closed it
    (EOF) or sent something unasked, and either way it is done. One poll, no waiting.
    """
    poller = select.poll()
    poller.register(connection.sock, select.POLLIN)
    return bool(poller.poll(0))


class UpstreamPool:
    """Idle keep-alive connections to one upstream, for one process.

    Last in, first out: the connection used most recently is the least likely to have been
    closed by the upstream's keep-alive timer. At most `maxsize` idle connections are kept.
    """

    def __init__(self, base: SplitResult, maxsize: int) -> None:
        self.host = base.hostname or ""
        default_port = 443 if base.scheme == "https" else 80
        self.port = base.port or default_port
        # What the Host header names: no userinfo, and no port when it is the scheme's default.
        self.host_header = self.host if self.port == default_port else f"{self.host}:{self.port}"
        self.maxsize = maxsize
        self._connection_class = (
            http.client.HTTPSConnection if base.scheme == "https" else http.client.HTTPConnection
        )
        self._idle: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def take(self, timeout: Timeout) -> http.client.HTTPConnection:
        """An idle connection still open, else a new one (raises _Failed if none can be opened)."""
        while True:
            with self._lock:
                connection = self._idle.pop() if self._idle else None
            if connection is None:
                return self._open(timeout)
            if not is_dropped(connection):
                return connection
            connection.close()

    def give_back(self, connection: http.client.HTTPConnection) -> None:
        """Keep a connection whose answer was read to its end for the next request."""
        if connection.sock is None:  # http.client closed it after a `Connection: close` answer
            return
        with self._lock:
            if len(self._idle) < self.maxsize:
                self._idle.append(connection)
                return
        connection.close()

    def _open(self, timeout: Timeout) -> http.client.HTTPConnection:
        refused: OSError | None = None
        for _ in range(CONNECT_ATTEMPTS):
            connection = self._connection_class(self.host, self.port, timeout=timeout.connect)
            try:
                connection.connect()  # also sets TCP_NODELAY; _exchange sets the read timeout
                return connection
            except TimeoutError as exc:
                raise _Failed(504, "did not answer in time") from exc
            except OSError as exc:  # refused, unreachable, name not resolved
                connection.close()
                refused = exc
        raise _Failed(502, "is unavailable") from refused


class Upstreams:
    """One keep-alive connection pool per named upstream, created in each process on first use."""

    def __init__(
        self, bases: Mapping[str, str], connect_timeout: float, read_timeout: float, maxsize: int = 8
    ) -> None:
        self.timeout = Timeout(connect=connect_timeout, read=read_timeout)
        self.maxsize = maxsize
        self._bases = {name: urlsplit(base.rstrip("/")) for name, base in bases.items()}
        self._pools: dict[str, UpstreamPool] = {}
        self._pid: int | None = None
        self._lock = threading.Lock()

    def _pool(self, name: str) -> UpstreamPool:
        """Never shared across a gunicorn fork: a new process starts with new pools."""
        if self._pid != os.getpid() or name not in self._pools:
            with self._lock:
                if self._pid != os.getpid():
                    self._pools, self._pid = {}, os.getpid()
                if name not in self._pools:
                    self._pools[name] = UpstreamPool(self._bases[name], self.maxsize)
        return self._pools[name]

    def request(
        self,
        name: str,
        method: str,
        path: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes | None = None,
        timeout: Timeout | None = None,
    ) -> UpstreamResponse:
        """Send `method path` (path with its query, below the upstream's base URL) to upstream `name`."""
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        pool = self._pool(name)
        timeout = timeout or self.timeout
        target = self._bases[name].path + path
        try:
            connection = pool.take(timeout)
            answer = _exchange(
                connection, timeout.read, method, target, pool.host_header, end_to_end_headers(pairs), body
            )
        except _Failed as failed:
            raise ApiError(failed.status, f"{name} {failed.message}", upstream=name) from failed
        pool.give_back(connection)
        return answer


def _exchange(
    connection: http.client.HTTPConnection,
    read_timeout: float,
    method: str,
    target: str,
    host: str,
    headers: list[tuple[str, str]],
    body: bytes | None,
) -> UpstreamResponse:
    """One request and its whole answer on `connection`; any failure closes the connection."""
    sock = connection.sock
    try:
        if sock.gettimeout() != read_timeout:  # type: ignore[union-attr] - taken connections are open
            sock.settimeout(read_timeout)  # type: ignore[union-attr] - a syscall, so only on change
        connection.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", host)
        for header, value in headers:
            connection.putheader(header, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        payload = response.read()
        headers_out = end_to_end_headers(response.getheaders())
        length = response.getheader("Content-Length")
        if method == "HEAD" and length is not None:
            headers_out.append(("Content-Length", length))  # GET's length: there is no body to count
        return UpstreamResponse(response.status, headers_out, payload)
    except TimeoutError as exc:
        connection.close()
        raise _Failed(504, "did not answer in time") from exc
    except (OSError, http.client.HTTPException) as exc:  # reset, refused mid-way, not HTTP, cut short
        connection.close()
        raise _Failed(502, "failed to answer") from exc
