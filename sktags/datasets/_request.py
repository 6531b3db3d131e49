"""One HTTP GET bounded in time and size (urllib only), for the download helpers.

:func:`_request` gives every request a total deadline, enforced by the socket
time-outs, a check between reads, and a watchdog that shuts the socket down
when a server sends its headers or body too slowly; and a size cap checked on
the announced and the received length.
"""

import http.client
import socket
import threading
import time
import urllib.request

_USER_AGENT = "sktags (+https://github.com/; research dataset tools)"
_CHUNK = 1 << 16


class DownloadError(OSError):
    """A download failed for good (after the allowed retries).

    Parameters
    ----------
    url : str
        The URL that failed.
    reason : str
        One line saying why.
    retryable : bool, default=False
        Whether retrying later may cure the failure.

    Attributes
    ----------
    url : str
        The URL that failed.
    reason : str
        One line saying why (HTTP status, network error, truncated body...).
    retryable : bool
        Whether the last failure was of a kind that retrying may cure
        (network error, 5xx, 429, truncated body).
    """

    def __init__(self, url, reason, *, retryable=False):
        self.url = url
        self.reason = reason
        self.retryable = retryable
        super().__init__(f"could not download {url}: {reason}")


class _Transient(Exception):
    """Internal: a failure that another attempt may cure."""


class _Watchdog:
    """Shuts a request's socket down at its deadline, whatever is blocked on it.

    The socket time-out bounds each read; a server that sends its status line
    and headers one byte at a time would still hold ``urlopen`` for as long as
    it likes. At the deadline the watchdog shuts the socket down, which ends
    any blocked read at once.
    """

    def __init__(self, seconds):
        self.fired = False
        self._sock = None
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _shutdown(self):
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except (OSError, AttributeError):
            pass

    def _fire(self):
        with self._lock:
            self.fired = True
            if self._sock is not None:
                self._shutdown()

    def register(self, sock):
        with self._lock:
            self._sock = sock
            if self.fired:
                self._shutdown()

    def cancel(self):
        self._timer.cancel()


def _opener(watchdog):
    """A urllib opener whose connections register their socket with ``watchdog``."""

    class _HTTPConnection(http.client.HTTPConnection):
        def connect(self):
            super().connect()
            watchdog.register(self.sock)

    class _HTTPSConnection(http.client.HTTPSConnection):
        def connect(self):
            super().connect()
            watchdog.register(self.sock)

    class _HTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(_HTTPConnection, req)

    class _HTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req):
            kwargs = {"context": getattr(self, "_context", None)}
            if hasattr(self, "_check_hostname"):  # Python < 3.12
                kwargs["check_hostname"] = self._check_hostname
            return self.do_open(_HTTPSConnection, req, **kwargs)

    return urllib.request.build_opener(_HTTPHandler, _HTTPSHandler)


def _open(url, timeout, watchdog):
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    return _opener(watchdog).open(request, timeout=timeout)


def _too_slow(timeout, n):
    return _Transient(f"no complete response within the {timeout:g} s time limit "
                      f"({n:,} bytes received)")


def _request(url, sink, *, timeout, max_bytes=None):
    """GET ``url`` into ``sink`` within ``timeout`` seconds in all; the body size."""
    deadline = time.monotonic() + timeout
    watchdog = _Watchdog(timeout)
    try:
        try:
            response = _open(url, timeout, watchdog)
        except (OSError, http.client.HTTPException):
            if watchdog.fired:
                raise _too_slow(timeout, 0) from None
            raise
        with response:
            return _read_body(response, sink, url=url, deadline=deadline, timeout=timeout,
                              max_bytes=max_bytes, watchdog=watchdog)
    finally:
        watchdog.cancel()


def _set_read_timeout(response, seconds):
    """Bound the next socket read by what is left of the request's deadline."""
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        try:
            sock.settimeout(max(seconds, 0.001))
        except OSError:
            pass


def _read_body(response, sink, *, url, deadline, timeout, max_bytes=None, watchdog=None):
    """Copy the body to ``sink``; raise _Transient when it is cut short or too slow.

    ``deadline`` (``time.monotonic()``) bounds the whole request, however the
    server paces its bytes; a body over ``max_bytes`` (announced or received)
    fails at once without being read further.
    """
    expected = response.headers.get("Content-Length")
    expected = int(expected) if expected is not None and expected.strip().isdigit() else None
    if max_bytes is not None and expected is not None and expected > max_bytes:
        raise DownloadError(url, f"response too large ({expected:,} bytes announced, "
                                 f"limit {max_bytes:,})")
    n = 0

    def too_slow():
        return _too_slow(timeout, n)

    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise too_slow()
        _set_read_timeout(response, left)
        # read1: return what one socket read gives, so that the deadline is
        # checked however slowly the server sends (read() would wait for a
        # whole chunk).
        try:
            chunk = response.read1(_CHUNK)
        except (OSError, http.client.HTTPException):
            if (watchdog is not None and watchdog.fired) or time.monotonic() >= deadline - 0.01:
                raise too_slow() from None
            raise
        if watchdog is not None and watchdog.fired:
            raise too_slow()  # the end of the body was the watchdog's shutdown
        if not chunk:
            break
        n += len(chunk)
        if max_bytes is not None and n > max_bytes:
            raise DownloadError(url, f"response too large (over the {max_bytes:,}-byte limit)")
        sink(chunk)
    if expected is not None and n != expected:
        raise _Transient(f"truncated body ({n} of {expected} bytes)")
    return n
