"""fetch_deezer_previews and ``sktags fetch-previews`` against a loopback server.

The server imitates the Deezer API and, for the fault-injection tests, a hostile
one: deeply nested JSON, a body dripped one byte at a time, a body cut short
without Content-Length, an oversized body. Everything runs on 127.0.0.1.
"""

import io
import json
import time

import numpy as np
import pytest
import soundfile as sf

from _http import LoopbackServer, Response, closed_port_url
from sktags.cli import main
from sktags.datasets import fetch_deezer_previews


def _real_mp3(seconds=0.5, seed=0):
    buf = io.BytesIO()
    noise = np.random.RandomState(seed).standard_normal(int(22050 * seconds)) * 0.1
    sf.write(buf, noise.astype(np.float32), 22050, format="MP3")
    return buf.getvalue()


MP3 = _real_mp3()  # a real, decodable MP3 (libsndfile's encoder)


def mp3(tid):
    return MP3 + str(tid).encode()  # distinct files; trailing bytes after whole frames


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


def _one_line_usage_error(capsys, argv, *needles, status=2):
    got = main(argv)
    out, err = capsys.readouterr()
    assert got == status, (out, err)
    lines = [li for li in err.splitlines() if li.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]


# ------------------------------------------------------------ hostile servers


def test_deeply_nested_json_fails_that_track_only(api, tmp_path):
    api.route("/track/3", Response(200, b"[" * 100_000 + b"]" * 100_000))
    report = fetch(api, [1, 3, 4], tmp_path)
    assert report.downloaded.tolist() == [1, 4]
    assert report.failed.tolist() == [3]
    assert "nested too deeply" in report.reasons[3] and "\n" not in report.reasons[3]
    # A rerun does not abort at the same place either.
    again = fetch(api, [1, 3, 4], tmp_path)
    assert again.skipped.tolist() == [1, 4] and again.failed.tolist() == [3]


def test_any_unexpected_error_is_a_per_track_failure(api, tmp_path, monkeypatch):
    import sktags.datasets._deezer as deezer

    real = deezer._parse_api_json

    def explode_on_4(body):
        if b'"id": 4' in body:
            raise MemoryError("simulated")
        return real(body)

    monkeypatch.setattr(deezer, "_parse_api_json", explode_on_4)
    api.route("/track/4", api_ok(api, 4))
    report = fetch(api, [1, 4], tmp_path)
    assert report.downloaded.tolist() == [1] and report.failed.tolist() == [4]
    assert report.reasons[4] == "unexpected error: MemoryError: simulated"


def test_dripping_server_is_cut_at_the_total_time_limit(api, tmp_path):
    api.route("/preview/1.mp3", Response(200, mp3(1), drip=0.01))  # ~60 s to send it all
    api.route("/track/4", Response(200, json.dumps({"id": 4, "preview": ""}).encode(), drip=0.05))
    api.route("/preview/5.mp3", Response(200, mp3(5)))
    start = time.monotonic()
    report = fetch(api, [1, 4, 5], tmp_path, timeout=1.0, max_retries=0)
    elapsed = time.monotonic() - start
    assert elapsed < 6.0, elapsed  # each request is bounded by 1 s, not per read
    assert report.failed.tolist() == [1, 4] and report.downloaded.tolist() == [5]
    assert "1 s time limit" in report.reasons[1] and "1 s time limit" in report.reasons[4]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["5.mp3"]


def test_server_dripping_its_headers_is_cut_at_the_time_limit(tmp_path):
    from sktags.datasets import DownloadError
    from sktags.datasets._download import http_get

    with LoopbackServer() as srv:
        srv.route("/slow", Response(drip_headers=0.01))  # ~40 s of headers
        start = time.monotonic()
        with pytest.raises(DownloadError, match="1 s time limit"):
            http_get(srv.url("/slow"), timeout=1.0, max_retries=0)
        assert time.monotonic() - start < 4.0


def test_body_cut_short_without_content_length_is_not_kept(api, tmp_path):
    api.route("/preview/1.mp3", Response(200, MP3, content_length=False,
                                         truncate=len(MP3) // 2))
    api.route("/preview/4.mp3", Response(200, MP3, content_length=False))  # whole: kept
    api.route("/track/4", api_ok(api, 4))
    report = fetch(api, [1, 4], tmp_path, max_retries=0)
    assert report.failed.tolist() == [1] and report.downloaded.tolist() == [4]
    assert "cut short" in report.reasons[1]
    assert (tmp_path / "4.mp3").read_bytes() == MP3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["4.mp3"]


def test_cut_at_a_frame_boundary_is_caught_by_the_frame_count(tmp_path):
    from sktags.datasets._mp3 import mp3_problem
    from sktags.features._integrity import _frame

    data = _real_mp3(1.0)
    ends, pos = [], data.find(b"\xff")
    while (header := _frame(data, pos)) is not None:
        pos += header[0]
        ends.append(pos)
    cut = ends[len(ends) // 2]  # whole frames only, half of them
    (tmp_path / "cut.mp3").write_bytes(data[:cut])
    assert "frames its header announces" in mp3_problem(tmp_path / "cut.mp3")
    (tmp_path / "whole.mp3").write_bytes(data)
    assert mp3_problem(tmp_path / "whole.mp3") is None


def test_undecodable_preview_is_not_kept(api, tmp_path):
    api.route("/preview/1.mp3", Response(200, b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(4000)))
    report = fetch(api, [1], tmp_path, max_retries=0)
    assert report.failed.tolist() == [1]
    assert "no MPEG audio frame" in report.reasons[1]
    assert list(tmp_path.iterdir()) == []


def test_oversized_bodies_are_refused_without_reading_them(api, tmp_path):
    # Announced: 200 MB in Content-Length, refused before the body is read.
    api.route("/track/1", Response(200, b"{}", content_length=200_000_000))
    # Not announced: 3 MiB of JSON-ish bytes streamed, cut at the 1 MiB API limit.
    api.route("/track/4", Response(200, b"[" + b"0," * (3 << 20) + b"0]", content_length=False))
    api.route("/preview/5.mp3", Response(200, mp3(5)))
    report = fetch(api, [1, 4, 5], tmp_path, max_retries=2)
    assert report.failed.tolist() == [1, 4] and report.downloaded.tolist() == [5]
    assert "too large" in report.reasons[1] and "200,000,000" in report.reasons[1]
    assert "too large" in report.reasons[4]
    assert api.hits["/track/1"] == 1 and api.hits["/track/4"] == 1  # not retried


@pytest.mark.parametrize("url", ["http://x/track/{}", "http://x/track/{x}", "http://x/{id}/{id}",
                                 "http://x/{id:>5}", "http://x/{id!r}", "http://x/{id", "ftp://x/{id}"])
def test_bad_api_url_is_one_line(tmp_path, capsys, url):
    with pytest.raises(ValueError) as info:
        fetch_deezer_previews([1], tmp_path, api_url=url)
    assert "api_url" in str(info.value) and "\n" not in str(info.value)
    ids = tmp_path / "ids.txt"
    ids.write_text("1\n")
    # the library's ValueError, unchanged (exit status 1, as any refused option value)
    _one_line_usage_error(capsys, ["fetch-previews", str(ids), "-o", str(tmp_path / "o"),
                                   "--api-url", url], "api_url", status=1)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("opt, value, param", [
    ("--timeout", "0", "timeout"), ("--timeout", "-1", "timeout"), ("--jobs", "0", "n_jobs"),
    ("--retries", "-1", "max_retries")])
def test_bad_numbers_are_the_librarys_one_line_errors(tmp_path, capsys, opt, value, param):
    ids = tmp_path / "ids.txt"
    ids.write_text("1\n")
    _one_line_usage_error(capsys, ["fetch-previews", str(ids), "-o", str(tmp_path / "o"),
                                   opt, value], param, status=1)


# ------------------------------------------------------------ the command line


def test_cli_fetch_writes_the_report_and_finishes_the_batch(api, tmp_path, capsys):
    api.route("/track/3", Response(200, b"[" * 100_000 + b"]" * 100_000))
    ids = tmp_path / "ids.csv"
    ids.write_text("song_id,car\n1,1\n2,0\n3,1\n4,0\n")
    argv = ["fetch-previews", str(ids), "-o", str(tmp_path / "mp3"), "--api-url",
            api.url("/track/{id}"), "--jobs", "2", "--retries", "1",
            "--report", str(tmp_path / "problems.csv")]
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 1, (out, err)  # a failed track: run again later
    assert "Traceback" not in err
    assert "downloaded 2" in out and "no preview 1" in out and "failed 1" in out
    assert (tmp_path / "mp3" / "1.mp3").read_bytes() == mp3(1)
    report = (tmp_path / "problems.csv").read_text().splitlines()
    assert report[0] == "track_id,status,reason"
    assert report[1].startswith("2,unavailable,") and "no preview" in report[1]
    assert report[2].startswith("3,failed,") and "nested too deeply" in report[2]
    # A rerun resumes: the good files are skipped, the bad track fails again.
    assert main(argv) == 1
    out, _ = capsys.readouterr()
    assert "already there 2" in out and "failed 1" in out
