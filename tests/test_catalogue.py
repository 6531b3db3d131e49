"""Catalogue-scale inference (sktags.inference): streaming features, tagging, resumable output."""

import csv
import io
import json
import os

import joblib
import numpy as np
import pytest
import soundfile as sf
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.pipeline import Pipeline

from sktags import CNNTagger, MelSpectrogramTransformer
from sktags.inference import (
    StreamWriter,
    iter_spectrograms,
    move_to_device,
    prefix_of_files,
    read_done,
    tag_files,
)

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


# ------------------------------------------------------------------ streamed output


def _csv_text(rows):
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue()


names = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\x00"),
                min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(files=st.lists(names, min_size=0, max_size=8, unique=True), cut=st.integers(0, 10_000),
       fmt=st.sampled_from(["csv", "jsonl"]))
def test_read_done_keeps_exactly_the_complete_rows(tmp_path_factory, files, cut, fmt):
    """Any prefix of an output (a killed run) reads back as its complete rows only."""
    header = ["file", "status"]
    if fmt == "csv":
        rows = [_csv_text([header])] + [_csv_text([[f, "ok"]]) for f in files]
    else:
        rows = [""] + [json.dumps({"file": f, "status": "ok"}) + "\n" for f in files]
    data = "".join(rows).encode()
    cut = min(cut, len(data))
    path = tmp_path_factory.mktemp("rd") / f"out.{fmt}"
    path.write_bytes(data[:cut])
    done, keep = read_done(path, fmt, header)
    ends = np.cumsum([len(r.encode()) for r in rows])
    complete = [f for f, end in zip(files, ends[1:]) if end <= cut]
    assert done == set(complete)
    header_end = ends[0] if cut >= ends[0] else 0
    assert keep == max([header_end] + [e for e in ends[1:] if e <= cut])
    # resuming appends the remaining rows after the complete part: the whole output
    with StreamWriter(path, header=rows[0], keep=keep) as w:
        for f, row in zip(files, rows[1:]):
            if f not in done:
                w.write(row)
    assert path.read_bytes() == data


def test_read_done_refuses_other_columns_and_damage(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("file,status,a\nx.wav,ok,0.1\n")
    with pytest.raises(ValueError, match="cannot be resumed"):
        read_done(path, "csv", ["file", "status", "b"])
    path.write_text("file,status\nx.wav,ok\n\xff\n")
    path.write_bytes(b"file,status\nx.wav,ok\n\xff\xfe bad\ny.wav,ok\n")
    with pytest.raises(ValueError, match="line 3"):
        read_done(path, "csv", ["file", "status"])
    path.write_bytes(b"file,status\nx.wav,ok\n\xff\xfe bad\n")  # a damaged last row is cut
    assert read_done(path, "csv", ["file", "status"]) == ({"x.wav"}, 21)
    j = tmp_path / "t.jsonl"
    j.write_text('{"file": "a", "status": "ok"}\n[1, 2]\n{"file": "b"}\n')
    with pytest.raises(ValueError, match="line 2"):
        read_done(j, "jsonl")
    assert read_done(tmp_path / "absent.csv", "csv") == (set(), 0)


def test_prefix_of_files_cuts_rows_of_files_not_done(tmp_path):
    path = tmp_path / "gram.csv"
    text = _csv_text([["file", "start"], ["a", "0"], ["a", "1"], ["b", "0"], ["c", "0"]])
    path.write_text(text + "c,1")
    keep = prefix_of_files(path, "csv", {"a", "b"})
    assert path.read_bytes()[:keep].decode() == _csv_text(
        [["file", "start"], ["a", "0"], ["a", "1"], ["b", "0"]])
    assert prefix_of_files(path, "csv", set()) == len("file,start\n")
    assert os.path.getsize(path) > keep


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
