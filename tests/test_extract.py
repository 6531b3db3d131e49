"""extract_to_file: ragged whole-track layout, failures, full disks and killed runs."""

import errno
import os
import signal
import subprocess
import sys

import numpy as np
import pytest

from sktags.features import AudioDecodeWarning, MelSpectrogramTransformer, extract_to_file

FAST = dict(sr=8000, n_fft=256, hop_length=256, n_mels=16)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def audio(fixtures_dir):
    names = [
        "sorohanro_-_solo-trumpet-06.ogg",
        "Hungarian_Dance_number_5_excerpt.ogg",
        "Kevin_MacLeod_-_Vibe_Ace_excerpt_stereo.mp3",
    ]
    return [str(fixtures_dir / "audio" / name) for name in names]


def _clip(frames, offsets, i):
    return frames[offsets[i] : offsets[i + 1]].T[None]


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_ragged_layout_equals_transform_and_is_atomic(audio, tmp_path, dtype):
    X = audio + [np.ones(3001, np.float32), audio[0]]
    mel = MelSpectrogramTransformer(**FAST, offset=0.5, duration=None)
    ref = mel.transform(X)
    target = tmp_path / "out" / "tracks.npy"
    target.parent.mkdir()
    result = extract_to_file(X, target, transformer=mel, dtype=dtype)
    assert result.path == str(target) and result.offsets_path == str(tmp_path / "out" / "tracks.offsets.npy")
    assert result.failed.shape == (0,) and result.errors == []
    frames = np.load(target, mmap_mode="r")
    offsets = np.load(result.offsets_path)
    assert frames.dtype == np.dtype(dtype) and frames.shape == (offsets[-1], 16)
    assert offsets.dtype == np.int64 and offsets[0] == 0 and offsets.shape == (len(X) + 1,)
    np.testing.assert_array_equal(np.diff(offsets), [f.shape[2] for f in ref])
    for i, f in enumerate(ref):
        got = _clip(frames, offsets, i)
        assert got.shape == f.shape
        np.testing.assert_allclose(got.astype(np.float32), f, atol=2**-8 * 1.01 if dtype == "float16" else 0, rtol=2**-10)
    del frames
    assert sorted(os.listdir(target.parent)) == ["tracks.npy", "tracks.offsets.npy"]


def test_ragged_failures_have_no_frames_and_every_failure_is_returned(audio, tmp_path):
    """Issue 12 #1 (library side): two or more bad files finish and are all reported."""
    bad = [tmp_path / "missing.wav", tmp_path / "garbage.mp3", tmp_path / "empty.ogg"]
    bad[1].write_bytes(os.urandom(3000))
    bad[2].write_bytes(b"")
    X = [audio[0], str(bad[0]), audio[1], str(bad[1]), str(bad[2])]
    for duration in (None, 1.0):
        mel = MelSpectrogramTransformer(**FAST, offset=0.0, duration=duration, on_error="zeros")
        with pytest.warns(AudioDecodeWarning, match="3 of 5"):
            result = extract_to_file(X, tmp_path / f"f{duration}.npy", transformer=mel)
        assert result.failed.tolist() == [1, 3, 4]
        assert len(result.errors) == 3
        for b, e in zip(bad, result.errors):
            assert str(b) in e and "\n" not in e
        if duration is None:
            offsets = np.load(result.offsets_path)
            assert (np.diff(offsets)[[1, 3, 4]] == 0).all() and (np.diff(offsets)[[0, 2]] > 0).all()
        else:
            assert not np.asarray(result.features[[1, 3, 4]]).any()
            assert np.asarray(result.features[[0, 2]]).all(axis=(1, 2, 3)).any()


def test_fixed_layout_removes_a_stale_offsets_file(tmp_path):
    X = np.ones((2, 4000), np.float32)
    target = tmp_path / "m.npy"
    extract_to_file(X, target, transformer=MelSpectrogramTransformer(**FAST, offset=0.0, duration=None))
    assert (tmp_path / "m.offsets.npy").exists()
    result = extract_to_file(X, target, transformer=MelSpectrogramTransformer(**FAST, offset=0.0, duration=0.5))
    assert result.offsets_path is None and sorted(os.listdir(tmp_path)) == ["m.npy"]


def test_ragged_reader_reads_the_layout(audio, tmp_path):
    ragged = pytest.importorskip("sktags.features._ragged")
    mel = MelSpectrogramTransformer(**FAST, offset=0.0, duration=None)
    result = extract_to_file(audio, tmp_path / "r.npy", transformer=mel)
    assert isinstance(result.features, ragged.RaggedSpectrograms)
    for i, f in enumerate(mel.transform(audio)):
        np.testing.assert_array_equal(result.features[i], f)


# ------------------------------------------------------------- full disk
@pytest.mark.parametrize("duration", [1.0, None])
def test_full_disk_is_a_one_line_error_and_leaves_nothing(monkeypatch, tmp_path, duration):
    """Issue 12 #11: no SIGBUS, no temporary file, the old output intact."""
    target = tmp_path / "m.npy"
    np.save(target, np.arange(3))

    def no_space(fd, offset, length):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "posix_fallocate", no_space, raising=False)
    if duration is None:  # whole tracks are streamed with plain writes
        monkeypatch.setattr("sktags.features._writers.open", lambda p, m: _FullFile(p, m), raising=False)
    X = np.ones((3, 8000), np.float32)
    mel = MelSpectrogramTransformer(**FAST, offset=0.0, duration=duration)
    with pytest.raises(OSError) as info:
        extract_to_file(X, target, transformer=mel)
    message = str(info.value)
    assert info.value.errno == errno.ENOSPC and "\n" not in message
    assert str(target) in message and "bytes needed" in message
    if duration == 1.0:  # the exact size of the file, reserved before any work
        n_frames = 1 + 8000 // 256
        assert f"{128 + 3 * 16 * n_frames * 4:,} bytes needed" in message
    assert sorted(os.listdir(tmp_path)) == ["m.npy"]
    np.testing.assert_array_equal(np.load(target), np.arange(3))


class _FullFile:
    """A file whose writes fail as on a full disk after the first 200 bytes."""

    def __init__(self, path, mode):
        self._f = open(path, mode)
        self.written = 0

    def write(self, data):
        if self.written + len(data) > 200:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.written += len(data)
        return self._f.write(data)

    def __getattr__(self, name):
        return getattr(self._f, name)


def test_without_fallocate_the_free_space_is_checked(monkeypatch, tmp_path):
    import shutil
    from collections import namedtuple

    monkeypatch.delattr(os, "posix_fallocate", raising=False)
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**6, 10**6 - 100, 100))
    with pytest.raises(OSError, match="bytes needed, 100 bytes free"):
        extract_to_file(np.ones((2, 8000), np.float32), tmp_path / "m.npy",
                        transformer=MelSpectrogramTransformer(**FAST, offset=0.0, duration=1.0))
    assert os.listdir(tmp_path) == []
    monkeypatch.undo()
    monkeypatch.delattr(os, "posix_fallocate", raising=False)  # enough space: it works
    result = extract_to_file(np.ones((2, 8000), np.float32), tmp_path / "m.npy",
                             transformer=MelSpectrogramTransformer(**FAST, offset=0.0, duration=1.0))
    assert result.features.shape == (2, 1, 16, 32) and result.features.all()


# ------------------------------------------------------------- killed runs
_KILLED = """
import sys, time
import numpy as np
import sktags.features._mel as m
from sktags.features import MelSpectrogramTransformer, extract_to_file

real = m.compute_chunk
def slow(items, config):
    print("started", flush=True)
    time.sleep(600)
m.compute_chunk = slow
duration = None if sys.argv[2] == "none" else 1.0
extract_to_file(np.ones((4, 8000), np.float32), sys.argv[1],
                transformer=MelSpectrogramTransformer(sr=8000, n_fft=256, hop_length=256, n_mels=16,
                                                      offset=0.0, duration=duration))
"""


@pytest.mark.parametrize("duration", ["1.0", "none"])
def test_a_killed_run_leaves_temporary_files_that_the_next_run_sweeps(tmp_path, duration):
    target = tmp_path / "m.npy"
    env = dict(os.environ, PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-c", _KILLED, str(target), duration],
                            stdout=subprocess.PIPE, env=env, text=True)
    try:
        assert proc.stdout.readline().strip() == "started"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    left = sorted(os.listdir(tmp_path))
    assert left and all(name.startswith(".m.") and ".tmp-" in name for name in left)
    if duration == "1.0":  # the full size was reserved
        assert os.path.getsize(tmp_path / left[0]) >= 128 + 4 * 16 * 32 * 4
    # a live process's temporary file is left alone; a dead one's is removed
    live = tmp_path / f".m.npy.{os.getppid()}.tmp-abcd.npy"
    live.write_bytes(b"x")
    other = tmp_path / ".other.npy.1.tmp-x.npy"
    other.write_bytes(b"x")
    mel = MelSpectrogramTransformer(**FAST, offset=0.0, duration=None if duration == "none" else 1.0)
    extract_to_file(np.ones((4, 8000), np.float32), target, transformer=mel)
    expected = {"m.npy", live.name, other.name} | ({"m.offsets.npy"} if duration == "none" else set())
    assert set(os.listdir(tmp_path)) == expected
