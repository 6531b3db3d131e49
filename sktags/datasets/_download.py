"""HTTP GET with bounded retries, and atomic file downloads (urllib only).

Shared by the Zenodo download of the released dataset and the Deezer preview
fetcher. Nothing here knows about either service.
"""

import hashlib
import http.client
import time
import urllib.error
import urllib.request
from pathlib import Path

from ..utils._atomic import atomic_path

__all__ = ["DownloadError", "http_get", "download_file"]

_USER_AGENT = "sktags (+https://github.com/; research dataset tools)"
_CHUNK = 1 << 16
# Statuses worth asking again: rate limits and server-side failures.
_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


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


def _describe(exc):
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        if isinstance(reason, BaseException):
            return f"{type(reason).__name__}: {reason}".rstrip(": ")
        return str(reason)
    if isinstance(exc, http.client.IncompleteRead):
        return f"truncated body ({len(exc.partial)} bytes read, {exc.expected} more expected)"
    return f"{type(exc).__name__}: {exc}".rstrip(": ")


def _sleep_before_retry(attempt, backoff, retry_after=None):
    delay = backoff * (2**attempt)
    if retry_after is not None:
        try:
            delay = max(delay, min(float(retry_after), 60.0))
        except ValueError:  # an HTTP date: fall back to the exponential delay
            pass
    if delay > 0:
        time.sleep(delay)


def _with_retries(url, attempt_fn, *, max_retries, backoff):
    """Call ``attempt_fn()`` until it succeeds, at most ``1 + max_retries`` times."""
    if max_retries < 0:
        raise ValueError(f"max_retries must be >= 0, got {max_retries}.")
    last = None
    for attempt in range(max_retries + 1):
        retry_after = None
        try:
            return attempt_fn()
        except DownloadError:
            raise
        except urllib.error.HTTPError as exc:
            exc.close()
            if exc.code not in _RETRY_STATUSES:
                raise DownloadError(url, _describe(exc), retryable=False) from None
            last = _describe(exc)
            retry_after = exc.headers.get("Retry-After") if exc.headers else None
        except (OSError, http.client.HTTPException, _Transient) as exc:
            # URLError, time-outs, resets, SSL errors... are all OSErrors.
            last = _describe(exc)
        if attempt < max_retries:
            _sleep_before_retry(attempt, backoff, retry_after)
    tries = "1 attempt" if max_retries == 0 else f"{max_retries + 1} attempts"
    raise DownloadError(url, f"{last} (after {tries})", retryable=True)


def _open(url, timeout):
    request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    return urllib.request.urlopen(request, timeout=timeout)  # noqa: S310 (http(s) only)


def _check_scheme(url):
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"only http(s) URLs are supported, got {url!r}.")


def _read_body(response, sink):
    """Copy the body to ``sink``; raise _Transient when it is cut short."""
    expected = response.headers.get("Content-Length")
    n = 0
    while True:
        chunk = response.read(_CHUNK)
        if not chunk:
            break
        sink(chunk)
        n += len(chunk)
    if expected is not None and expected.isdigit() and n != int(expected):
        raise _Transient(f"truncated body ({n} of {int(expected)} bytes)")
    return n


def http_get(url, *, timeout=30, max_retries=3, backoff=0.5):
    """GET ``url`` and return its body as bytes, retrying transient failures.

    Network errors, time-outs, truncated bodies and HTTP 408/425/429/5xx are
    retried up to ``max_retries`` times with exponential backoff
    (``backoff * 2**attempt`` seconds, at least the server's ``Retry-After``
    up to 60 s). Other HTTP errors fail at once.

    Parameters
    ----------
    url : str
        An ``http://`` or ``https://`` URL.
    timeout : float, default=30
        Socket time-out of each attempt, in seconds.
    max_retries : int, default=3
        Extra attempts after the first.
    backoff : float, default=0.5
        Base delay of the exponential backoff, in seconds.

    Returns
    -------
    body : bytes

    Raises
    ------
    DownloadError
        When every attempt failed, or on a non-retryable HTTP error.
    """
    _check_scheme(url)

    def attempt():
        parts = []
        with _open(url, timeout) as response:
            _read_body(response, parts.append)
        return b"".join(parts)

    return _with_retries(url, attempt, max_retries=max_retries, backoff=backoff)


def download_file(url, path, *, timeout=30, max_retries=3, backoff=0.5, md5=None, check=None):
    """Download ``url`` to ``path`` atomically, retrying transient failures.

    The body goes to a temporary file in the destination folder, which
    replaces ``path`` (``os.replace``) only once the whole body has arrived
    (its length matches ``Content-Length``) and, when ``md5`` is given, its
    checksum matches. A failed or interrupted download never leaves a partial
    file at ``path``.

    Parameters
    ----------
    url : str
        An ``http://`` or ``https://`` URL.
    path : str or path-like
        Destination file; its folder is created when missing.
    timeout : float, default=30
        Socket time-out of each attempt, in seconds.
    max_retries : int, default=3
        Extra attempts after the first.
    backoff : float, default=0.5
        Base delay of the exponential backoff, in seconds.
    md5 : str or None, default=None
        Expected hexadecimal MD5 of the body. A mismatch is retried like a
        truncated body, then raises.
    check : callable or None, default=None
        ``check(first_bytes)`` receives the first 64 bytes of the complete
        body and returns None when they look right, or a one-line reason,
        which fails the download at once (no retry). For example, a check
        that the body is an MP3 and not an HTML error page.

    Returns
    -------
    n_bytes : int
        Size of the downloaded file.

    Raises
    ------
    DownloadError
        When every attempt failed, or on a non-retryable HTTP error.
    """
    _check_scheme(url)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def attempt():
        with atomic_path(path, prefix=f".{path.name}.", suffix=".part") as tmp:
            digest = hashlib.md5(usedforsecurity=False) if md5 else None
            with open(tmp, "wb") as out, _open(url, timeout) as response:

                def sink(chunk):
                    out.write(chunk)
                    if digest is not None:
                        digest.update(chunk)

                n = _read_body(response, sink)
            if digest is not None and digest.hexdigest() != md5.lower():
                raise _Transient(f"MD5 mismatch (got {digest.hexdigest()}, expected {md5})")
            if check is not None:
                with open(tmp, "rb") as f:
                    problem = check(f.read(64))
                if problem:
                    raise DownloadError(url, problem, retryable=False)
        return n

    return _with_retries(url, attempt, max_retries=max_retries, backoff=backoff)
