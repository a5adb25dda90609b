"""Errors a request handler raises to answer with a JSON error body (see common.web)."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """Answer `status` with `{"error": <reason>, "message": message, **details}`."""

    def __init__(self, status: int, message: str, **details: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details


class DatabaseUnavailable(ApiError):
    """The database cannot be reached or the connection broke; the client may retry (503)."""

    def __init__(self, message: str = "database unavailable, retry later") -> None:
        super().__init__(503, message)
