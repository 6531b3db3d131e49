"""load_context_tags, the bundled copy, the Zenodo download and the download helper."""

import csv
import gzip
import os

import numpy as np
import pytest

from _http import LoopbackServer, Response, closed_port_url
from sktags import CONTEXTS
from sktags.datasets import DownloadError, get_data_home, load_context_tags
from sktags.datasets import _released
from sktags.datasets._download import download_file, http_get

HEADER = "song_id," + ",".join(CONTEXTS) + "\n"


@pytest.fixture(scope="module")
def released():
    return load_context_tags()


@pytest.fixture(scope="module")
def bundled_bytes():
    return gzip.decompress(_released._BUNDLED.read_bytes())


def _row(tid, values):
    return f"{tid}," + ",".join(str(v) for v in values) + "\n"


# ---------------------------------------------------------------- bundled copy


def test_bundled_copy_is_the_released_file(deezer_dir, bundled_bytes):
    assert bundled_bytes == (deezer_dir / "Context_tags_dataset.csv").read_bytes()


def test_bundled_copy_has_attribution():
    folder = _released._BUNDLED.parent
    text = "".join(p.read_text() for p in folder.iterdir() if p.suffix in (".md", ".txt", ""))
    assert "3648287" in text and "Ibrahim" in text


def test_load_shapes_and_known_statistics(released):
    assert released.track_ids.shape == (49929,)
    assert released.track_ids.dtype == np.int64
    assert np.unique(released.track_ids).size == 49929
    assert released.target.shape == (49929, 15)
    assert released.target.dtype == np.uint8
    assert released.target_names == list(CONTEXTS)
    # Facts stated in the paper and the protocol notes.
    assert released.target.sum(axis=1).mean() == pytest.approx(7.2, abs=0.05)
    assert int((released.target.sum(axis=1) == 15).sum()) == 2670
    assert released.target.sum(axis=1).min() >= 1
    assert "3648287" in released.DESCR and "Ibrahim" in released.DESCR
    assert "playlist_counts" not in released and "artist_ids" not in released


def test_load_matches_csv_module_parse(released, bundled_bytes):
    rows = list(csv.reader(bundled_bytes.decode().splitlines()))
    assert rows[0] == ["song_id", *CONTEXTS]
    for i in (0, 1, 12345, len(rows) - 2):
        assert released.track_ids[i] == int(rows[i + 1][0])
        assert released.target[i].tolist() == [int(v) for v in rows[i + 1][1:]]


def test_return_X_y(released):
    X, y = load_context_tags(return_X_y=True)
    np.testing.assert_array_equal(X, released.track_ids)
    np.testing.assert_array_equal(y, released.target)


# ---------------------------------------------------------- companion files


def test_real_counts_file_aligns(deezer_dir, released):
    data = load_context_tags(counts_file=deezer_dir / "balanced_ground_truth_track_count.csv")
    C, Y = data.playlist_counts, data.target
    assert C.shape == Y.shape and C.dtype == np.int64
    # The protocol notes count the messy entries of the real data; a
    # misalignment would make these numbers explode.
    assert int(((Y == 1) & (C == 0)).sum()) == 22
    assert int(((Y == 0) & (C > 0)).sum()) == 14
    assert C[(Y == 1) & (C > 0)].min() == 3
    # One track looked up by hand in the counts file (its first data row).
    i = int(np.flatnonzero(data.track_ids == 204074)[0])
    assert C[i].tolist() == [0, 0, 58, 349, 12, 0, 20, 19, 0, 20, 0, 0, 7, 0, 0]


def test_real_artists_file_aligns(deezer_dir, released):
    path = deezer_dir / "ground_truth_folds.csv"
    data = load_context_tags(artists_file=path)
    found = data.artist_ids >= 0
    assert int(found.sum()) == 48582
    assert int((~found).sum()) == 49929 - 48582
    assert set(np.unique(data.folds[found]).tolist()) == {0, 1, 2, 3}
    assert (data.folds[~found] == -1).all()
    # The label column of the folds file must agree with the target rows.
    with open(path, newline="") as f:
        reader = csv.reader(f)
        next(reader)
        by_id = {int(r[0]): r for r in reader}
    for i in np.flatnonzero(found)[::97]:
        r = by_id[int(data.track_ids[i])]
        assert int(r[2]) == data.artist_ids[i] and int(r[3]) == data.folds[i]
        names = {CONTEXTS[j] for j in np.flatnonzero(data.target[i])}
        assert set(r[1].split("\t")) == names


def test_companion_files_align_on_id_with_other_orders(tmp_path, monkeypatch):
    labels = tmp_path / "labels.csv"
    labels.write_text(HEADER + _row(7, [1] + [0] * 14) + _row(3, [0] * 14 + [1]))
    monkeypatch.setattr(_released, "_BUNDLED", labels)
    # Counts: other row order, other column order, an extra track, gzip.
    cols = list(reversed(CONTEXTS))
    counts = tmp_path / "counts.csv.gz"
    with gzip.open(counts, "wt") as f:
        f.write("song_id," + ",".join(cols) + "\n")
        f.write(_row(3, [9] + [0] * 14))  # workout = 9
        f.write(_row(99, [1] * 15))
        f.write(_row(7, [0] * 14 + [4]))  # car = 4
    artists = tmp_path / "folds.csv"
    # Saved by a spreadsheet: a byte-order mark and CRLF line ends.
    artists.write_bytes(b'\xef\xbb\xbfsong_id,label,artist_id,fold\r\n3,"workout",55,2\r\n')
    data = load_context_tags(counts_file=counts, artists_file=artists)
    assert data.track_ids.tolist() == [7, 3]
    assert data.playlist_counts[0].tolist() == [4] + [0] * 14
    assert data.playlist_counts[1].tolist() == [0] * 14 + [9]
    assert data.artist_ids.tolist() == [-1, 55]
    assert data.folds.tolist() == [-1, 2]


def test_artists_file_without_fold_column(tmp_path):
    artists = tmp_path / "a.csv"
    artists.write_text("song_id,artist_id\n92310738,4\n")
    data = load_context_tags(artists_file=artists)
    assert "folds" not in data
    assert data.artist_ids[0] == 4 and (data.artist_ids[1:] == -1).all()


@pytest.mark.parametrize(
    "content, match",
    [
        ("track,car\n1,0\n", "first column must be 'song_id'"),
        ("song_id,car,chill\n1,0,1\n", "expected the 15 context columns"),
        (HEADER + _row(5, [0] * 14 + [-7]), r"invalid counts value -7 for song_id 5 .*'workout'"),
        (HEADER + _row(92310738, [0] * 15) + _row(92310738, [0] * 15), "duplicated song_id"),
        (HEADER + "1,a,b\n", "line 2 has 3 fields, the header has 16"),
        (HEADER + _row(3, [0] * 15) + "4," + "0," * 14 + "x\n",
         r"could not parse the counts as integers: 'x' at line 3, column 'workout'"),
        (HEADER + _row(3, [0] * 15) + "4," + "0," * 13 + "0\n", "line 3 has 15 fields"),
        (HEADER + "4," + "0," * 13 + "0\n", "line 2 has 15 fields"),
        (HEADER + _row(92310738, [1] * 15), "have no row"),
    ],
)
def test_bad_counts_file_names_the_file(tmp_path, content, match):
    path = tmp_path / "bad_counts.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=match) as info:
        load_context_tags(counts_file=path)
    assert "bad_counts.csv" in str(info.value)


def test_bad_label_value_names_row_and_column(tmp_path, monkeypatch):
    labels = tmp_path / "labels.csv"
    labels.write_text(HEADER + _row(7, [1] * 15) + _row(8, [0, 0, 2] + [0] * 12))
    monkeypatch.setattr(_released, "_BUNDLED", labels)
    with pytest.raises(ValueError, match=r"song_id 8 .*'club'"):
        load_context_tags()


def test_missing_companion_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.csv"):
        load_context_tags(artists_file=tmp_path / "nope.csv")


# --------------------------------------------------------------- download


ROUTE = "/records/3648287/files/Context_tags_dataset.csv"


@pytest.fixture
def server(monkeypatch):
    monkeypatch.setattr(_released, "_DOWNLOAD_BACKOFF", 0.0)
    with LoopbackServer() as srv:
        monkeypatch.setattr(_released, "ZENODO_URL", srv.url(ROUTE))
        yield srv


def _no_leftovers(folder):
    return [p.name for p in folder.iterdir() if p.name.endswith(".part")] == []


def test_download_then_cache(server, tmp_path, bundled_bytes, released):
    server.route(ROUTE, Response(200, bundled_bytes))
    data = load_context_tags(download=True, data_home=tmp_path)
    np.testing.assert_array_equal(data.track_ids, released.track_ids)
    np.testing.assert_array_equal(data.target, released.target)
    assert (tmp_path / "Context_tags_dataset.csv").read_bytes() == bundled_bytes
    assert server.hits[ROUTE] == 1
    load_context_tags(download=True, data_home=tmp_path)  # cached: no request
    assert server.hits[ROUTE] == 1
    assert _no_leftovers(tmp_path)


def test_download_retries_5xx_and_truncation(server, tmp_path, bundled_bytes):
    server.route(
        ROUTE,
        Response(503, b"busy"),
        Response(200, bundled_bytes, truncate=1000),
        Response(200, bundled_bytes),
    )
    data = load_context_tags(download=True, data_home=tmp_path)
    assert data.target.shape == (49929, 15)
    assert server.hits[ROUTE] == 3
    assert _no_leftovers(tmp_path)


def test_download_rejects_wrong_bytes_atomically(server, tmp_path, bundled_bytes):
    server.route(ROUTE, Response(200, bundled_bytes.replace(b"0,1", b"1,1", 1)))
    with pytest.raises(DownloadError, match="MD5 mismatch"):
        load_context_tags(download=True, data_home=tmp_path)
    assert not (tmp_path / "Context_tags_dataset.csv").exists()
    assert _no_leftovers(tmp_path)


def test_download_offline_gives_one_line_error(monkeypatch, tmp_path):
    monkeypatch.setattr(_released, "_DOWNLOAD_BACKOFF", 0.0)
    monkeypatch.setattr(_released, "ZENODO_URL", closed_port_url(ROUTE))
    with pytest.raises(DownloadError) as info:
        load_context_tags(download=True, data_home=tmp_path / "cache")
    message = str(info.value)
    assert "\n" not in message
    assert "offline" in message and "127.0.0.1" in message
    assert not (tmp_path / "cache" / "Context_tags_dataset.csv").exists()


def test_get_data_home(monkeypatch, tmp_path):
    monkeypatch.setenv("SKTAGS_DATA", str(tmp_path / "env"))
    assert get_data_home() == tmp_path / "env"
    assert get_data_home(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv("SKTAGS_DATA")
    assert get_data_home() == get_data_home("~/sktags_data")
    assert "~" not in str(get_data_home())


def test_http_get_does_not_retry_client_errors(tmp_path):
    with LoopbackServer() as srv:
        srv.route("/gone", Response(410, b"gone"))
        with pytest.raises(DownloadError, match="HTTP 410") as info:
            http_get(srv.url("/gone"), backoff=0)
        assert srv.hits["/gone"] == 1
        assert not info.value.retryable


def test_http_get_gives_up_after_max_retries():
    with LoopbackServer() as srv:
        srv.route("/flaky", Response(500, b"x"))
        with pytest.raises(DownloadError, match=r"HTTP 500.*after 3 attempts"):
            http_get(srv.url("/flaky"), max_retries=2, backoff=0)
        assert srv.hits["/flaky"] == 3


def test_download_file_replaces_atomically(tmp_path):
    dest = tmp_path / "sub" / "f.bin"
    with LoopbackServer() as srv:
        srv.route("/f", Response(200, b"new content"))
        srv.route("/cut", Response(200, b"0123456789" * 100, truncate=10))
        assert download_file(srv.url("/f"), dest, backoff=0) == 11
        assert dest.read_bytes() == b"new content"
        with pytest.raises(DownloadError, match="truncated"):
            download_file(srv.url("/cut"), dest, max_retries=1, backoff=0)
    assert dest.read_bytes() == b"new content"  # the old file survives a failure
    assert sorted(os.listdir(dest.parent)) == ["f.bin"]


def test_download_rejects_non_http_urls(tmp_path):
    with pytest.raises(ValueError, match="http"):
        download_file("file:///etc/passwd", tmp_path / "x")
