"""fetch_deezer_previews against a loopback server that imitates the Deezer API."""

import json

import numpy as np
import pytest

from _http import LoopbackServer, Response, closed_port_url
from sktags.datasets import fetch_deezer_previews

MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 40  # ~10 kB, MP3-like start


def mp3(tid):
    return MP3 + str(tid).encode()


def api_ok(srv, tid):
    return Response(200, json.dumps({"id": tid, "preview": srv.url(f"/preview/{tid}.mp3")}).encode())


def error_json(code, message, type_="DataException"):
    return Response(200, json.dumps({"error": {"type": type_, "message": message, "code": code}}).encode())


@pytest.fixture
def api():
    """A fake API: one scripted behaviour per track id."""
    with LoopbackServer() as srv:
        srv.route("/track/1", api_ok(srv, 1))  # preview available
        srv.route("/preview/1.mp3", Response(200, mp3(1)))
        srv.route("/track/2", Response(200, b'{"id": 2, "preview": ""}'))  # no preview
        srv.route("/track/3", error_json(800, "no data"))  # unknown track
        srv.route("/track/4", Response(500, b"oops"), api_ok(srv, 4))  # flaky API
        srv.route("/preview/4.mp3", Response(200, mp3(4)))
        srv.route("/track/5", api_ok(srv, 5))  # truncated download, then complete
        srv.route("/preview/5.mp3", Response(200, mp3(5), truncate=100), Response(200, mp3(5)))
        srv.route("/track/6", error_json(4, "Quota limit exceeded", "Exception"), api_ok(srv, 6))
        srv.route("/preview/6.mp3", Response(503, b""), Response(200, mp3(6)))
        srv.route("/track/7", api_ok(srv, 7))  # the "MP3" is an HTML page
        srv.route("/preview/7.mp3", Response(200, b"<html>expired</html>"))
        srv.route("/track/8", Response(502, b"bad gateway"))  # always down
        srv.route("/track/9", Response(200, b"{not json"))
        # /track/10 has no route: HTTP 404
        yield srv


def fetch(srv, ids, folder, **kw):
    kw.setdefault("backoff", 0.0)
    kw.setdefault("n_jobs", 4)
    return fetch_deezer_previews(ids, folder, api_url=srv.url("/track/{id}"), **kw)


def test_statuses_files_and_reasons(api, tmp_path):
    report = fetch(api, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], tmp_path, max_retries=2)
    assert report.downloaded.tolist() == [1, 4, 5, 6]
    assert report.unavailable.tolist() == [2, 3, 10]
    assert report.failed.tolist() == [7, 8, 9]
    assert report.skipped.tolist() == []
    assert report.downloaded.dtype == np.int64
    for tid in (1, 4, 5, 6):
        assert (tmp_path / f"{tid}.mp3").read_bytes() == mp3(tid)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1.mp3", "4.mp3", "5.mp3", "6.mp3"]
    r = report.reasons
    assert r[2] == "no preview"
    assert "no data" in r[3] and "800" in r[3]
    assert "404" in r[10]
    assert "not an MP3" in r[7]
    assert "HTTP 502" in r[8] and "3 attempts" in r[8]
    assert "invalid JSON" in r[9]
    assert set(r) == {2, 3, 7, 8, 9, 10}
    assert report.directory == tmp_path
    # Retries are bounded: 1 + max_retries requests for the always-down track.
    assert api.hits["/track/8"] == 3
    assert api.hits["/track/4"] == 2 and api.hits["/preview/5.mp3"] == 2
    assert api.hits["/preview/7.mp3"] == 1  # a wrong body is not retried


def test_resume_skips_complete_files(api, tmp_path):
    first = fetch(api, [1, 2, 4], tmp_path)
    assert first.downloaded.tolist() == [1, 4]
    hits = dict(api.hits)
    second = fetch(api, [4, 1, 2, 1], tmp_path)  # duplicates fetched once
    assert second.skipped.tolist() == [4, 1]
    assert second.downloaded.tolist() == []
    assert second.unavailable.tolist() == [2]
    assert api.hits["/track/1"] == hits["/track/1"]  # no request for skipped tracks
    assert api.hits["/track/2"] == hits["/track/2"] + 1
    again = fetch(api, [1], tmp_path, overwrite=True)
    assert again.downloaded.tolist() == [1]
    assert api.hits["/preview/1.mp3"] == hits["/preview/1.mp3"] + 1


def test_failed_download_leaves_no_partial_file(api, tmp_path):
    api.route("/preview/5.mp3", Response(200, mp3(5), truncate=100))  # always cut short
    report = fetch(api, [5], tmp_path, max_retries=1)
    assert report.failed.tolist() == [5]
    assert "truncated" in report.reasons[5]
    assert list(tmp_path.iterdir()) == []
    # A leftover empty file (not written by us) is not taken as complete.
    (tmp_path / "1.mp3").write_bytes(b"")
    assert fetch(api, [1], tmp_path).downloaded.tolist() == [1]


def test_quota_error_gives_up_after_retries(api, tmp_path):
    api.route("/track/6", error_json(4, "Quota limit exceeded", "Exception"))
    report = fetch(api, [6], tmp_path, max_retries=2)
    assert report.failed.tolist() == [6]
    assert "Quota" in report.reasons[6]
    assert api.hits["/track/6"] == 3


def test_offline(tmp_path):
    url = closed_port_url("/track/{id}")
    report = fetch_deezer_previews([1, 2], tmp_path, api_url=url, backoff=0, max_retries=1)
    assert report.failed.tolist() == [1, 2]
    assert "Connection" in report.reasons[1] or "refused" in report.reasons[1]


def test_verbose_summary(api, tmp_path, capsys):
    fetch(api, [1, 2], tmp_path, verbose=1, n_jobs=1)
    out = capsys.readouterr().out
    assert "1 downloaded" in out and "1 unavailable" in out


def test_track_id_forms(api, tmp_path):
    report = fetch(api, np.array([1, 2]), tmp_path)
    assert report.downloaded.tolist() == [1]
    report = fetch(api, ["1", 2.0], tmp_path)
    assert report.skipped.tolist() == [1] and report.unavailable.tolist() == [2]
    assert fetch(api, 1, tmp_path).skipped.tolist() == [1]


@pytest.mark.parametrize(
    "ids, kw, match",
    [
        (["abc"], {}, r"track_ids\[0\]"),
        ([1, 2.5], {}, r"track_ids\[1\]"),
        ([-3], {}, "negative"),
        ([1], {"api_url": "http://x/track/"}, "placeholder"),
        ([1], {"max_retries": -1}, "max_retries"),
    ],
)
def test_input_errors(tmp_path, ids, kw, match):
    with pytest.raises(ValueError, match=match):
        fetch_deezer_previews(ids, tmp_path, **kw)
