"""MelSpectrogramTransformer and the fast log-mel, checked against librosa."""

import os
import pickle
import warnings

import numpy as np
import pytest
import soundfile as sf
from sklearn import config_context
from sklearn.base import clone

from sktags import MelSpectrogramTransformer
from sktags.features._logmel import hann_window, log_mel, mel_basis, n_frames_of

librosa = pytest.importorskip("librosa")

TRUMPET = "sorohanro_-_solo-trumpet-06.ogg"  # 5.3 s, mono, 22,050 Hz
BRAHMS = "Hungarian_Dance_number_5_excerpt.ogg"  # 12 s, mono, 22,050 Hz
VIBE_MP3 = "Kevin_MacLeod_-_Vibe_Ace_excerpt_stereo.mp3"  # 8 s, stereo, 44,100 Hz

# Small settings that keep the tests fast where the paper's values are not the point.
FAST = dict(sr=8000, n_fft=256, hop_length=256, n_mels=16)


@pytest.fixture(scope="module")
def audio(fixtures_dir):
    return fixtures_dir / "audio"


@pytest.fixture(scope="module")
def brahms(audio):
    y, sr = sf.read(str(audio / BRAHMS), dtype="float32")
    assert sr == 22050
    return y


def librosa_logmel(y, sr=22050, n_fft=1024, hop_length=1024, n_mels=96, compression="log1p"):
    M = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
    return np.log1p(100 * M) if compression == "log1p" else librosa.power_to_db(M)


# --------------------------------------------------------------------- numerics
@pytest.mark.parametrize("n_fft, hop_length, n_mels", [(1024, 1024, 96), (512, 256, 40), (1023, 300, 32)])
def test_log_mel_matches_librosa(brahms, n_fft, hop_length, n_mels):
    y = brahms[: 22050 * 5]
    got = log_mel(
        y,
        basis=mel_basis(22050, n_fft, n_mels),
        window=hann_window(n_fft),
        hop_length=hop_length,
        compression="log1p",
    )
    ref = librosa_logmel(y, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels)
    assert got.shape == ref.shape == (n_mels, n_frames_of(y.shape[0], n_fft, hop_length))
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-4)


def test_transformer_waveform_matches_librosa_log1p_and_db(brahms):
    """Waveform input: librosa.feature.melspectrogram + log1p(100 M), within 1e-4."""
    y = brahms[: 22050 * 10]
    X = [y, 0.3 * np.random.default_rng(0).standard_normal(22050 * 10)]
    mel = MelSpectrogramTransformer(offset=0.0, duration=10.0)
    got = mel.fit_transform(X)
    assert got.shape == (2, 1, 96, 1 + 220500 // 1024) and got.dtype == np.float32
    for i, x in enumerate(X):
        np.testing.assert_allclose(got[i, 0], librosa_logmel(x), rtol=0, atol=1e-4)
    # dB: float32 power rounds quiet bins by ~1e-6 relative, i.e. ~1e-5 dB; allow 1e-3 dB.
    got_db = mel.set_params(compression="db").transform(X)
    for i, x in enumerate(X):
        np.testing.assert_allclose(got_db[i, 0], librosa_logmel(x, compression="db"), rtol=0, atol=1e-3)


def test_default_output_has_646_frames_and_takes_the_30_60_s_excerpt():
    rng = np.random.default_rng(1)
    y = rng.standard_normal(22050 * 70).astype(np.float32)
    y[: 22050 * 30] *= 0.01  # the excerpt [30 s, 60 s) is much louder than the rest
    got = MelSpectrogramTransformer().fit_transform(y[np.newaxis])
    assert got.shape == (1, 1, 96, 646)
    np.testing.assert_allclose(got[0, 0], librosa_logmel(y[22050 * 30 : 22050 * 60]), atol=1e-4)


def test_waveform_window_rule_previews_and_short_clips():
    sr, d = FAST["sr"], 3.0
    rng = np.random.default_rng(2)
    preview = rng.standard_normal(int(sr * 4)).astype(np.float32)  # 4 s < offset + duration
    short = rng.standard_normal(int(sr * 1)).astype(np.float32)  # 1 s < duration
    mel = MelSpectrogramTransformer(**FAST, offset=3.0, duration=d)
    got = mel.fit_transform([preview, short])
    exact = MelSpectrogramTransformer(**FAST, offset=0.0, duration=d)
    # the preview gives its last 3 s, not silence
    np.testing.assert_array_equal(got[0], exact.transform([preview[-3 * sr :]])[0])
    # the short clip is zero-padded at the end
    padded = np.r_[short, np.zeros(2 * sr, np.float32)]
    np.testing.assert_array_equal(got[1], exact.transform([padded])[0])
    np.testing.assert_allclose(got[1, 0], librosa_logmel(padded, **FAST), atol=1e-4)
    assert got[1, 0, :, -2:].max() == 0  # frames wholly in the padding are silent
    assert got[1, 0, :, :5].min() > 0


# ------------------------------------------------------------------------ files
def test_files_match_librosa_load_pipeline(audio):
    """Files: same window, decoder and resampler as librosa.load(offset, duration)."""
    paths = [audio / BRAHMS, str(audio / VIBE_MP3)]
    got = MelSpectrogramTransformer(offset=2.0, duration=5.0).fit_transform(paths)
    assert got.shape == (2, 1, 96, 1 + 110250 // 1024)
    for i, p in enumerate(paths):
        y, _ = librosa.load(str(p), sr=22050, mono=True, offset=2.0, duration=5.0)
        np.testing.assert_allclose(got[i, 0], librosa_logmel(y), atol=1e-4)


def test_paper_defaults_on_real_short_recordings(audio, brahms):
    """12 s and 5.3 s recordings with the 30-60 s window: never silence, right length."""
    paths = [str(audio / BRAHMS), str(audio / TRUMPET), str(audio / VIBE_MP3)]
    got = MelSpectrogramTransformer().fit_transform(paths)
    assert got.shape == (3, 1, 96, 646)
    for i in range(3):
        assert got[i, 0, :, :20].mean() > 0.5  # real content at the start
    # a file gives what its decoded waveform gives
    np.testing.assert_array_equal(got[0], MelSpectrogramTransformer().transform([brahms])[0])
    # the 12 s recording is padded with silence after its end
    assert got[0, 0, :, 262:].max() == 0


def test_input_forms_agree(audio, brahms):
    mel = MelSpectrogramTransformer(offset=0.0, duration=2.0)
    p = audio / BRAHMS
    ref = mel.transform([str(p)])
    for X in ([p], (str(p),), np.array([str(p)]), [os.fsencode(str(p))]):
        np.testing.assert_array_equal(mel.transform(X), ref)
    y = brahms[: 2 * 22050]
    two_d = np.stack([y, y])
    np.testing.assert_array_equal(mel.transform(two_d), mel.transform([y, y.astype(np.float64)]))
    np.testing.assert_array_equal(mel.transform([str(p), y])[0], ref[0])
    ints = (y * 2**15).astype(np.int16)
    # integer PCM is scaled to [-1, 1) as librosa.util.buf_to_float does
    got = mel.transform([ints])
    assert got.shape == (1, 1, 96, 1 + 2 * 22050 // 1024)
    np.testing.assert_array_equal(got, mel.transform([ints.astype(np.float32) / 2**15]))


def test_n_jobs_and_joblib_backends_give_identical_output(audio):
    from joblib import parallel_config

    paths = [str(audio / name) for name in (BRAHMS, TRUMPET, VIBE_MP3)] * 2
    mel = MelSpectrogramTransformer(**FAST, offset=1.0, duration=4.0)
    ref = mel.transform(paths)
    np.testing.assert_array_equal(mel.set_params(n_jobs=2).transform(paths), ref)
    with parallel_config(backend="threading", n_jobs=2):
        np.testing.assert_array_equal(mel.set_params(n_jobs=None).transform(paths), ref)


def test_verbose_shows_a_progress_bar(capsys):
    X = np.zeros((3, 800), np.float32)
    MelSpectrogramTransformer(**FAST, duration=0.1, verbose=1).transform(X)
    assert "log-mel" in capsys.readouterr().err
    MelSpectrogramTransformer(**FAST, duration=0.1).transform(X)
    assert capsys.readouterr().err == ""


# ----------------------------------------------------------------- bad input
@pytest.mark.parametrize(
    "X, match",
    [
        ([], "empty"),
        (np.zeros((0, 100)), "empty"),
        (np.zeros(100), "must be 2-D.*Reshape"),
        (np.zeros((2, 3, 100)), "must be 2-D"),
        ([np.zeros((2, 100))], r"X\[0\] must be 1-D"),
        ([np.zeros(10), np.zeros(0)], r"X\[1\] is empty"),
        ([np.zeros(10), np.r_[0.0, np.nan]], r"X\[1\] contains NaN"),
        ([np.r_[np.inf, 0.0]], r"X\[0\] contains NaN or infinity"),
        (np.ones((2, 10)) * 1j, "Complex data not supported"),
        ("song.mp3", "single path"),
        ([None], r"X\[0\] must be an audio path or a real waveform"),
        (None, "needs X"),
    ],
)
def test_bad_input_raises_clear_value_error(X, match):
    mel = MelSpectrogramTransformer(**FAST, duration=0.1)
    with pytest.raises(ValueError, match=match):
        mel.transform(X)
    with pytest.raises(ValueError, match=match):
        mel.fit(X)


def test_bad_files_raise_value_error_naming_file_and_position(audio, tmp_path):
    good = str(audio / TRUMPET)
    empty = tmp_path / "empty.mp3"
    empty.write_bytes(b"")
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(os.urandom(3000))
    mel = MelSpectrogramTransformer(**FAST, offset=0.0, duration=1.0)
    for bad, reason in [
        (tmp_path / "missing.wav", "no such file"),
        (empty, "empty"),
        (garbage, "Error"),
        (tmp_path, "not a regular file"),
    ]:
        with pytest.raises(ValueError, match=r"X\[1\]") as info:
            mel.transform([good, bad, good])
        assert str(bad) in str(info.value) and reason in str(info.value)
        assert "Traceback" not in str(info.value)


def test_on_error_zeros_warns_once_and_reports_positions_without_mutating(audio, tmp_path):
    from sktags.features import AudioDecodeWarning

    good = str(audio / TRUMPET)
    garbage = tmp_path / "garbage.ogg"
    garbage.write_bytes(b"OggS" + os.urandom(500))
    missing = str(tmp_path / "missing.flac")
    mel = MelSpectrogramTransformer(**FAST, offset=0.0, duration=1.0, on_error="zeros")
    before = pickle.dumps(mel)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = mel.transform([missing, good, garbage, good])
    decode = [w.message for w in caught if w.category is AudioDecodeWarning]
    assert len(caught) == len(decode) == 1
    message = str(decode[0])
    assert "2 of 4" in message and missing in message and str(garbage) in message
    np.testing.assert_array_equal(decode[0].failed, [0, 2])
    assert len(decode[0].errors) == 2 and all("\n" not in e for e in decode[0].errors)
    assert missing in decode[0].errors[0] and str(garbage) in decode[0].errors[1]
    assert pickle.dumps(mel) == before  # the estimator is not modified
    assert not [k for k in vars(mel) if k.endswith("_")]
    assert not got[[0, 2]].any()
    ref = MelSpectrogramTransformer(**FAST, offset=0.0, duration=1.0).transform([good])
    np.testing.assert_array_equal(got[1], ref[0])
    np.testing.assert_array_equal(got[3], ref[0])
    # extract() returns the same record beside the same features
    with pytest.warns(AudioDecodeWarning):
        result = mel.extract([missing, good, garbage, good])
    np.testing.assert_array_equal(result.features, got)
    assert result.failed.dtype == np.int64 and result.failed.tolist() == [0, 2]
    assert result.errors == decode[0].errors
    # no failure: no warning, an empty record
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert mel.extract([good]).failed.shape == (0,)
    with pytest.raises(ValueError, match="missing.flac"):
        mel.set_params(on_error="raise").transform([missing])


def test_many_failures_are_all_reported_and_listed_briefly(tmp_path):
    """Twelve bad files: every one in .failed/.errors; the warning lists ten."""
    from sktags.features import AudioDecodeWarning

    X = [str(tmp_path / f"missing{k}.wav") for k in range(12)] + [np.zeros(800, np.float32)]
    mel = MelSpectrogramTransformer(**FAST, offset=0.0, duration=0.1, on_error="zeros")
    with pytest.warns(AudioDecodeWarning, match="and 2 more") as caught:
        result = mel.extract(X)
    assert result.failed.tolist() == list(range(12)) and len(result.errors) == 12
    assert caught[0].message.failed.tolist() == list(range(12))


def test_transform_is_thread_safe_with_failures(audio, tmp_path):
    """One transformer shared by threads: each call gets its own record."""
    from concurrent.futures import ThreadPoolExecutor

    good = str(audio / TRUMPET)
    mel = MelSpectrogramTransformer(**FAST, offset=0.0, duration=0.5, on_error="zeros")
    batches = [[good] * k + [str(tmp_path / f"bad{k}.wav")] + [good] for k in range(6)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with ThreadPoolExecutor(3) as pool:
            results = list(pool.map(mel.extract, batches))
    assert [r.failed.tolist() for r in results] == [[k] for k in range(6)]
    assert all(f"bad{k}.wav" in r.errors[0] for k, r in enumerate(results))


# --------------------------------------------------------------- conventions
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(sr=0), "'sr' parameter .* must be an int in the range"),
        (dict(n_mels=2.5), "'n_mels' parameter .* must be an int"),
        (dict(hop_length=True), "'hop_length' parameter .* must be an int in the range .*Got True"),
        (dict(offset=-1.0), "'offset' parameter .* must be a float in the range"),
        (dict(offset=float("inf")), "'offset' parameter .* Got inf"),
        (dict(duration=float("nan")), "'duration' parameter .* must be a float"),
        (dict(duration=0.0), "'duration' parameter .* or None"),
        (dict(duration=1e-6), "holds no sample"),
        (dict(compression="log"), "'compression' parameter .*'log1p'.*Got 'log'"),
        (dict(on_error="skip"), "'on_error' parameter"),
        (dict(n_jobs=0), "'n_jobs' parameter"),
        (dict(memory=3), "'memory' parameter .* must be None"),
        (dict(verbose="loud"), "'verbose' parameter"),
    ],
)
def test_invalid_parameters(params, match):
    X = np.zeros((1, 100))
    for method in ("fit", "transform", "extract"):
        with pytest.raises(ValueError, match=match) as info:
            getattr(MelSpectrogramTransformer(**params), method)(X)
        assert "\n" not in str(info.value)


def test_set_output_pandas_is_refused_clearly():
    mel = MelSpectrogramTransformer(**FAST, duration=0.1)
    assert mel.set_output(transform="default") is mel
    for container in ("pandas", "polars"):
        with pytest.raises(ValueError, match="4-D array.*cannot be a DataFrame"):
            mel.set_output(transform=container)
    with config_context(transform_output="pandas"):
        with pytest.raises(ValueError, match="cannot be a DataFrame"):
            mel.transform(np.zeros((1, 100)))


def test_params_clone_pickle_and_stateless_fit(tmp_path):
    mel = MelSpectrogramTransformer(n_mels=64, compression="db", memory=str(tmp_path))
    assert mel.get_params()["n_mels"] == 64
    c = clone(mel)
    assert c.get_params() == mel.get_params() and c is not mel
    X = np.random.default_rng(3).standard_normal((2, 5000))
    small = dict(offset=0.0, duration=0.2)
    mel.set_params(**small)
    out = mel.transform(X)  # no fit needed
    restored = pickle.loads(pickle.dumps(mel))
    np.testing.assert_array_equal(restored.transform(X), out)
    assert mel.fit(X) is mel
    assert not [k for k in vars(mel) if k.endswith("_")]  # nothing learned
    assert MelSpectrogramTransformer.__init__.__kwdefaults__ == dict(
        sr=22050, n_fft=1024, hop_length=1024, n_mels=96, offset=30.0, duration=30.0,
        compression="log1p", n_jobs=None, memory=None, on_error="raise", verbose=0,
    )


def test_lazy_public_import():
    import sktags
    import sktags.features

    assert sktags.MelSpectrogramTransformer is MelSpectrogramTransformer
    assert set(sktags.features.__all__) >= {
        "MelSpectrogramTransformer", "extract_to_file", "ExtractionResult", "AudioDecodeWarning",
    }


def test_threading_backend_restores_blas_thread_limits():
    """Concurrent chunks in one process must leave the BLAS pools as they found them."""
    from joblib import parallel_config
    from threadpoolctl import threadpool_info

    before = [d["num_threads"] for d in threadpool_info()]
    X = np.random.default_rng(4).standard_normal((16, 4000))
    with parallel_config(backend="threading", n_jobs=4):
        MelSpectrogramTransformer(**FAST, duration=0.5).transform(X)
    assert [d["num_threads"] for d in threadpool_info()] == before


def test_30_s_preview_file_gives_the_whole_preview_with_paper_defaults(tmp_path):
    """The released dataset's audio is 30 s previews: the 30-60 s window must not be silence."""
    rng = np.random.default_rng(5)
    y = (0.1 * rng.standard_normal(30 * 48000)).astype(np.float32)  # 30 s at 48 kHz
    path = tmp_path / "preview.flac"
    sf.write(str(path), y, 48000)
    got = MelSpectrogramTransformer().transform([path])
    assert got.shape == (1, 1, 96, 646)
    ref, _ = librosa.load(str(path), sr=22050, mono=True)  # the whole preview
    assert ref.shape == (661500,)
    np.testing.assert_allclose(got[0, 0], librosa_logmel(ref), atol=1e-4)
    assert got[0, 0, :, -3:].min() > 0  # content up to the very end


def test_decode_error_in_parallel_workers_raises_and_leaves_the_pool_usable(audio, tmp_path):
    garbage = tmp_path / "garbage.wav"
    garbage.write_bytes(b"RIFF" + os.urandom(400))
    good = [str(audio / TRUMPET)] * 12
    mel = MelSpectrogramTransformer(**FAST, offset=0.0, duration=1.0, n_jobs=2)
    with pytest.raises(ValueError, match=r"X\[3\].*garbage\.wav"):
        mel.transform(good[:3] + [garbage] + good)
    out = mel.transform(good)
    np.testing.assert_array_equal(out, mel.set_params(n_jobs=1).transform(good))


# ------------------------------------------------------------------ whole tracks
def _frames(n_samples, hop=1024):
    return 1 + n_samples // hop


def test_whole_track_waveforms_match_librosa(brahms):
    """duration=None: each clip's whole signal from offset, librosa + log1p(100 M) within 1e-4."""
    rng = np.random.default_rng(6)
    X = [brahms, 0.3 * rng.standard_normal(161_000), brahms[:5000]]
    got = MelSpectrogramTransformer(offset=0.0, duration=None).fit_transform(X)
    assert isinstance(got, np.ndarray) and got.dtype == object and got.shape == (3,)
    for g, x in zip(got, X):
        assert g.dtype == np.float32 and g.flags.c_contiguous
        assert g.shape == (1, 96, _frames(len(x)))
        np.testing.assert_allclose(g[0], librosa_logmel(np.asarray(x, np.float32)), rtol=0, atol=1e-4)
    # from an offset: the rest of the clip; a clip not longer than the offset is given whole
    later = MelSpectrogramTransformer(offset=2.0, duration=None).transform(X)
    np.testing.assert_allclose(later[0][0], librosa_logmel(brahms[44100:]), atol=1e-4)
    assert later[0].shape == (1, 96, _frames(len(brahms) - 44100))
    np.testing.assert_array_equal(later[2], got[2])


def test_whole_track_files_match_librosa_load_whole(audio):
    paths = [str(audio / name) for name in (BRAHMS, TRUMPET, VIBE_MP3)]
    got = MelSpectrogramTransformer(offset=1.0, duration=None).transform(paths)
    for g, p in zip(got, paths):
        y, _ = librosa.load(p, sr=22050, mono=True, offset=1.0, duration=None)
        assert g.shape == (1, 96, _frames(len(y)))
        np.testing.assert_allclose(g[0], librosa_logmel(y), atol=1e-4)
    # a fixed excerpt is the start of the whole track (frames away from its end)
    fixed = MelSpectrogramTransformer(offset=1.0, duration=3.0).transform(paths[:1])
    np.testing.assert_allclose(fixed[0, 0, :, :60], got[0][0, :, :60], atol=1e-5)


def test_whole_track_cache_jobs_backends_and_on_error(audio, tmp_path):
    from joblib import parallel_config

    from sktags.features import AudioDecodeWarning
    from sktags.features._cache import SUBDIR

    paths = [str(audio / name) for name in (BRAHMS, TRUMPET, VIBE_MP3)]
    X = paths + [str(tmp_path / "missing.wav"), np.ones(3000, np.float32)]
    mel = MelSpectrogramTransformer(**FAST, offset=0.0, duration=None, on_error="zeros")
    with pytest.warns(AudioDecodeWarning):
        ref = mel.extract(X)
    assert ref.failed.tolist() == [3] and "missing.wav" in ref.errors[0]
    assert ref.features[3].shape == (1, 16, 0)  # a failed file has no frames
    assert [f.shape[2] for f in ref.features] != [ref.features[0].shape[2]] * 5

    def same(result):
        # equal up to float32 rounding: in joblib's worker threads the
        # one-thread BLAS limit of the front end is not in force for every
        # BLAS library (threadpoolctl reports two threads there), and a
        # two-thread matrix product can round the last bit differently (4.8e-7
        # was seen); processes (loky, Dask, Ray) give identical features
        assert result.failed.tolist() == [3]
        for a, b in zip(result.features, ref.features):
            assert a.shape == b.shape
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioDecodeWarning)
        same(mel.set_params(n_jobs=2).extract(X))
        with parallel_config(backend="threading", n_jobs=2):
            same(mel.set_params(n_jobs=None).extract(X))
        cached = mel.set_params(memory=tmp_path / "cache")
        same(cached.extract(X))  # fills the cache
        assert len(list((tmp_path / "cache" / SUBDIR).rglob("*.bin"))) == 3
        same(cached.extract(X))  # reads it
    with pytest.raises(ValueError, match=r"X\[3\].*missing\.wav"):
        mel.set_params(on_error="raise").transform(X)


def test_whole_track_object_array_passes_through_pipeline_and_indexing(brahms):
    from sklearn.model_selection import KFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    X = [brahms[: 22050 * k] for k in (1, 2, 3, 4)]
    mean_per_band = FunctionTransformer(lambda F: np.stack([f[0].mean(axis=1) for f in F]))
    pipe = make_pipeline(MelSpectrogramTransformer(offset=0.0, duration=None), mean_per_band)
    out = pipe.fit_transform(X)
    assert out.shape == (4, 96)
    F = pipe[0].transform(X)
    for train, test in KFold(2).split(F):  # numpy indexing of the object array
        assert F[test].dtype == object and [f.shape for f in F[test]] == [F[i].shape for i in test]


def test_long_tracks_are_computed_in_blocks_identical_to_librosa():
    """A track of several blocks of frames: the same as librosa (and no seam)."""
    from sktags.features import _logmel

    y = np.random.default_rng(7).standard_normal(8000 * 150).astype(np.float32)  # 4,688 frames
    got = MelSpectrogramTransformer(**FAST, offset=0.0, duration=None).transform([y])[0][0]
    assert got.shape[1] > 2 * _logmel._BLOCK_FRAMES
    np.testing.assert_allclose(got, librosa_logmel(y, **FAST), rtol=0, atol=1e-4)


@pytest.mark.parametrize("backend", ["sequential", "threading"])  # threads: calls are counted here
def test_cache_hits_and_failures_need_no_worker_and_keep_the_order(audio, tmp_path, monkeypatch, backend):
    from joblib import parallel_config

    import sktags.features._mel as mel_module
    from sktags.features import AudioDecodeWarning

    calls = []
    real = mel_module.compute_chunk

    def counting(items, config):
        calls.append([i for i, _, _ in items])
        return real(items, config)

    paths = [str(audio / name) for name in (BRAHMS, TRUMPET, VIBE_MP3)]
    for duration in (1.0, None):
        mel = MelSpectrogramTransformer(**FAST, offset=0.0, duration=duration, on_error="zeros",
                                        memory=tmp_path / str(duration))
        mel.transform(paths[:2])  # cached from now on
        X = paths[:2] * 4 + [str(tmp_path / "missing.wav")] + [paths[2], np.ones(900, np.float32)]
        reference = MelSpectrogramTransformer(**FAST, offset=0.0, duration=duration, on_error="zeros")
        with pytest.warns(AudioDecodeWarning):
            expected = reference.extract(X)
        calls.clear()
        monkeypatch.setattr(mel_module, "compute_chunk", counting)
        with pytest.warns(AudioDecodeWarning), parallel_config(backend=backend, n_jobs=2):
            got = mel.extract(X)
        monkeypatch.undo()
        assert sorted(i for c in calls for i in c) == [9, 10]  # only what is not cached
        assert got.failed.tolist() == expected.failed.tolist() == [8]
        for a, b in zip(got.features, expected.features):
            np.testing.assert_array_equal(a, b)
