"""Per-file feature cache (sktags.features._cache) and extract_to_file."""

import hashlib
import io
import os
import shutil
import struct

import joblib
import numpy as np
import pytest
import soundfile as sf

import sktags.features._mel as mel_module
from sktags.features import MelSpectrogramTransformer, extract_to_file
from sktags.features._cache import _HEADER, SUBDIR, FeatureCache, content_digest, file_stamp

FAST = dict(sr=8000, n_fft=256, hop_length=256, n_mels=16, offset=0.0, duration=2.0)


def _entries(location):
    return sorted((location / SUBDIR).rglob("*.bin")) if (location / SUBDIR).exists() else []


@pytest.fixture
def clips(fixtures_dir, tmp_path):
    """Copies of the real recordings (so that the tests may edit them)."""
    src = fixtures_dir / "audio"
    names = [
        "sorohanro_-_solo-trumpet-06.ogg",
        "Hungarian_Dance_number_5_excerpt.ogg",
        "Kevin_MacLeod_-_Vibe_Ace_excerpt_stereo.mp3",
    ]
    out = tmp_path / "audio"
    out.mkdir()
    for name in names:
        shutil.copy(src / name, out / name)
    return [str(out / name) for name in names]


@pytest.fixture
def count_computed(monkeypatch):
    """Count the clips computed (not read from the cache) in this process."""
    calls = []
    real = mel_module.compute_chunk

    def counting(items, config):
        calls.extend(i for i, _, _ in items)
        return real(items, config)

    monkeypatch.setattr(mel_module, "compute_chunk", counting)
    return calls


# ---------------------------------------------------------------- FeatureCache
def test_cache_roundtrip_and_every_kind_of_miss(tmp_path):
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"x" * 10)
    stamp = file_stamp(audio)
    assert stamp[0] == 10  # the size comes first
    feature = np.random.default_rng(0).standard_normal((4, 5)).astype(np.float32)
    cache = FeatureCache(tmp_path / "c", "token", (4, 5))
    assert cache.load(audio, stamp) is None  # nothing yet
    assert cache.store(audio, stamp, feature)
    np.testing.assert_array_equal(cache.load(audio, stamp), feature)
    np.testing.assert_array_equal(cache.load(audio), feature)  # stamp taken if not given
    entry = cache.entry_path(audio)
    assert [p.name for p in entry.parent.iterdir()] == [entry.name]  # no temp file left
    # the header holds the content digest, computed independently here
    raw = entry.read_bytes()
    assert raw[:8] == b"SKTMEL02"
    assert raw[8:40] == hashlib.sha256(b"x" * 10).digest()
    # another token or shape; a None dimension accepts any size
    assert FeatureCache(tmp_path / "c", "other", (4, 5)).load(audio) is None
    assert FeatureCache(tmp_path / "c", "token", (4, 6)).load(audio) is None
    assert FeatureCache(tmp_path / "c", "token", (4, 5, 1)).load(audio) is None
    np.testing.assert_array_equal(FeatureCache(tmp_path / "c", "token", (4, None)).load(audio), feature)
    for corrupt in (raw[:-7], raw[:20], b"", raw[:-1] + bytes([raw[-1] ^ 1]), b"junk" * 50):
        entry.write_bytes(corrupt)
        assert cache.load(audio, stamp) is None
    # a well-formed entry with a valid checksum but the wrong dtype is refused too
    buf = io.BytesIO()
    np.save(buf, feature.astype(np.float64))
    payload = buf.getvalue()
    digest = hashlib.sha256(b"x" * 10).digest()
    entry.write_bytes(_HEADER.pack(b"SKTMEL02", digest, hashlib.sha256(payload).digest()) + payload)
    assert cache.load(audio, stamp) is None
    assert cache.store(audio, stamp, feature)  # and a store repairs the entry
    np.testing.assert_array_equal(cache.load(audio, stamp), feature)
    # an entry of the old (size, mtime) format is a miss, never returned
    old = struct.pack("<8sqq32s", b"SKTMEL01", stamp[0], stamp[1], hashlib.sha256(payload).digest())
    entry.write_bytes(old + payload)
    assert cache.load(audio, stamp) is None


def test_content_change_with_same_size_and_mtime_is_a_miss(tmp_path):
    """cp -p / rsync -t: other bytes, same size, same mtime -> never the old feature."""
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"x" * 10)
    st = os.stat(audio)
    cache = FeatureCache(tmp_path / "c", "token", (2,))
    stamp = file_stamp(audio)
    assert cache.load(audio, stamp) is None
    cache.store(audio, stamp, np.ones(2, np.float32))
    assert cache.load(audio) is not None
    audio.write_bytes(b"y" * 10)
    os.utime(audio, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (os.stat(audio).st_size, os.stat(audio).st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    assert cache.load(audio) is None
    audio.write_bytes(b"x" * 10)  # the old content again: its entry is valid again
    assert cache.load(audio) is not None


def test_file_changed_while_computing_is_not_stored(tmp_path):
    audio = tmp_path / "a.wav"
    audio.write_bytes(b"x" * 10)
    cache = FeatureCache(tmp_path / "c", "token", (2,))
    stamp = file_stamp(audio)
    assert cache.load(audio, stamp) is None
    audio.write_bytes(b"y" * 11)  # edited before the feature is stored
    assert not cache.store(audio, stamp, np.ones(2, np.float32))
    assert cache.load(audio) is None
    assert not cache.store(tmp_path / "gone.wav", stamp, np.ones(2, np.float32))


def test_content_digest_reads_large_files_in_chunks(tmp_path):
    data = np.random.default_rng(0).bytes(3 * (1 << 20) + 17)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert content_digest(path) == hashlib.sha256(data).digest()
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    assert content_digest(empty) == hashlib.sha256(b"").digest()


def test_second_transform_reads_the_cache(clips, tmp_path, count_computed):
    location = tmp_path / "cache"
    mel = MelSpectrogramTransformer(**FAST, memory=str(location))
    first = mel.transform(clips)
    assert sorted(count_computed) == [0, 1, 2]
    assert len(_entries(location)) == 3
    count_computed.clear()
    second = mel.transform(clips)
    assert count_computed == []  # nothing recomputed
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first, MelSpectrogramTransformer(**FAST).transform(clips))


def test_edited_file_is_recomputed(clips, tmp_path, count_computed):
    location = tmp_path / "cache"
    mel = MelSpectrogramTransformer(**FAST, memory=location)
    before = mel.transform(clips)
    # overwrite clip 0 with other audio; keep its size changing and its mtime moving on
    y, sr = sf.read(clips[1], dtype="float32")
    st = os.stat(clips[0])
    sf.write(clips[0], y[: 3 * sr], sr, format="OGG", subtype="VORBIS")
    os.utime(clips[0], ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    count_computed.clear()
    after = mel.transform(clips)
    assert count_computed == [0]
    np.testing.assert_array_equal(after[1:], before[1:])
    np.testing.assert_array_equal(after[0], MelSpectrogramTransformer(**FAST).transform(clips[:1])[0])
    assert not np.array_equal(after[0], before[0])
    assert len(_entries(location)) == 3  # the entry was overwritten, not added


def test_touched_file_with_the_same_content_is_read_from_the_cache(clips, tmp_path, count_computed):
    mel = MelSpectrogramTransformer(**FAST, memory=tmp_path / "cache")
    ref = mel.transform(clips)
    st = os.stat(clips[2])
    os.utime(clips[2], ns=(st.st_atime_ns, st.st_mtime_ns + 1))  # touch: same bytes
    count_computed.clear()
    np.testing.assert_array_equal(mel.transform(clips), ref)
    assert count_computed == []


def test_rewritten_file_with_same_size_and_mtime_is_recomputed(clips, tmp_path, count_computed):
    """Issue 12 #6: cp -p / rsync -t keep size and mtime; the content decides."""
    mel = MelSpectrogramTransformer(**FAST, memory=tmp_path / "cache")
    before = mel.transform(clips)
    # a WAV, then other samples of the same length: same size, mtime put back
    wav = tmp_path / "audio" / "x.wav"
    y = np.random.default_rng(1).uniform(-0.5, 0.5, 8000 * 2).astype(np.float32)
    sf.write(wav, y, 8000, subtype="PCM_16")
    ref = MelSpectrogramTransformer(**FAST).transform([str(wav)])
    got = mel.transform([str(wav)])
    np.testing.assert_array_equal(got, ref)
    st = os.stat(wav)
    sf.write(wav, y[::-1], 8000, subtype="PCM_16")
    os.utime(wav, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (os.stat(wav).st_size, os.stat(wav).st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    count_computed.clear()
    after = mel.transform([str(wav)])
    assert count_computed == [0]
    np.testing.assert_array_equal(after, MelSpectrogramTransformer(**FAST).transform([str(wav)]))
    assert not np.array_equal(after, got)
    # the other files still come from the cache
    count_computed.clear()
    np.testing.assert_array_equal(mel.transform(clips), before)
    assert count_computed == []


def test_corrupt_or_partial_entry_is_recomputed_never_returned(clips, tmp_path, count_computed):
    location = tmp_path / "cache"
    mel = MelSpectrogramTransformer(**FAST, memory=location)
    ref = mel.transform(clips)
    entries = _entries(location)
    entries[0].write_bytes(entries[0].read_bytes()[:100])  # truncated
    raw = bytearray(entries[1].read_bytes())
    raw[-50] ^= 0xFF  # one flipped byte inside the array
    entries[1].write_bytes(bytes(raw))
    count_computed.clear()
    np.testing.assert_array_equal(mel.transform(clips), ref)
    assert len(count_computed) == 2
    count_computed.clear()
    np.testing.assert_array_equal(mel.transform(clips), ref)  # entries rewritten
    assert count_computed == []


def test_cache_key_includes_output_changing_parameters(clips, tmp_path):
    location = tmp_path / "cache"
    MelSpectrogramTransformer(**FAST, memory=location).transform(clips[:1])
    for change in (dict(compression="db"), dict(offset=0.5), dict(n_fft=512), dict(sr=16000)):
        params = {**FAST, **change}
        got = MelSpectrogramTransformer(**params, memory=location).transform(clips[:1])
        np.testing.assert_array_equal(got, MelSpectrogramTransformer(**params).transform(clips[:1]))
    assert len(_entries(location)) == 5
    # n_jobs, verbose and on_error do not change the output: same entry
    MelSpectrogramTransformer(**FAST, memory=location, n_jobs=1, on_error="zeros").transform(clips[:1])
    assert len(_entries(location)) == 5


def test_memory_accepts_joblib_memory_and_skips_waveforms(clips, tmp_path, count_computed):
    location = tmp_path / "jl"
    mel = MelSpectrogramTransformer(**FAST, memory=joblib.Memory(location, verbose=0))
    ref = mel.transform(clips[:2])
    assert len(_entries(location)) == 2
    MelSpectrogramTransformer(**FAST, memory=joblib.Memory(None)).transform(clips[:1])
    X = np.random.default_rng(0).standard_normal((2, 1000))
    count_computed.clear()
    mel.transform(X)
    mel.transform(X)
    assert count_computed == [0, 1, 0, 1]  # waveforms are never cached
    assert len(_entries(location)) == 2
    np.testing.assert_array_equal(mel.transform(clips[:2]), ref)


def test_failed_files_are_not_cached(clips, tmp_path):
    location = tmp_path / "cache"
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"\x00" * 1000)
    mel = MelSpectrogramTransformer(**FAST, memory=location, on_error="zeros")
    with pytest.warns(UserWarning, match="could not be read"):
        mel.transform([clips[0], str(bad)])
    assert len(_entries(location)) == 1


# ------------------------------------------------------------- extract_to_file
@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_extract_to_file_streams_into_a_readonly_memmap(clips, tmp_path, dtype):
    mel = MelSpectrogramTransformer(**FAST, n_jobs=1)
    ref = mel.transform(clips)
    target = tmp_path / "out" / "mel.npy"
    target.parent.mkdir()
    got = extract_to_file(clips, target, transformer=mel, dtype=dtype).features
    assert isinstance(got, np.memmap) and not got.flags.writeable
    assert got.shape == ref.shape and got.dtype == np.dtype(dtype)
    if dtype == "float32":
        np.testing.assert_array_equal(got, ref)
    else:
        np.testing.assert_allclose(got.astype(np.float32), ref, atol=2**-8 * 1.01, rtol=2**-11)
    assert os.listdir(target.parent) == ["mel.npy"]  # the temporary file is gone
    np.testing.assert_array_equal(np.load(target), got)


def test_extract_to_file_failure_leaves_no_partial_file(clips, tmp_path):
    target = tmp_path / "mel.npy"
    np.save(target, np.arange(3))
    with pytest.raises(ValueError, match=r"X\[1\].*missing"):
        extract_to_file(
            [clips[0], str(tmp_path / "missing.wav")],
            target,
            transformer=MelSpectrogramTransformer(**FAST),
        )
    np.testing.assert_array_equal(np.load(target), np.arange(3))  # old file untouched
    assert sorted(os.listdir(tmp_path)) == sorted(["audio", "mel.npy"])


def test_extract_to_file_on_error_zeros_and_defaults(clips, tmp_path):
    mel = MelSpectrogramTransformer(**FAST, on_error="zeros")
    with pytest.warns(UserWarning):
        result = extract_to_file([str(tmp_path / "nope.wav"), clips[0]], tmp_path / "m.npy", transformer=mel)
    got = result.features
    np.testing.assert_array_equal(result.failed, [0])
    assert not got[0].any() and got[1].any()
    with pytest.raises(ValueError, match="dtype must be one of"):
        extract_to_file(clips, tmp_path / "x.npy", dtype="float64")
    with pytest.raises(ValueError, match="MelSpectrogramTransformer"):
        extract_to_file(clips, tmp_path / "x.npy", transformer="mel")
    X = np.zeros((2, 22050), np.float32)
    assert extract_to_file(X, tmp_path / "d.npy").features.shape == (2, 1, 96, 646)


def test_memory_path_expands_user(clips, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    MelSpectrogramTransformer(**FAST, memory="~/mel-cache").transform(clips[:1])
    assert len(_entries(tmp_path / "home" / "mel-cache")) == 1


def test_atomic_path_replaces_on_success_and_keeps_the_old_file_on_failure(tmp_path):
    from sktags.utils import atomic_path

    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError, match="interrupted"):
        with atomic_path(target) as tmp:
            with open(tmp, "wb") as f:
                f.write(b"half")
            raise RuntimeError("interrupted")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]  # no temporary file left
    with atomic_path(target, prefix=".x-", suffix=".npy") as tmp:
        assert os.path.dirname(tmp) == str(tmp_path) and os.path.basename(tmp).startswith(".x-")
        with open(tmp, "wb") as f:
            f.write(b"new")
    assert target.read_bytes() == b"new"
    assert [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_unwritable_cache_warns_and_still_returns_the_features(clips, tmp_path, monkeypatch):
    def refuse(self, path, stamp, feature):
        raise PermissionError(13, "Permission denied", str(self.directory))

    monkeypatch.setattr(FeatureCache, "store", refuse)
    mel = MelSpectrogramTransformer(**FAST, memory=tmp_path / "cache")
    with pytest.warns(UserWarning, match=r"3 feature\(s\) could not be written.*PermissionError"):
        got = mel.transform(clips)
    np.testing.assert_array_equal(got, MelSpectrogramTransformer(**FAST).transform(clips))
    assert _entries(tmp_path / "cache") == []
