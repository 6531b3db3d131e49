"""Catalogue-scale inference (sktags.inference._catalogue): streaming features and tagging."""

import joblib
import numpy as np
import pytest
import soundfile as sf
from sklearn.pipeline import Pipeline

from sktags import CNNTagger, MelSpectrogramTransformer
from sktags.inference import iter_spectrograms, move_to_device, tag_files

MEL = {"offset": 0.0, "duration": 1.0, "n_mels": 16}


@pytest.fixture(scope="module")
def audio(tmp_path_factory):
    """Nine short WAV clips of different lengths (0.5-1.3 s) and one undecodable file."""
    root = tmp_path_factory.mktemp("catalogue")
    rng = np.random.default_rng(0)
    files = []
    for i in range(9):
        n = int(22050 * (0.5 + 0.1 * i))
        t = np.arange(n) / 22050
        y = 0.3 * np.sin(2 * np.pi * (200 + 90 * i) * t) + rng.normal(0, 0.02, n)
        files.append(str(root / f"clip{i}.wav"))
        sf.write(files[-1], y.astype(np.float32), 22050)
    bad = root / "broken.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00not audio at all" * 10)
    return files, str(bad)


@pytest.fixture(scope="module")
def pipeline(audio):
    files, _ = audio
    Y = np.array([[i % 2, (i // 2) % 2, int(i < 4)] for i in range(len(files))])
    pipe = Pipeline([
        ("mel", MelSpectrogramTransformer(**MEL)),
        ("tagger", CNNTagger(filters=(2, 2, 2, 2), hidden_units=4, max_epochs=1, batch_size=4,
                             valid_size=None, random_state=0)),
    ])
    return pipe.fit(files, Y)


def test_spectrograms_stream_in_order_with_failures_named(audio):
    files, bad = audio
    inputs = [files[0], bad, *files[1:5], "/no/such/file.wav", files[5]]
    mel = MelSpectrogramTransformer(**MEL)
    expected = mel.transform(files[:6])  # computed in one call, independently
    for n_jobs, chunk in ((1, 1), (1, 3), (2, 2)):
        got = list(iter_spectrograms(mel, inputs, n_jobs=n_jobs, chunk_size=chunk))
        assert [g[0] for g in got] == list(range(len(inputs)))
        failed = [i for i, s, e in got if e is not None]
        assert failed == [1, 6]
        assert all(s is None for i, s, e in got if i in failed)
        assert "broken.wav" in got[1][2] and "\n" not in got[1][2]
        specs = [s for _, s, e in got if e is None]
        np.testing.assert_array_equal(np.stack(specs), expected)


def test_backend_without_streaming_results_falls_back(audio):
    # joblib's multiprocessing backend refuses return_as="generator"
    files, bad = audio
    mel = MelSpectrogramTransformer(**MEL)
    with joblib.parallel_config(backend="multiprocessing"):
        got = list(iter_spectrograms(mel, [*files, bad], n_jobs=2, chunk_size=2))
    assert [g[0] for g in got] == list(range(len(files) + 1))
    assert got[-1][1] is None and got[-1][2]
    np.testing.assert_array_equal(np.stack([s for _, s, _ in got[:-1]]), mel.transform(files))


def test_tag_files_equals_predict_proba_across_batches(audio, pipeline):
    files, bad = audio
    inputs = [*files[:4], bad, *files[4:]]
    expected = pipeline.predict_proba(files)
    tagger = pipeline.named_steps["tagger"]
    for batch_size in (1, 3, 50):
        results = list(tag_files(pipeline, inputs, batch_size=batch_size))
        assert [r.position for r in results] == list(range(len(inputs)))
        assert [r.file for r in results] == inputs
        assert [r.ok for r in results] == [True] * 4 + [False] + [True] * 5
        assert results[4].proba is None and results[4].predicted is None
        P = np.array([r.proba for r in results if r.ok])
        np.testing.assert_allclose(P, expected, rtol=0, atol=1e-6)
        D = np.array([r.predicted for r in results if r.ok])
        np.testing.assert_array_equal(D, tagger.predict(np.asarray(pipeline[:-1].transform(files))))


def test_non_finite_audio_is_a_failure_of_that_file_alone(audio, pipeline, tmp_path):
    """Issue 17 class 6: inf samples fail their file (named), the others are tagged."""
    files, _ = audio
    y = sf.read(files[0], dtype="float32")[0]
    y[100:200] = np.inf
    bad = str(tmp_path / "inf.wav")
    sf.write(bad, y, 22050, subtype="FLOAT")
    results = list(tag_files(pipeline, [files[1], bad, files[2]], batch_size=2))
    assert [r.ok for r in results] == [True, False, True]
    assert results[1].file == bad and results[1].error
    np.testing.assert_allclose([results[0].proba, results[2].proba],
                               pipeline.predict_proba([files[1], files[2]]), atol=1e-6)


def test_tag_features_equals_predict_proba_with_failed_and_non_finite_rows(audio, pipeline):
    from sktags.inference import tag_features  # new in 0.3: the other tests also run on 0.2

    files, _ = audio
    X = np.array(pipeline[:-1].transform(files))
    tagger = pipeline.named_steps["tagger"]
    expected = tagger.predict_proba(X)
    X[4, 0, 3, 5] = np.nan
    for batch_size in (1, 4, 50):
        results = list(tag_features(tagger, X, files, failed=[2], errors=["gone"],
                                    batch_size=batch_size))
        assert [r.position for r in results] == list(range(len(files)))
        assert [r.ok for r in results] == [i not in (2, 4) for i in range(len(files))]
        assert results[2].error == "gone" and "not finite" in results[4].error
        good = [i for i in range(len(files)) if i not in (2, 4)]
        np.testing.assert_allclose([results[i].proba for i in good], expected[good], atol=1e-6)
        np.testing.assert_array_equal([results[i].predicted for i in good],
                                      expected[good] >= tagger.thresholds_)
    with pytest.raises(ValueError, match="batch_size"):
        tag_features(tagger, X, files, batch_size=0)


def test_windows_of_a_whole_input_model_are_one_window_at_zero(audio, pipeline):
    files, _ = audio
    results = list(tag_files(pipeline, files[:3], windows=True))
    for r, p in zip(results, pipeline.predict_proba(files[:3])):
        assert r.window_starts.tolist() == [0]
        np.testing.assert_allclose(r.window_proba[0], p, atol=1e-6)
        np.testing.assert_allclose(r.proba, r.window_proba.mean(axis=0))


def test_all_failures_stay_bounded_and_reported(audio, pipeline):
    _, bad = audio
    results = list(tag_files(pipeline, [bad] * 9, batch_size=2))
    assert len(results) == 9 and not any(r.ok for r in results)


def test_embeddings_equal_transform(audio, pipeline):
    files, bad = audio
    results = list(tag_files(pipeline, [bad, *files], embed=True, tag=False, batch_size=4))
    E = np.array([r.embedding for r in results[1:]])
    expected = pipeline.named_steps["tagger"].transform(pipeline[:-1].transform(files))
    np.testing.assert_allclose(E, expected, atol=1e-6)
    assert results[0].embedding is None and results[1].proba is None


def test_move_to_device(pipeline, audio):
    files, _ = audio
    tagger = pipeline.named_steps["tagger"]
    before = pipeline.predict_proba(files[:2])
    move_to_device(tagger, "cpu")
    assert tagger.device_ == "cpu" and str(tagger.net_.device) == "cpu"
    np.testing.assert_allclose(pipeline.predict_proba(files[:2]), before)
    with pytest.raises(ValueError, match="not-a-device"):
        move_to_device(tagger, "not-a-device")
    tagger.set_params(device="auto")


def test_a_slow_consumer_keeps_a_bounded_number_of_tasks_ahead(monkeypatch):
    """joblib dispatches on completion, not consumption: rounds must bound the backlog."""
    import threading
    import time

    from sktags.inference import _catalogue

    started = []
    lock = threading.Lock()

    def fake_group(transformer, paths):
        with lock:
            started.append(len(paths))
        return [(np.zeros((1, 2, 3), dtype=np.float32), None) for _ in paths]

    monkeypatch.setattr(_catalogue, "_decode_group", fake_group)
    files = [f"f{i}.wav" for i in range(200)]
    with joblib.parallel_config(backend="threading"):
        stream = iter_spectrograms(MelSpectrogramTransformer(), files, n_jobs=2, chunk_size=1,
                                   round_size=16)
        first = next(stream)
        time.sleep(0.5)  # the consumer is slow: the workers must not run far ahead
        assert first[0] == 0
        assert len(started) <= 16  # one round
        rest = list(stream)
    assert [p for p, _, _ in rest] == list(range(1, 200)) and sum(started) == 200


def test_dask_backend_gives_the_same_spectrograms(audio):
    distributed = pytest.importorskip("distributed")
    files, bad = audio
    mel = MelSpectrogramTransformer(**MEL)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, distributed.Client(cluster):
        with joblib.parallel_config(backend="dask"):
            got = list(iter_spectrograms(mel, [bad, *files], chunk_size=2))
    assert [g[0] for g in got] == list(range(len(files) + 1)) and got[0][2]
    assert [e for _, _, e in got[1:]] == [None] * len(files), got
    np.testing.assert_array_equal(np.stack([s for _, s, _ in got[1:]]), mel.transform(files))
