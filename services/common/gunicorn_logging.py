"""Gunicorn's error and access logs as JSON lines on stdout (the same shape as common.jsonlog)."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from gunicorn.glogging import Logger

from common.jsonlog import JsonFormatter


class JsonGunicornLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        formatter = JsonFormatter(os.environ.get("CLOUD_DESIGN_SERVICE", "gunicorn"))
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(formatter)
                if isinstance(handler, logging.StreamHandler) and not isinstance(
                    handler, logging.FileHandler
                ):
                    handler.setStream(sys.stdout)

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        headers = dict((name.lower(), value) for name, value in (resp.headers or ()))
        self.access_log.info(
            "request",
            extra={
                "method": environ.get("REQUEST_METHOD"),
                "path": environ.get("PATH_INFO"),
                "status": int(status),
                "duration_ms": round(request_time.total_seconds() * 1000, 2),
                "request_id": headers.get("x-request-id"),
                "remote_addr": environ.get("REMOTE_ADDR"),
            },
        )
