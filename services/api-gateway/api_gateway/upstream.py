"""The gateway's HTTP client: pooled keep-alive urllib3 connections, one pool per upstream and process.

Failures map to gateway answers: upstream refused/reset -> 502, upstream too slow -> 504.
Hop-by-hop headers (RFC 9110 7.6.1) are dropped in both directions.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import urllib3
from common.errors import ApiError
from urllib3.exceptions import (
    ConnectTimeoutError,
    HTTPError,
    MaxRetryError,
    NewConnectionError,
    ReadTimeoutError,
)
from urllib3.util import parse_url

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection"}
)
# Recomputed for the new message by whoever sends it (urllib3 upstream, werkzeug downstream).
RECOMPUTED = frozenset({"host", "content-length"})
# Never retry a request the upstream may have received; only a refused connection is retried once.
RETRY = urllib3.Retry(total=1, connect=1, read=0, status=0, other=0, redirect=False, raise_on_status=False)


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
class UpstreamResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


class Upstreams:
    """One keep-alive connection pool per named upstream, created in each process on first use.

    A pool per upstream (urllib3.HTTPConnectionPool, not a PoolManager) because the gateway only
    ever talks to its configured upstreams: no per-request URL parsing or pool lookup by key.
    """

    def __init__(
        self, bases: Mapping[str, str], connect_timeout: float, read_timeout: float, maxsize: int = 8
    ) -> None:
        self.timeout = urllib3.Timeout(connect=connect_timeout, read=read_timeout)
        self.maxsize = maxsize
        self._bases = {name: parse_url(base.rstrip("/")) for name, base in bases.items()}
        self._pools: dict[str, urllib3.HTTPConnectionPool] = {}
        self._pid: int | None = None
        self._lock = threading.Lock()

    def _pool(self, name: str) -> urllib3.HTTPConnectionPool:
        """Never shared across a gunicorn fork: a new process starts with new pools."""
        if self._pid != os.getpid() or name not in self._pools:
            with self._lock:
                if self._pid != os.getpid():
                    self._pools, self._pid = {}, os.getpid()
                if name not in self._pools:
                    self._pools[name] = urllib3.connection_from_url(
                        str(self._bases[name]), maxsize=self.maxsize, retries=RETRY, timeout=self.timeout
                    )
        return self._pools[name]

    def request(
        self,
        name: str,
        method: str,
        path: str,
        headers: Mapping[str, str] | Iterable[tuple[str, str]],
        body: bytes | None = None,
        timeout: urllib3.Timeout | None = None,
    ) -> UpstreamResponse:
        """Send `method path` (path with its query, below the upstream's base URL) to upstream `name`."""
        pairs = headers.items() if isinstance(headers, Mapping) else headers
        try:
            response = self._pool(name).urlopen(
                method,
                (self._bases[name].path or "") + path,
                body=body,
                headers=urllib3.HTTPHeaderDict(end_to_end_headers(pairs)),
                timeout=timeout or self.timeout,
                redirect=False,
            )
        except MaxRetryError as exc:
            raise _gateway_error(name, exc.reason) from exc
        except HTTPError as exc:  # refused, reset, timed out, protocol garbage
            raise _gateway_error(name, exc) from exc
        return UpstreamResponse(response.status, end_to_end_headers(response.headers.items()), response.data)


def _gateway_error(name: str, reason: BaseException | None) -> ApiError:
    if isinstance(reason, NewConnectionError):
        return ApiError(502, f"{name} is unavailable", upstream=name)
    if isinstance(reason, ConnectTimeoutError | ReadTimeoutError):
        return ApiError(504, f"{name} did not answer in time", upstream=name)
    return ApiError(502, f"{name} failed to answer", upstream=name)
