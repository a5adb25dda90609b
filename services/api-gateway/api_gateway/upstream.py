"""The gateway's HTTP client: urllib3, one keep-alive connection pool per upstream and process.

A request is never resent once it may have reached the upstream: urllib3's `Retry` tries a
failed connect once more (nothing was sent) and nothing else (no read retries, no status or
redirect retries), whatever the method.

Failures map to gateway answers: upstream refused/unresolvable -> 502 "unavailable", upstream
too slow (connect or read) -> 504, upstream broke the exchange -> 502 "failed to answer".
Hop-by-hop headers (RFC 9110 7.6.1) are dropped in both directions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import urllib3
from common.errors import ApiError
from urllib3 import HTTPHeaderDict, Retry, Timeout
from urllib3.exceptions import HTTPError, MaxRetryError, NewConnectionError
from urllib3.exceptions import TimeoutError as UpstreamTimeout
from urllib3.util import parse_url

__all__ = ["Timeout", "UpstreamResponse", "Upstreams", "end_to_end_headers"]

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection"}
)
# Recomputed for the new message by whoever sends it (urllib3 upstream, werkzeug downstream).
RECOMPUTED = frozenset({"host", "content-length"})
# A failed connect is tried once more: nothing was sent. Nothing that may have been sent is.
RETRY = Retry(total=None, connect=1, read=0, redirect=0, status=0, other=0, raise_on_status=False)


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


def failure(error: Exception) -> tuple[int, str]:
    """How the gateway answers an exchange that failed with `error`: (status, message)."""
    reason = error.reason if isinstance(error, MaxRetryError) else error
    if isinstance(reason, NewConnectionError):  # refused, unreachable, name not resolved
        return 502, "is unavailable"
    if isinstance(reason, UpstreamTimeout):
        return 504, "did not answer in time"
    return 502, "failed to answer"  # reset mid-way, not HTTP, cut short


class Upstreams:
    """One urllib3 connection pool per named upstream. Made by create_app, in each gunicorn
    worker (the app is not preloaded), so no pool crosses a fork."""

    def __init__(
        self, bases: Mapping[str, str], connect_timeout: float, read_timeout: float, maxsize: int = 8
    ) -> None:
        self.timeout = Timeout(connect=connect_timeout, read=read_timeout)
        # The pool sends to the base URL's host; each request's path goes below the base's path.
        self._paths = {name: (parse_url(base).path or "").rstrip("/") for name, base in bases.items()}
        self._pools = {
            name: urllib3.connection_from_url(base, maxsize=maxsize, timeout=self.timeout, retries=RETRY)
            for name, base in bases.items()
        }

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
        sent = HTTPHeaderDict()
        for header, value in end_to_end_headers(pairs):
            sent.add(header, value)
        try:
            response = self._pools[name].urlopen(
                method,
                self._paths[name] + path,
                body=body,
                headers=sent,
                timeout=timeout or self.timeout,
                redirect=False,
                decode_content=False,
            )
        except HTTPError as error:
            status, message = failure(error)
            raise ApiError(status, f"{name} {message}", upstream=name) from error
        headers_out = end_to_end_headers(response.headers.items())
        length = response.headers.get("Content-Length")
        if method == "HEAD" and length is not None:
            headers_out.append(("Content-Length", length))  # GET's length: there is no body to count
        return UpstreamResponse(response.status, headers_out, response.data)
