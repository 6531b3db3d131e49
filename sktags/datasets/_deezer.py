"""Download the 30 s Deezer previews of tracks through the public API."""

import json
import numbers
import string
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.utils import Bunch

from ..utils import first_line
from ._download import DownloadError, _sleep_before_retry, download_file, http_get
from ._mp3 import mp3_problem

__all__ = ["fetch_deezer_previews"]

DEEZER_TRACK_API = "https://api.deezer.com/track/{id}"
# Deezer answers these with HTTP 200 and an error JSON: 4 = quota exceeded
# (50 requests / 5 s per IP), 700 = service busy. Worth asking again.
_RETRYABLE_API_CODES = frozenset({4, 700})
#: Size caps: a track's API answer is under 10 kB, a 30 s preview about 0.5 MB.
API_MAX_BYTES = 1 << 20
PREVIEW_MAX_BYTES = 16 << 20


def check_api_url(api_url):
    """Raise ValueError unless ``api_url`` is an http(s) URL with one ``{id}`` and no other field.

    Parameters
    ----------
    api_url : str

    Returns
    -------
    api_url : str
    """
    if not isinstance(api_url, str) or not api_url.lower().startswith(("http://", "https://")):
        raise ValueError(f"api_url must be an http(s) URL, got {api_url!r}.")
    try:
        fields = [
            (name, spec, conv)
            for _, name, spec, conv in string.Formatter().parse(api_url)
            if name is not None
        ]
    except ValueError as exc:  # an unmatched brace
        raise ValueError(f"api_url {api_url!r} is not a valid template: {exc}.") from None
    if fields != [("id", "", None)]:
        raise ValueError(
            f"api_url must contain exactly one '{{id}}' placeholder and no other "
            f"'{{...}}' field (write a literal brace as '{{{{' or '}}}}'), got {api_url!r}."
        )
    return api_url


def _looks_like_mp3(head):
    """None for an MP3 start (ID3 tag or MPEG frame sync), else a reason."""
    if head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0):
        return None
    return f"the preview is not an MP3 (starts with {head[:16]!r})"


def _track_ids(track_ids):
    if isinstance(track_ids, (str, bytes)) or np.ndim(track_ids) == 0:
        track_ids = [track_ids]
    arr = np.asarray(track_ids, dtype=object).ravel()
    out = []
    for i, value in enumerate(arr):
        try:
            if isinstance(value, bool) or (
                isinstance(value, numbers.Real) and not float(value).is_integer()
            ):
                raise ValueError
            tid = int(value)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"track_ids[{i}] = {value!r} is not an integer track id.") from None
        if tid < 0:
            raise ValueError(f"track_ids[{i}] = {tid} is negative.")
        out.append(tid)
    return list(dict.fromkeys(out))  # unique, first-seen order


def _fetch_one(tid, directory, api_url, overwrite, max_retries, timeout, backoff):
    """(status, reason) for one track; never raises: any failure is this track's."""
    try:
        return _fetch_one_unsafe(tid, directory, api_url, overwrite, max_retries, timeout, backoff)
    except Exception as exc:  # noqa: BLE001 (one bad track must not end the batch)
        message = first_line(exc)[:200]
        return "failed", f"unexpected error: {type(exc).__name__}: {message}".rstrip(": ")


def _parse_api_json(body):
    """The API answer as a Python object, or raise ValueError with a one-line reason."""
    try:
        return json.loads(body.decode("utf-8"))
    except RecursionError:
        raise ValueError("API: malformed JSON (nested too deeply)") from None
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"API: invalid JSON ({body[:60]!r})") from None


def _fetch_one_unsafe(tid, directory, api_url, overwrite, max_retries, timeout, backoff):
    dest = directory / f"{tid}.mp3"
    if not overwrite and dest.is_file() and dest.stat().st_size > 0:
        return "skipped", ""
    url = api_url.format(id=tid)
    info = None
    for attempt in range(max_retries + 1):
        try:
            body = http_get(url, timeout=timeout, max_retries=max_retries, backoff=backoff,
                            max_bytes=API_MAX_BYTES)
        except DownloadError as exc:
            # A 404 from the API means the track does not exist.
            if "HTTP 404" in exc.reason:
                return "unavailable", "track not found (HTTP 404)"
            return "failed", f"API: {exc.reason}"
        try:
            info = _parse_api_json(body)
        except ValueError as exc:
            return "failed", str(exc)
        error = info.get("error") if isinstance(info, dict) else None
        if error is None:
            break
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message", error) if isinstance(error, dict) else error
        if code in _RETRYABLE_API_CODES and attempt < max_retries:
            _sleep_before_retry(attempt, backoff)
            continue
        if code in _RETRYABLE_API_CODES:
            return "failed", f"API error {code}: {message} (after {max_retries + 1} attempts)"
        return "unavailable", f"API error {code}: {message}"
    if not isinstance(info, dict):
        return "failed", f"API: unexpected JSON {str(info)[:60]!r}"
    preview = info.get("preview") or ""
    if not isinstance(preview, str) or not preview:
        return "unavailable", "no preview"
    try:
        download_file(
            preview,
            dest,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            check=_looks_like_mp3,
            max_bytes=PREVIEW_MAX_BYTES,
            validate=mp3_problem,
        )
    except (OSError, ValueError) as exc:  # DownloadError is an OSError
        return "failed", f"preview: {getattr(exc, 'reason', exc)}"
    return "downloaded", ""


def fetch_deezer_previews(
    track_ids,
    directory,
    *,
    n_jobs=8,
    max_retries=3,
    timeout=30,
    api_url=DEEZER_TRACK_API,
    overwrite=False,
    backoff=1.0,
    verbose=0,
):
    """Download the 30 s MP3 previews of Deezer tracks into a folder.

    For each track, GET the public track endpoint (no key needed), read the
    ``"preview"`` URL of its JSON and download the MP3 to
    ``directory/{track_id}.mp3``. About a quarter of the released dataset's
    tracks have no preview any more.

    - **Atomic**: each MP3 is written to a temporary file in ``directory``
      and renamed into place only when complete: its length matches
      ``Content-Length`` when the server sends one, its MPEG frames are all
      whole (a body cut short without ``Content-Length`` is caught here) and
      its start decodes. A file at ``{track_id}.mp3`` is always whole.
    - **Bounded**: every request has a total time limit (``timeout``) and a
      size limit (1 MiB for an API answer, 16 MiB for a preview), however
      slowly or however much the server sends.
    - **One bad track never ends the batch**: a malformed answer (invalid or
      deeply nested JSON, an oversized body...) fails that track, with its
      reason in the report, while the others finish.
    - **Resumable**: existing files are skipped (unless ``overwrite``); run
      it again after an interruption or for the failures.
    - **Retries**: network errors, time-outs, truncated bodies, HTTP 429 and
      5xx, and Deezer's "quota exceeded" (code 4) and "service busy"
      (code 700) answers are retried ``max_retries`` times with exponential
      backoff.
    - **Parallel**: joblib's threading backend (the work is I/O bound).

    Parameters
    ----------
    track_ids : array-like of int
        Deezer track ids; duplicates are fetched once.
    directory : str or path-like
        Destination folder, created when missing.
    n_jobs : int, default=8
        Concurrent downloads. Deezer allows about 50 API requests per 5 s
        per IP; more threads mostly earn quota errors.
    max_retries : int, default=3
        Extra attempts after the first, per request.
    timeout : float, default=30
        Time limit of each request, in seconds: connecting, the headers and
        the whole body.
    api_url : str, default="https://api.deezer.com/track/{id}"
        Track endpoint, with an ``{id}`` placeholder (for a mirror, a proxy or
        tests).
    overwrite : bool, default=False
        Download again even when the file exists.
    backoff : float, default=1.0
        Base delay of the exponential backoff, in seconds
        (``backoff * 2**attempt``).
    verbose : int, default=0
        Verbosity: joblib's progress messages, and above 0 a one-line
        summary.

    Returns
    -------
    report : :class:`~sklearn.utils.Bunch`
        With attributes ``downloaded``, ``skipped`` (already there),
        ``unavailable`` (the API has no preview for the track: empty
        ``"preview"``, error JSON such as "no data", or HTTP 404) and
        ``failed`` (could not be fetched now; retrying later may work), each
        an int64 array of track ids in input order; ``reasons``, a dict from
        the id of each unavailable or failed track to a one-line reason; and
        ``directory``, the destination as a :class:`pathlib.Path`.

    Raises
    ------
    ValueError
        If a track id is not a non-negative integer, ``timeout`` is not
        positive, or ``api_url`` is not an http(s) URL with exactly one
        ``{id}`` placeholder and no other ``{...}`` field.

    Examples
    --------
    Tracks whose file is already there are not requested at all:

    >>> import tempfile, pathlib
    >>> from sktags.datasets import fetch_deezer_previews
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "3135556.mp3").write_bytes(b"ID3...")
    >>> report = fetch_deezer_previews([3135556], folder)
    >>> report.skipped, report.downloaded
    (array([3135556]), array([], dtype=int64))
    """
    check_api_url(api_url)
    if isinstance(timeout, bool) or not isinstance(timeout, numbers.Real) or not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}.")
    if not isinstance(max_retries, numbers.Integral) or max_retries < 0:
        raise ValueError(f"max_retries must be a non-negative integer, got {max_retries!r}.")
    ids = _track_ids(track_ids)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    results = Parallel(n_jobs=n_jobs, backend="threading", verbose=verbose)(
        delayed(_fetch_one)(tid, directory, api_url, overwrite, max_retries, timeout, backoff)
        for tid in ids
    )
    by_status = {"downloaded": [], "skipped": [], "unavailable": [], "failed": []}
    reasons = {}
    for tid, (status, reason) in zip(ids, results):
        by_status[status].append(tid)
        if reason:
            reasons[tid] = reason
    report = Bunch(
        **{k: np.asarray(v, dtype=np.int64) for k, v in by_status.items()},
        reasons=reasons,
        directory=directory,
    )
    if verbose:
        print(
            f"fetch_deezer_previews: {len(report.downloaded)} downloaded, "
            f"{len(report.skipped)} skipped, {len(report.unavailable)} unavailable, "
            f"{len(report.failed)} failed in {time.perf_counter() - start:.1f} s"
        )
    return report
