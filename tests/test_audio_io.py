"""Decoding a window of an audio file: sktags.features._audio_io."""

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
    # libsndfile's own errors (the transformer adds the position in X); they name the file
    with pytest.raises((sf.LibsndfileError, RuntimeError, OSError), match="missing.wav"):
        load_window(str(tmp_path / "missing.wav"), sr=8000, offset=0, duration=1)
    bogus = tmp_path / "bogus.mp3"
    bogus.write_text("not audio at all")
    with pytest.raises((sf.LibsndfileError, RuntimeError, OSError), match="bogus.mp3"):
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
