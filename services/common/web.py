"""The Flask app every service starts from: request ids, JSON errors, body limit, health,
readiness, metrics and per-route request metrics."""

from __future__ import annotations

import io
import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, g, jsonify, request
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

from common import metrics, readiness
from common.errors import ApiError, error_body
from common.jsonlog import request_id_var
from common.readiness import ReadyCheck

REQUEST_ID_HEADER = "X-Request-ID"
# A client-sent id is kept only when it is short and plain (it ends up in logs and headers).
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
UNMATCHED_ROUTE = "<unmatched>"
# Metric labels must stay a small set: any other method a client invents is counted as "other".
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

log = logging.getLogger("common.web")


def json_error(status: int, message: str, **details: Any) -> Response:
    response = jsonify(error_body(status, message, request_id_var.get(), **details))
    response.status_code = status
    return response


def incoming_request_id() -> str:
    sent = request.headers.get(REQUEST_ID_HEADER, "")
    return sent if _SANE_REQUEST_ID.match(sent) else uuid.uuid4().hex


def refuse_oversized_body(max_body: int) -> None:
    """413 for a body above `max_body` bytes, whatever its framing, before any route reads it.

    A declared Content-Length is checked at once. A chunked body declares no length: werkzeug's
    limit on such a stream only stops reading at `max_body`, so `get_data()` would return the
    first `max_body` bytes and drop the rest unnoticed. So the body is read here, at most one
    byte past the limit, and the request continues as if it had been sent with Content-Length.
    """
    declared = request.content_length
    if declared is not None:
        if declared > max_body:
            raise RequestEntityTooLarge()
        return
    environ = request.environ
    if "HTTP_TRANSFER_ENCODING" not in environ:
        return  # neither length nor chunks: no body
    try:
        body = environ["wsgi.input"].read(max_body + 1)
    except Exception:  # noqa: BLE001 - the server's own error for bad chunk framing or a lost client
        raise BadRequest("request body is not valid chunked encoding") from None
    if len(body) > max_body:
        raise RequestEntityTooLarge()
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    del environ["HTTP_TRANSFER_ENCODING"]


def create_base_app(
    service: str, settings_values: Mapping[str, Any], ready_checks: Mapping[str, ReadyCheck] | None = None
) -> Flask:
    app = Flask(service)
    app.config["SETTINGS"] = dict(settings_values)
    max_body = settings_values.get("MAX_BODY_BYTES")
    if max_body:
        app.config["MAX_CONTENT_LENGTH"] = max_body
    # app.json is typed as the JSONProvider base class; Flask's default provider has sort_keys.
    app.json.sort_keys = False  # type: ignore[attr-defined]  # a DefaultJSONProvider attribute
    checks = dict(ready_checks or {})

    @app.before_request
    def _start_request() -> None:
        g.request_started = time.perf_counter()
        g.request_id = incoming_request_id()
        g.request_id_token = request_id_var.set(g.request_id)
        if max_body:
            refuse_oversized_body(max_body)

    @app.after_request
    def _finish_request(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = g.get("request_id") or incoming_request_id()
        started = g.get("request_started")
        if started is not None:
            route = request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE
            method = request.method if request.method in KNOWN_METHODS else "other"
            labels = (route, method, str(response.status_code))
            metrics.http_requests_total.labels(*labels).inc()
            metrics.http_request_duration_seconds.labels(*labels).observe(time.perf_counter() - started)
        return response

    @app.teardown_request
    def _clear_request_id(_exc: BaseException | None) -> None:
        token = g.pop("request_id_token", None)
        if token is not None:
            request_id_var.reset(token)

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        if exc.status >= 500:
            log.warning("request failed: %s", exc.message, extra={"status": exc.status})
        return json_error(exc.status, exc.message, **exc.details)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        response = json_error(status, _http_message(exc))
        allowed = getattr(exc, "valid_methods", None)
        if status == 405 and allowed:
            response.headers["Allow"] = ", ".join(allowed)
        return response

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception) -> Response:
        # Logged with its traceback for operators; the client learns nothing about internals.
        log.exception("unhandled error", extra={"path": request.path, "method": request.method})
        return json_error(500, "internal error")

    @app.get("/health")
    def health() -> Response:
        return jsonify(status="ok", service=service)

    @app.get("/ready")
    def ready() -> Response:
        failing = readiness.failing(checks)
        if failing:
            return json_error(503, f"not ready: {', '.join(failing)} unavailable", failing=failing)
        return jsonify(status="ready", checks={name: "ok" for name in checks})

    @app.get("/metrics")
    def metrics_endpoint() -> Response:
        body, content_type = metrics.render()
        return Response(body, content_type=content_type)

    return app


def _http_message(exc: HTTPException) -> str:
    messages = {
        404: "no such route",
        405: f"method {request.method} not allowed on this route",
        413: "request body too large",
    }
    return messages.get(exc.code or 0) or (exc.description or exc.name)
