"""HTTP GET with bounded retries, and atomic file downloads (urllib only).

Shared by the Zenodo download of the released dataset and the Deezer preview
fetcher. Nothing here knows about either service.
"""

import hashlib
import http.client
import time
import urllib.error
from pathlib import Path

from ..utils import atomic_path
from ._request import _CHUNK, DownloadError, _request, _Transient

__all__ = ["DownloadError", "http_get", "download_file", "cached_download", "file_md5"]

# Statuses worth asking again: rate limits and server-side failures.
_RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})


def _describe(exc):
    if isinstance(exc, urllib.error.HTTPError):
        return f"HTTP {exc.code} {exc.reason}"
    if isinstance(exc, urllib.error.URLError):
        reason = exc.reason
        if isinstance(reason, BaseException):
            return f"{type(reason).__name__}: {reason}".rstrip(": ")
        return str(reason)
    if isinstance(exc, _Transient):
        return str(exc)
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


def _check_request(url, timeout, max_bytes):
    """The checks of a download's arguments, before any attempt."""
    if not url.lower().startswith(("http://", "https://")):
        raise ValueError(f"only http(s) URLs are supported, got {url!r}.")
    if not (isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")
    if max_bytes is not None and not (
        isinstance(max_bytes, int) and not isinstance(max_bytes, bool) and max_bytes > 0
    ):
        raise ValueError(f"max_bytes must be None or a positive integer, got {max_bytes!r}.")


def http_get(url, *, timeout=30, max_retries=3, backoff=0.5, max_bytes=None):
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
        Time limit of each attempt, in seconds: connecting, the headers and
        the whole body, however slowly the server sends it.
    max_retries : int, default=3
        Extra attempts after the first.
    backoff : float, default=0.5
        Base delay of the exponential backoff, in seconds.
    max_bytes : int or None, default=None
        Largest body accepted; a larger one (announced or received) fails at
        once, without retry and without being read whole.

    Returns
    -------
    body : bytes

    Raises
    ------
    DownloadError
        When every attempt failed, or on a non-retryable HTTP error.
    """
    _check_request(url, timeout, max_bytes)

    def attempt():
        parts = []
        _request(url, parts.append, timeout=timeout, max_bytes=max_bytes)
        return b"".join(parts)

    return _with_retries(url, attempt, max_retries=max_retries, backoff=backoff)


def download_file(
    url, path, *, timeout=30, max_retries=3, backoff=0.5, md5=None, check=None,
    max_bytes=None, validate=None,
):
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
    timeout, max_retries, backoff : float, int, float
        The time limit of each attempt and the retries, as in :func:`http_get`.
    md5 : str or None, default=None
        Expected hexadecimal MD5 of the body. A mismatch is retried like a
        truncated body, then raises.
    max_bytes : int or None, default=None
        Largest body accepted; a larger one fails at once, without retry.
    validate : callable or None, default=None
        ``validate(tmp_path)`` receives the path of the complete temporary
        file and returns None when its content is right, or a one-line reason
        (for example "does not decode as audio"), which fails the download at
        once (no retry); the file is then never put in place.
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
        As :func:`http_get`.
    """
    _check_request(url, timeout, max_bytes)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)

    def attempt():
        with atomic_path(path, prefix=f".{path.name}.", suffix=".part") as tmp:
            digest = hashlib.md5(usedforsecurity=False) if md5 else None
            with open(tmp, "wb") as out:

                def sink(chunk):
                    out.write(chunk)
                    if digest is not None:
                        digest.update(chunk)

                n = _request(url, sink, timeout=timeout, max_bytes=max_bytes)
            if digest is not None and digest.hexdigest() != md5.lower():
                raise _Transient(f"MD5 mismatch (got {digest.hexdigest()}, expected {md5})")
            if check is not None:
                with open(tmp, "rb") as f:
                    problem = check(f.read(64))
                if problem:
                    raise DownloadError(url, problem, retryable=False)
            if validate is not None:
                problem = validate(tmp)
                if problem:
                    raise DownloadError(url, problem, retryable=False)
        return n

    return _with_retries(url, attempt, max_retries=max_retries, backoff=backoff)


def file_md5(path):
    """Hexadecimal MD5 of a file, read in chunks.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    md5 : str
    """
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK * 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cached_download(url, path, *, md5, size=None, **kwargs):
    """Return ``path`` once it holds the expected file, downloading it if needed.

    A file already at ``path`` is checked first, size then MD5, so that a copy
    truncated or altered since it was downloaded is never returned: it is
    downloaded again (atomically, over the bad copy) and checked the same way.

    Parameters
    ----------
    url : str
        Where to download the file from.
    path : str or path-like
        The cached copy.
    md5 : str
        Expected hexadecimal MD5 of the file.
    size : int or None, default=None
        Expected size in bytes, checked before the (slower) MD5.
    **kwargs
        Passed to :func:`download_file` (``timeout``, ``max_retries``,
        ``backoff``...).

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    DownloadError
        When the download fails, or the downloaded file does not match.
    """
    path = Path(path)

    def problem():
        actual = path.stat().st_size
        if size is not None and actual != size:
            return f"{actual:,} bytes instead of {size:,}"
        digest = file_md5(path)
        return None if digest == md5.lower() else f"MD5 {digest} instead of {md5}"

    if path.is_file() and problem() is None:
        return path
    download_file(url, path, md5=md5, **kwargs)
    reason = problem()
    if reason is not None:  # only if the file changed under us
        raise DownloadError(url, f"the downloaded file {str(path)!r} does not match: {reason}")
    return path
