"""Decoding a window of an audio file: sktags.features._audio_io."""

import os
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sktags.features._audio_io import (
    fix_length,
    load_window,
    n_samples_of,
    resample,
    to_mono,
    waveform_window,
    window_bounds,
)

TRUMPET = "sorohanro_-_solo-trumpet-06.ogg"  # 5.3 s, mono, 22,050 Hz
BRAHMS = "Hungarian_Dance_number_5_excerpt.ogg"  # 12 s, mono, 22,050 Hz
VIBE_MP3 = "Kevin_MacLeod_-_Vibe_Ace_excerpt_stereo.mp3"  # 8 s, stereo, 44,100 Hz
SHARED = Path(os.environ.get("SKTAGS_SHARED", Path(__file__).resolve().parents[2] / "shared")) / "data"


@pytest.fixture(scope="module")
def audio_dir(fixtures_dir):
    return fixtures_dir / "audio"


@pytest.mark.parametrize(
    "n_total, start, length, expected",
    [
        (100, 30, 30, (30, 60)),  # long enough: the requested window
        (60, 30, 30, (30, 60)),  # exactly long enough
        (59, 30, 30, (29, 59)),  # one sample short: the last 30
        (30, 30, 30, (0, 30)),  # a 30 s preview: the whole preview
        (29, 30, 30, (0, 29)),  # shorter than the window: everything
        (0, 30, 30, (0, 0)),
        (100, 0, 100, (0, 100)),
    ],
)
def test_window_bounds_rule(n_total, start, length, expected):
    assert window_bounds(n_total, start, length) == expected


def test_n_samples_of_floors_without_rounding_artefacts():
    assert n_samples_of(30.0, 22050) == 661500
    assert n_samples_of(0.7, 10) == 7  # 0.7 * 10 == 6.999... in binary
    assert n_samples_of(1.05, 10) == 10
    assert n_samples_of(0.0, 22050) == 0


def test_fix_length_crops_and_zero_pads():
    y = np.arange(1, 6, dtype=np.float32)
    np.testing.assert_array_equal(fix_length(y, 3), [1, 2, 3])
    np.testing.assert_array_equal(fix_length(y, 7), [1, 2, 3, 4, 5, 0, 0])
    assert fix_length(y, 5) is y


@pytest.mark.parametrize("n_channels", [1, 2, 3])
def test_to_mono_is_the_channel_mean(n_channels):
    data = np.random.default_rng(0).standard_normal((1000, n_channels)).astype(np.float32)
    np.testing.assert_allclose(to_mono(data), data.mean(axis=1), rtol=1e-6, atol=1e-7)
    assert to_mono(data).dtype == np.float32


def test_resample_matches_librosa_soxr_hq():
    librosa = pytest.importorskip("librosa")
    y = np.random.default_rng(1).standard_normal(44101).astype(np.float32)
    got = resample(y, 44100, 22050)
    ref = librosa.resample(y, orig_sr=44100, target_sr=22050, res_type="soxr_hq")
    assert got.shape == ref.shape == (22051,)  # ceil(44101 / 2)
    np.testing.assert_allclose(got, ref, atol=1e-6)
    assert resample(y, 8000, 8000) is y


def _write(path, data, sr, **kw):
    sf.write(str(path), data, sr, **kw)
    return str(path)


def test_load_window_wav_takes_the_exact_samples(tmp_path):
    sr = 8000
    y = np.random.default_rng(2).uniform(-0.5, 0.5, 10 * sr).astype(np.float32)
    path = _write(tmp_path / "a.wav", y, sr, subtype="FLOAT")
    # long enough: [offset, offset + duration)
    np.testing.assert_array_equal(load_window(path, sr=sr, offset=2.0, duration=3.0), y[2 * sr : 5 * sr])
    # too short for the window but longer than the duration: the last 3 s
    np.testing.assert_array_equal(load_window(path, sr=sr, offset=8.0, duration=3.0), y[7 * sr :])
    # shorter than the duration: everything, zero-padded at the end
    out = load_window(path, sr=sr, offset=30.0, duration=12.0)
    assert out.shape == (12 * sr,) and out.dtype == np.float32
    np.testing.assert_array_equal(out[: 10 * sr], y)
    assert not out[10 * sr :].any()


def test_load_window_stereo_44k_matches_librosa_load(tmp_path):
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(3)
    data = rng.uniform(-0.5, 0.5, (44100 * 4, 2)).astype(np.float32)
    path = _write(tmp_path / "s.flac", data, 44100)
    got = load_window(path, sr=22050, offset=1.0, duration=2.0)
    ref, _ = librosa.load(path, sr=22050, mono=True, offset=1.0, duration=2.0)
    assert got.shape == ref.shape == (44100,)
    np.testing.assert_allclose(got, ref, atol=1e-6)


def test_mp3_seek_is_sample_accurate(audio_dir):
    """libsndfile 1.2.2 seeks MP3 exactly: the seeked read equals the full decode."""
    path = str(audio_dir / VIBE_MP3)
    full, sr = sf.read(path, dtype="float32", always_2d=True)
    assert sr == 44100 and full.shape[1] == 2
    for start in (0, 1, 1152 * 7 + 5, 3 * 44100 + 123):
        with sf.SoundFile(path) as f:
            f.seek(start)
            part = f.read(4096, dtype="float32", always_2d=True)
        np.testing.assert_array_equal(part, full[start : start + 4096])


def test_load_window_mp3_matches_full_decode_then_slice(audio_dir):
    path = str(audio_dir / VIBE_MP3)
    full, sr = sf.read(path, dtype="float32", always_2d=True)
    got = load_window(path, sr=22050, offset=2.5, duration=4.0)
    mono = full[int(2.5 * sr) : int(2.5 * sr) + 4 * sr].mean(axis=1)
    ref = resample(mono.astype(np.float32), sr, 22050)
    assert got.shape == (4 * 22050,)
    np.testing.assert_allclose(got, ref, atol=1e-6)
    assert np.abs(got).max() > 0.01


def test_load_window_real_recordings_short_track(audio_dir):
    """A 5.3 s recording with the paper's 30-60 s window: whole clip, then zeros."""
    path = str(audio_dir / TRUMPET)
    full, sr = sf.read(path, dtype="float32")
    out = load_window(path, sr=22050, offset=30.0, duration=30.0)
    assert out.shape == (661500,)
    np.testing.assert_array_equal(out[: full.shape[0]], full)
    assert not out[full.shape[0] :].any()
    assert np.abs(out).max() > 0.05


def test_load_window_preview_gives_its_last_seconds(audio_dir):
    """A clip shorter than offset + duration gives its last `duration` seconds."""
    path = str(audio_dir / BRAHMS)
    full, sr = sf.read(path, dtype="float32")
    out = load_window(path, sr=sr, offset=30.0, duration=10.0)
    np.testing.assert_array_equal(out, full[-10 * sr :])


def test_load_window_errors(tmp_path):
    # libsndfile's own error for a missing file (the transformer adds the position in X)
    with pytest.raises((sf.LibsndfileError, RuntimeError, OSError), match="missing.wav"):
        load_window(str(tmp_path / "missing.wav"), sr=8000, offset=0, duration=1)
    bogus = tmp_path / "bogus.mp3"
    bogus.write_text("not audio at all")
    with pytest.raises(ValueError, match="not decodable audio: unknown format or corrupt"):
        load_window(str(bogus), sr=8000, offset=0, duration=1)
    silent = _write(tmp_path / "empty.wav", np.zeros((0, 1), np.float32), 8000)
    with pytest.raises(ValueError, match="no audio samples"):
        load_window(silent, sr=8000, offset=0, duration=1)
    nan = _write(tmp_path / "nan.wav", np.full(100, np.nan, np.float32), 8000, subtype="FLOAT")
    with pytest.raises(ValueError, match="NaN"):
        load_window(nan, sr=8000, offset=0, duration=1)


def test_waveform_window_follows_the_same_rule():
    y = np.arange(100, dtype=np.float64)
    np.testing.assert_array_equal(waveform_window(y, sr=10, offset=3.0, duration=3.0), y[30:60])
    np.testing.assert_array_equal(waveform_window(y, sr=10, offset=8.0, duration=3.0), y[70:])
    out = waveform_window(y, sr=10, offset=3.0, duration=12.0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, np.r_[y, np.zeros(20)])


def test_skip_to_falls_back_to_decoding_when_seek_fails(audio_dir, monkeypatch):
    from sktags.features import _audio_io

    path = str(audio_dir / VIBE_MP3)
    ref = load_window(path, sr=22050, offset=2.0, duration=1.0)

    real_seek = sf.SoundFile.seek
    failed = []

    def seek_failing_once(self, frames, whence=0):
        if frames and not failed:  # the explicit seek; read() seeks internally too
            failed.append(frames)
            raise sf.LibsndfileError(0, "seek failed")
        return real_seek(self, frames, whence)

    monkeypatch.setattr(sf.SoundFile, "seek", seek_failing_once)
    np.testing.assert_array_equal(_audio_io.load_window(path, sr=22050, offset=2.0, duration=1.0), ref)
    assert failed == [2 * 44100]


# ------------------------------------------------------- truncated files (#5)
def _wav_bytes(tmp_path, seconds=4.0, sr=8000):
    y = np.random.default_rng(4).uniform(-0.5, 0.5, int(seconds * sr)).astype(np.float32)
    path = _write(tmp_path / "full.wav", y, sr, subtype="PCM_16")
    return path, open(path, "rb").read()


def test_wav_whose_header_promises_more_data_than_the_file_holds_is_an_error(tmp_path):
    full, raw = _wav_bytes(tmp_path)
    # the complete file reads fine (4 s, all of it taken)
    assert np.count_nonzero(load_window(full, sr=8000, offset=0, duration=4.0)) > 30000
    cut = tmp_path / "cut.wav"
    cut.write_bytes(raw[: len(raw) // 2])  # header says 4 s, the file holds 2 s
    with sf.SoundFile(str(cut)) as f:
        assert f.frames < 8000 * 4 * 0.6  # libsndfile reads it without a word
    with pytest.raises(ValueError, match=r"truncated: its header announces 32000 samples.*holds only"):
        load_window(str(cut), sr=8000, offset=0, duration=1.0)  # even for an excerpt it has
    # a header patched to promise 10 x the data, the file intact otherwise
    patched = bytearray(raw)
    pos = patched.find(b"data")
    size = int.from_bytes(patched[pos + 4 : pos + 8], "little")
    patched[pos + 4 : pos + 8] = (size * 10).to_bytes(4, "little")
    (tmp_path / "patched.wav").write_bytes(bytes(patched))
    with pytest.raises(ValueError, match="truncated"):
        load_window(str(tmp_path / "patched.wav"), sr=8000, offset=0, duration=4.0)
    # a streaming header (unknown length: 0xFFFFFFFF) is not a truncation
    patched[pos + 4 : pos + 8] = (0xFFFFFFFF).to_bytes(4, "little")
    (tmp_path / "stream.wav").write_bytes(bytes(patched))
    ref = load_window(full, sr=8000, offset=0, duration=4.0)
    np.testing.assert_array_equal(load_window(str(tmp_path / "stream.wav"), sr=8000, offset=0, duration=4.0), ref)


def test_wav_missing_only_its_last_bytes_is_tolerated(tmp_path):
    full, raw = _wav_bytes(tmp_path)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(raw[:-20])  # 10 samples of 32000 missing (< 1 %)
    got = load_window(str(cut), sr=8000, offset=0, duration=4.0)
    np.testing.assert_array_equal(got[:-10], load_window(full, sr=8000, offset=0, duration=4.0)[:-10])


def test_mp3_cut_in_half_is_an_error(audio_dir, tmp_path):
    raw = (audio_dir / VIBE_MP3).read_bytes()
    for name, data in [("half.mp3", raw[: len(raw) // 2]), ("stub.mp3", raw[:10240])]:
        path = tmp_path / name
        path.write_bytes(data)
        # the default excerpt of this 8 s clip is the whole clip; a later cut too
        for offset, duration in [(30.0, 30.0), (0.0, 8.0), (6.0, 1.0)]:
            with pytest.raises(ValueError, match=r"truncated: its header announces 352800 samples"):
                load_window(str(path), sr=22050, offset=offset, duration=duration)
    # an excerpt before the cut is complete, and exact
    half = tmp_path / "half.mp3"
    np.testing.assert_array_equal(
        load_window(str(half), sr=22050, offset=0.5, duration=1.0),
        load_window(str(audio_dir / VIBE_MP3), sr=22050, offset=0.5, duration=1.0),
    )


def _strip_xing(raw):
    """An MP3 without its Xing/Info frame: libsndfile then estimates its length."""
    assert b"Xing" in raw[:200] or b"Info" in raw[:200]
    return raw[raw.find(b"\xff\xfb", 4) :]


def test_mp3_without_length_header_is_counted_not_called_truncated(audio_dir, tmp_path):
    from sktags.features._integrity import mp3_length_is_exact

    src = audio_dir / VIBE_MP3
    assert mp3_length_is_exact(src)
    # variable bit rate: 2 s of silence (cheap frames) then 6 s of noise
    rng = np.random.default_rng(5)
    y = np.r_[np.zeros(2 * 44100), 0.5 * rng.standard_normal(6 * 44100)].astype(np.float32)
    vbr = _write(tmp_path / "vbr.mp3", y, 44100, format="MP3")
    raw = open(vbr, "rb").read()
    noxing = tmp_path / "noxing.mp3"
    noxing.write_bytes(_strip_xing(raw))
    assert not mp3_length_is_exact(noxing)
    with sf.SoundFile(str(noxing)) as f:
        announced = f.frames
    full, _ = sf.read(str(noxing), dtype="float32", always_2d=True)
    assert announced > 1.5 * full.shape[0]  # a bad estimate from the first frames
    # its last 4 s are taken from its real length, not from the estimate
    got = load_window(str(noxing), sr=44100, offset=30.0, duration=4.0)
    np.testing.assert_allclose(got, full[-4 * 44100 :, 0], atol=1e-6)
    # an ID3v2 tag before the frames is skipped when looking for the header
    tagged = tmp_path / "tagged.mp3"
    tag = b"ID3\x04\x00\x00" + bytes([0, 0, 1, 0]) + b"\x00" * 128
    tagged.write_bytes(tag + src.read_bytes())
    assert mp3_length_is_exact(tagged)
    np.testing.assert_array_equal(
        load_window(str(tagged), sr=22050, offset=1.0, duration=2.0),
        load_window(str(src), sr=22050, offset=1.0, duration=2.0),
    )


def test_other_truncated_formats_are_errors(tmp_path):
    y = np.random.default_rng(6).uniform(-0.5, 0.5, 6 * 8000).astype(np.float32)
    for fmt in ("flac", "ogg"):
        path = _write(tmp_path / f"a.{fmt}", y, 8000)
        raw = open(path, "rb").read()
        cut = tmp_path / f"cut.{fmt}"
        cut.write_bytes(raw[: len(raw) // 2])
        with pytest.raises(ValueError, match="truncated|corrupt"):
            load_window(str(cut), sr=8000, offset=0.0, duration=6.0)


def test_bundled_files_are_never_called_truncated(audio_dir, fixtures_dir):
    demo = fixtures_dir.parent.parent / "sktags" / "demo" / "audio"
    paths = sorted(audio_dir.glob("*.ogg")) + sorted(audio_dir.glob("*.mp3")) + sorted(demo.glob("*.ogg"))
    assert len(paths) >= 8
    for path in paths:
        for offset, duration in [(30.0, 30.0), (0.0, 4.0), (0.0, None)]:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # and no short-clip warning either
                y = load_window(str(path), sr=22050, offset=offset, duration=duration)
            assert np.abs(y).max() > 0.01


@pytest.mark.skipif(not (SHARED / "emotion_4q_dev").is_dir(), reason="needs ../shared/data")
def test_real_previews_are_never_called_truncated(monkeypatch):
    from sktags.features import _audio_io

    def no_second_decode(f):
        raise AssertionError("a real preview was decoded twice to count its samples")

    # their lengths (mostly estimates: no Xing header) are close enough to decode once
    monkeypatch.setattr(_audio_io, "_count_frames", no_second_decode)
    paths = sorted((SHARED / "emotion_4q_dev").glob("Q*/*.mp3"))[::10]
    assert paths
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for path in paths:
            load_window(str(path), sr=22050, offset=30.0, duration=30.0)
            load_window(str(path), sr=22050, offset=0.0, duration=None)  # whole tracks too


def test_whole_file_mode_decodes_everything(audio_dir):
    path = str(audio_dir / VIBE_MP3)
    full, sr = sf.read(path, dtype="float32")
    got = load_window(path, sr=sr, offset=30.0, duration=None)  # shorter than the offset: all
    np.testing.assert_allclose(got, full.mean(axis=1), atol=1e-6)
    got = load_window(path, sr=sr, offset=2.0, duration=None)  # from the offset to the end
    np.testing.assert_allclose(got, full[2 * sr :].mean(axis=1), atol=1e-6)
    np.testing.assert_array_equal(waveform_window(full[:, 0], sr=sr, offset=3.0, duration=None), full[3 * sr :, 0])
    np.testing.assert_array_equal(waveform_window(full[:, 0], sr=sr, offset=9.0, duration=None), full[:, 0])


def test_very_short_clip_gets_a_note_naming_it(tmp_path):
    short = _write(tmp_path / "short.wav", np.full(3000, 0.1, np.float32), 8000)  # 0.375 s
    with pytest.warns(UserWarning, match=r"short.wav' is a very short clip: 0.38 s of audio for a 30 s"):
        load_window(short, sr=8000, offset=30.0, duration=30.0)
    notes = []
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        load_window(short, sr=8000, offset=0.0, duration=3.0, notes=notes)  # 1/8 exactly: fine
        load_window(short, sr=8000, offset=0.0, duration=3.1, notes=notes)
        assert len(notes) == 1 and "short.wav" in notes[0] and "zero padding" in notes[0]
        notes.clear()
        waveform_window(np.ones(10), sr=10, offset=0, duration=100, notes=notes, name="X[7]")
    assert notes == ["X[7] is a very short clip: 1.00 s of audio for a 100 s excerpt, so 99% of its feature is zero padding"]


# ------------------------------------------------ through the transformer
def _bad_files(audio_dir, tmp_path):
    raw = (audio_dir / VIBE_MP3).read_bytes()
    half = tmp_path / "half.mp3"
    half.write_bytes(raw[: len(raw) // 2])
    stub = tmp_path / "stub.mp3"
    stub.write_bytes(raw[:10240])
    _, wav = _wav_bytes(tmp_path)
    cut = tmp_path / "cut.wav"
    cut.write_bytes(wav[: len(wav) // 2])
    garbage = tmp_path / "random.mp3"
    garbage.write_bytes(np.random.default_rng(7).bytes(20000))
    return [str(p) for p in (half, stub, cut, garbage)]


def test_transformer_raises_naming_the_truncated_file(audio_dir, tmp_path):
    from sktags.features import MelSpectrogramTransformer

    good = str(audio_dir / BRAHMS)
    mel = MelSpectrogramTransformer(sr=8000, n_fft=256, hop_length=256, n_mels=16)
    for bad in _bad_files(audio_dir, tmp_path):
        kind = "not decodable audio" if bad.endswith("random.mp3") else "truncated"
        with pytest.raises(ValueError, match=rf"X\[1\] = '{bad}': ValueError: {kind}") as info:
            mel.transform([good, bad])
        assert "\n" not in str(info.value)
        assert "does not exist" not in str(info.value)  # libsndfile's misleading words


def test_transformer_on_error_zeros_records_truncated_files(audio_dir, tmp_path):
    from sktags.features import AudioDecodeWarning, MelSpectrogramTransformer

    good = str(audio_dir / BRAHMS)
    bad = _bad_files(audio_dir, tmp_path)
    mel = MelSpectrogramTransformer(sr=8000, n_fft=256, hop_length=256, n_mels=16, on_error="zeros")
    X = [good, *bad]
    with pytest.warns(UserWarning, match="4 of 5 audio files could not be read") as record:
        out = mel.transform(X)
    message = " ".join(str(w.message) for w in record)
    for path in bad:
        assert path in message
    assert message.count("truncated") == 3 and "not decodable" in message
    [decode_warning] = [w.message for w in record if isinstance(w.message, AudioDecodeWarning)]
    np.testing.assert_array_equal(decode_warning.failed, [1, 2, 3, 4])
    assert not out[1:].any() and out[0].any()


def test_short_clip_warning_reaches_the_caller_from_worker_processes(tmp_path):
    from sktags.features import MelSpectrogramTransformer

    short = _write(tmp_path / "short.wav", np.full(1000, 0.1, np.float32), 8000)
    normal = _write(tmp_path / "normal.wav", np.full(8000 * 5, 0.1, np.float32), 8000)
    for n_jobs in (None, 2):
        mel = MelSpectrogramTransformer(sr=8000, n_fft=256, hop_length=256, n_mels=16, n_jobs=n_jobs)
        with pytest.warns(UserWarning, match=r"MelSpectrogramTransformer: .*short.wav' is a very short") as rec:
            mel.transform([normal, short, np.zeros(100, np.float32)])
        text = " ".join(str(w.message) for w in rec)
        assert "normal.wav" not in text and "waveform X[2] is a very short clip" in text


def _cbr_preview_without_info_frame(tmp_path, seconds=30.0):
    """A constant bit rate MP3 whose Xing/Info frame is removed: its length is an estimate."""
    from sktags.features._integrity import mp3_length_is_exact

    y = np.random.default_rng(7).uniform(-0.3, 0.3, int(seconds * 44100)).astype(np.float32)
    path = tmp_path / "cbr.mp3"
    with sf.SoundFile(str(path), "w", 44100, 1, format="MP3", bitrate_mode="CONSTANT",
                      compression_level=0.5) as f:
        f.write(y)
    raw = _strip_xing(path.read_bytes())
    pos, rates = 0, set()
    while pos < len(raw):  # MPEG-1 Layer III frames, walked here independently of sktags
        assert raw[pos] == 0xFF and raw[pos + 1] & 0xFE == 0xFA, pos  # sync, MPEG-1, Layer III
        rate = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)[raw[pos + 2] >> 4]
        sr = (44100, 48000, 32000)[(raw[pos + 2] >> 2) & 3]
        rates.add(rate)
        pos += 144_000 * rate // sr + ((raw[pos + 2] >> 1) & 1)
    assert pos == len(raw) and len(rates) == 1  # constant bit rate, whole frames
    path.write_bytes(raw)
    assert not mp3_length_is_exact(path)
    return path, raw


def test_cbr_mp3_without_info_header_cut_mid_frame_is_truncated(tmp_path):
    """A 30 s CBR preview cut in half is not a 15 s clip padded with zeros (issue 17, class 11)."""
    from sktags.features import MelSpectrogramTransformer

    path, raw = _cbr_preview_without_info_frame(tmp_path)
    whole = load_window(str(path), sr=22050, offset=0.0, duration=None)
    assert abs(whole.shape[0] / 22050 - 30.0) < 0.2  # complete: read whole, not truncated
    cut = tmp_path / "half.mp3"
    cut.write_bytes(raw[: len(raw) // 2 + 100])  # mid-frame
    for offset, duration in [(30.0, 30.0), (0.0, None), (0.0, 1.0)]:
        with pytest.raises(ValueError, match=r"truncated: the MP3 is cut short \(its last frame"):
            load_window(str(cut), sr=22050, offset=offset, duration=duration)
    mel = MelSpectrogramTransformer(offset=0.0, duration=30.0, on_error="zeros")
    with pytest.warns(UserWarning, match="cut short"):
        result = mel.extract([str(path), str(cut)])
    assert result.failed.tolist() == [1] and "half.mp3" in result.errors[0]
    assert not result.features[1].any() and result.features[0].any()
    with pytest.raises(ValueError, match=r"X\[1\] = .*half.mp3.*truncated"):
        MelSpectrogramTransformer(offset=0.0, duration=30.0).transform([str(path), str(cut)])


def test_bundled_mp3s_and_real_previews_are_never_cut_short(audio_dir, fixtures_dir):
    from sktags.features._integrity import mp3_truncation

    paths = sorted(fixtures_dir.rglob("*.mp3")) + sorted((SHARED / "emotion_4q_dev").glob("Q*/*.mp3"))
    assert paths
    assert [p.name for p in paths if mp3_truncation(p) is not None] == []
    if not (SHARED / "emotion_4q_dev").is_dir():
        pytest.skip("needs ../shared/data for the 251 real previews")
    assert len(paths) - len(list(fixtures_dir.rglob("*.mp3"))) == 251


def test_whole_track_decodes_in_blocks_like_one_read(tmp_path, monkeypatch):
    """6 channels at 48 kHz, decoded block by block = mean of channels resampled at once,
    in the memory of the mono output and a block (sktags 0.2 held all the channels)."""
    import tracemalloc

    import soxr

    from sktags.features import _audio_io

    rng = np.random.default_rng(8)
    data = rng.uniform(-0.5, 0.5, (48000 * 3 + 123, 6)).astype(np.float32)
    path = _write(tmp_path / "six.wav", data, 48000, subtype="FLOAT")
    monkeypatch.setattr(_audio_io, "_BLOCK", 4096, raising=False)  # many blocks
    tracemalloc.start()
    try:
        got = load_window(path, sr=22050, offset=0.0, duration=None)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < got.nbytes + data.nbytes // 4, (peak, got.nbytes, data.nbytes)
    expected = soxr.resample(data.mean(axis=1), 48000, 22050, quality="HQ")
    n = int(np.ceil(data.shape[0] * 22050 / 48000))
    assert got.shape == (n,)
    np.testing.assert_allclose(got, fix_length(expected.astype(np.float32), n), atol=1e-6)
    excerpt = load_window(path, sr=22050, offset=1.0, duration=1.5)
    ref = soxr.resample(data[48000 : 48000 + 72000].mean(axis=1), 48000, 22050, quality="HQ")
    np.testing.assert_allclose(excerpt, ref[: n_samples_of(1.5, 22050)], atol=1e-6)


def test_whole_track_over_the_limit_is_refused_before_decoding(tmp_path, monkeypatch):
    from sktags.features import _audio_io

    path = _write(tmp_path / "long.wav", np.zeros(8000 * 10, np.float32), 8000)
    monkeypatch.setattr(_audio_io, "MAX_TRACK_SECONDS", 5.0)
    monkeypatch.setattr(_audio_io, "_Decoded", None)  # nothing may be decoded
    with pytest.raises(ValueError, match=r"lasts 0.00 h, over the whole-track limit .*MAX_TRACK_SECONDS"):
        load_window(path, sr=8000, offset=0.0, duration=None)

