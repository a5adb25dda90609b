"""A WSGI app for test_common_keepalive_worker.py: tells which process and thread served a
request, and can take its time (`?sleep=seconds`)."""

from __future__ import annotations

import os
import threading
import time
from urllib.parse import parse_qs


def app(environ, start_response):
    query = parse_qs(environ.get("QUERY_STRING", ""))
    if "sleep" in query:
        time.sleep(float(query["sleep"][0]))
    body = f"{os.getpid()} {threading.current_thread() is threading.main_thread()}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
