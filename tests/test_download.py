"""sktags.datasets._download: the cached download is re-checked before it is returned."""

import hashlib

import pytest

from _http import LoopbackServer, Response
from sktags.datasets import DownloadError
from sktags.datasets._download import cached_download, file_md5

BODY = b"song_id,car\n" + b"1,0\n" * 5000
MD5 = hashlib.md5(BODY).hexdigest()


def test_file_md5_matches_hashlib(tmp_path):
    (tmp_path / "f").write_bytes(BODY * 30)  # several read chunks
    assert file_md5(tmp_path / "f") == hashlib.md5(BODY * 30).hexdigest()


def test_cached_copy_is_rechecked_and_downloaded_again(tmp_path):
    dest = tmp_path / "data.csv"
    with LoopbackServer() as srv:
        srv.route("/f", Response(200, BODY))
        url = srv.url("/f")
        assert cached_download(url, dest, md5=MD5, size=len(BODY), backoff=0) == dest
        assert srv.hits["/f"] == 1
        cached_download(url, dest, md5=MD5, size=len(BODY), backoff=0)
        assert srv.hits["/f"] == 1  # intact: no request
        # Truncated later (size differs): fetched again.
        dest.write_bytes(BODY[:100])
        cached_download(url, dest, md5=MD5, size=len(BODY), backoff=0)
        assert srv.hits["/f"] == 2 and dest.read_bytes() == BODY
        # Same size, other bytes (only the MD5 can tell): fetched again.
        dest.write_bytes(BODY.replace(b"1,0", b"1,1", 1))
        cached_download(url, dest, md5=MD5, size=len(BODY), backoff=0)
        assert srv.hits["/f"] == 3 and dest.read_bytes() == BODY
        # Without a known size the MD5 alone catches the truncation.
        dest.write_bytes(BODY[:-1])
        cached_download(url, dest, md5=MD5, backoff=0)
        assert srv.hits["/f"] == 4 and dest.read_bytes() == BODY


def test_truncated_cache_and_failing_server_is_one_line_error(tmp_path):
    dest = tmp_path / "data.csv"
    dest.write_bytes(BODY[:100])
    with LoopbackServer() as srv:
        srv.route("/f", Response(200, BODY[:-5] + b"xxxxx"))  # the server's copy is wrong too
        with pytest.raises(DownloadError, match="MD5 mismatch") as info:
            cached_download(srv.url("/f"), dest, md5=MD5, size=len(BODY), max_retries=1,
                            backoff=0)
    assert "\n" not in str(info.value)
    assert dest.read_bytes() == BODY[:100]  # nothing half-written over it


def test_load_context_tags_rechecks_its_cached_copy(tmp_path, monkeypatch):
    """The released dataset's cached download, truncated after it was made."""
    import gzip

    from sktags.datasets import _released, load_context_tags

    bundled = gzip.decompress(_released._BUNDLED.read_bytes())
    monkeypatch.setattr(_released, "_DOWNLOAD_BACKOFF", 0.0)
    with LoopbackServer() as srv:
        srv.route("/r.csv", Response(200, bundled))
        monkeypatch.setattr(_released, "ZENODO_URL", srv.url("/r.csv"))
        cached = tmp_path / _released.FILENAME
        cached.write_bytes(bundled[: len(bundled) // 2])  # a truncated cache
        data = load_context_tags(download=True, data_home=tmp_path)
        assert srv.hits["/r.csv"] == 1
    assert data.target.shape == (49929, 15)
    assert cached.read_bytes() == bundled and len(bundled) == _released.FILE_SIZE
