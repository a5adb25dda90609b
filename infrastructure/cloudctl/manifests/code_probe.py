"""Run inside a service's folder (a subprocess, with the container's environment) and report what
the real code would do there: gunicorn's bind from the service's own gunicorn.conf.py, and which
probe paths its HTTP server answers. Reads a JSON request on stdin, writes a JSON answer.

request: {"kind": "gunicorn"|"worker", "app": "inventory:create_app", "paths": ["/health", ...]}
"""

from __future__ import annotations

import http.client
import json
import os
import runpy
import sys
import threading


def gunicorn(request: dict) -> dict:
    config = runpy.run_path("gunicorn.conf.py")
    module_name, _, factory = request["app"].partition(":")
    module = __import__(module_name, fromlist=[factory])
    app = getattr(module, factory)(dict(os.environ))
    adapter = app.url_map.bind("localhost")
    routes = {}
    for path in request["paths"]:
        try:
            adapter.match(path, method="GET")
            routes[path] = True
        except Exception:  # noqa: BLE001 - NotFound / MethodNotAllowed: the route is not served
            routes[path] = False
    return {"bind": config.get("bind"), "routes": routes}


def worker(request: dict) -> dict:
    from http.server import ThreadingHTTPServer

    from billing.health_server import make_handler

    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler("contract-probe", {}))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    routes = {}
    try:
        for path in request["paths"]:
            conn = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
            conn.request("GET", path)
            routes[path] = conn.getresponse().status != 404
            conn.close()
    finally:
        server.shutdown()
    return {"bind": None, "routes": routes}


if __name__ == "__main__":
    req = json.load(sys.stdin)
    answer = {"gunicorn": gunicorn, "worker": worker}[req["kind"]](req)
    sys.stdout.write("\n" + json.dumps(answer))
