"""The JSON error contract, and the errors a request handler raises to answer with it (see common.web)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any


def error_body(status: int, message: str, request_id: str | None, **details: Any) -> dict[str, Any]:
    """`{"error": <reason phrase>, "message": ..., **details, "request_id": ...}`: every error answer."""
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Error"
    return {"error": reason, "message": message, **details, "request_id": request_id}


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
