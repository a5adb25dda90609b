"""A gunicorn worker for the services behind the gateway: keep-alive without a thread hand-off.

gunicorn's gthread worker keeps connections alive, but its poller thread hands every request to
a pool thread and the pool thread hands the connection back through a pipe: two thread wake-ups
per request. Behind the gateway each worker holds a few pooled connections that are idle between
requests, so every request pays both wake-ups. This worker is gthread with one difference: the
poller thread serves a readable connection itself. One request at a time per process, as a sync
worker (and as gthread with one thread), with gthread's keep-alive, its limits and its shutdown.

Like a sync worker it blocks while it reads a request, so it belongs behind a proxy that sends
whole requests (the gateway, the ALB); a connection that has sent nothing yet waits in the poller.
Also like a sync worker, it cannot signal the master while it serves, so a request that runs
past gunicorn's `timeout` gets the worker restarted (gthread's loop would keep signalling).
"""

from __future__ import annotations

from concurrent import futures

from gunicorn.workers.gthread import _DEFER, TConn, ThreadWorker


class KeepAliveWorker(ThreadWorker):
    """gthread's event loop and keep-alive; each request served on the loop's own thread."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._serving = False

    def enqueue_req(self, conn: TConn) -> None:
        if self._serving:
            # Re-entered from finish_request: the client pipelined another request behind the one
            # just served. Take it on the loop's next turn, so a long pipeline cannot recurse.
            self.method_queue.defer(self.enqueue_req, conn)
            return
        outcome: futures.Future = futures.Future()
        self._serving = True
        try:
            if not conn.initialized and not conn.wait_for_data(0):
                # Accepted, but nothing sent yet: wait in the poller, never on this thread.
                outcome.set_result(_DEFER)
            else:
                outcome.set_result(self.handle(conn))  # handle() turns errors into False
            self.finish_request(conn, outcome)
        finally:
            self._serving = False
