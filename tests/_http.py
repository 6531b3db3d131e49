"""A loopback HTTP server in a background thread, for download tests.

No test may touch the internet: every download test talks to this server on
127.0.0.1. Each route answers a scripted sequence of responses (the last one
repeats), so a test can play "500 then OK", "truncated then complete", etc.
"""

import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Response:
    """One scripted answer.

    ``truncate``: announce ``len(body)`` in Content-Length but send only the
    first ``truncate`` bytes, then close the connection.
    ``content_length``: False sends no Content-Length (the body ends when the
    connection closes); an int announces that length instead of ``len(body)``.
    ``drip``: send the body one byte at a time, ``drip`` seconds apart (a slow
    server); stops as soon as the client goes away.
    ``drip_headers``: the same for the status line and headers (then no body).
    """

    status: int = 200
    body: bytes = b""
    headers: dict = field(default_factory=dict)
    truncate: int | None = None
    content_length: bool | int = True
    drip: float | None = None
    drip_headers: float | None = None


class LoopbackServer:
    """``with LoopbackServer() as srv: srv.route("/x", Response(...)); srv.url("/x")``."""

    def __init__(self):
        self.routes = {}
        self.hits = Counter()
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_GET(self):  # noqa: N802 (http.server API)
                path = self.path.split("?", 1)[0]
                with server._lock:
                    server.hits[path] += 1
                    script = server.routes.get(path)
                    if script is None:
                        resp = Response(404, b'{"error": "not found"}')
                    else:
                        resp = script[0] if len(script) == 1 else script.pop(0)
                if resp.drip_headers is not None:
                    raw = b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 4000 + b"\r\n\r\n"
                    try:
                        for i in range(len(raw)):  # bounded by the header's length
                            self.wfile.write(raw[i : i + 1])
                            self.wfile.flush()
                            time.sleep(resp.drip_headers)
                    except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                        pass
                    self.close_connection = True
                    return
                self.send_response(resp.status)
                if resp.content_length is True:
                    self.send_header("Content-Length", str(len(resp.body)))
                elif resp.content_length is not False:
                    self.send_header("Content-Length", str(int(resp.content_length)))
                for k, v in resp.headers.items():
                    self.send_header(k, v)
                if resp.truncate is not None or resp.content_length is not True:
                    self.send_header("Connection", "close")
                    self.close_connection = True
                self.end_headers()
                body = resp.body if resp.truncate is None else resp.body[: resp.truncate]
                try:
                    if resp.drip is None:
                        self.wfile.write(body)
                        self.wfile.flush()
                    else:
                        for i in range(len(body)):  # bounded by the body's length
                            self.wfile.write(body[i : i + 1])
                            self.wfile.flush()
                            time.sleep(resp.drip)
                except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
                    pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def route(self, path, *responses):
        """Script the answers of ``path`` (the last one repeats)."""
        with self._lock:
            self.routes[path] = list(responses)

    def url(self, path=""):
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}{path}"

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


def closed_port_url(path="/"):
    """A loopback URL on which nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}{path}"
