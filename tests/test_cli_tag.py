"""``sktags tag`` at catalogue scale and ``sktags embed``: streaming, resume, failures, safety."""

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sktags import CNNTagger
from sktags.cli import main
from sktags.cli._models import load_model

TINY_MEL = ["--offset", "0", "--duration", "1", "--n-mels", "16", "--hop-length", "1024"]
REPO = Path(__file__).resolve().parents[1]


def _run(capsys, argv):
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def _one_line_error(status, err, *needles, code=1):
    assert status == code, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """16 short WAV clips with labels, a broken file, and a tiny model trained by the CLI."""
    from sktags.demo import make_context_mixtures

    root = tmp_path_factory.mktemp("tagcli")
    mix = make_context_mixtures(16, clip_duration=1.0, random_state=0)
    audio = root / "audio"
    audio.mkdir()
    ids = [f"t{i:02d}" for i in range(len(mix.data))]
    for tid, y in zip(ids, mix.data):
        sf.write(audio / f"{tid}.wav", y, mix.sr)
    names = list(mix.target_names)
    labels = root / "labels.csv"
    with open(labels, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["song_id", *names])
        w.writerows([t, *map(int, r)] for t, r in zip(ids, mix.target_observed))
    model = root / "model.sktags"
    assert main(["train", str(audio), "--labels", str(labels), "--weighting", "none",
                 "--epochs", "1", "--batch-size", "8", "-q", "-o", str(model), *TINY_MEL]) == 0
    broken = root / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEfmt not really" * 20)
    files = sorted(str(p) for p in audio.glob("*.wav"))
    return {"root": root, "audio": audio, "files": files, "names": names, "model": model,
            "broken": str(broken)}


def _expected(data, files):
    pipeline = load_model(data["model"])["pipeline"]
    return pipeline.predict_proba(files), pipeline.named_steps["tagger"].thresholds_


def _read_csv(path_or_text):
    text = Path(path_or_text).read_text() if isinstance(path_or_text, Path) else path_or_text
    return list(csv.DictReader(text.splitlines()))


def test_csv_is_one_row_per_file_with_status(capsys, data, tmp_path):
    files = data["files"][:5]
    inputs = [files[0], data["broken"], *files[1:]]
    out = tmp_path / "tags.csv"
    status, stdout, err = _run(capsys, ["tag", str(data["model"]), *inputs, "-o", str(out),
                                        "--batch-size", "2", "-k", "2"])
    assert status == 0, err
    assert "1 could not be decoded" in stdout
    rows = _read_csv(out)
    assert [r["file"] for r in rows] == inputs  # one row per file, in input order
    P, thresholds = _expected(data, files)
    names = data["names"]
    ok = [r for r in rows if r["status"] == "ok"]
    assert len(ok) == 5
    for r, p in zip(ok, P):
        np.testing.assert_allclose([float(r[n]) for n in names], p, atol=1e-6)
        order = np.argsort(-p, kind="stable")
        assert r["top"] == ";".join(names[j] for j in order[:2])
        assert r["predicted"] == ";".join(names[j] for j in order if p[j] >= thresholds[j])
        assert r["error"] == ""
    failed = rows[1]
    assert failed["status"] == "failed" and "broken.wav" in failed["error"]
    assert all(failed[n] == "" for n in names) and failed["predicted"] == ""


def test_jsonl_json_and_table_report_failures(capsys, data, tmp_path):
    inputs = [data["files"][0], data["broken"]]
    out = tmp_path / "tags.jsonl"
    assert _run(capsys, ["tag", str(data["model"]), *inputs, "-o", str(out)])[0] == 0
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["status"] for x in lines] == ["ok", "failed"]
    assert "tags" not in lines[1] and lines[1]["error"]
    P, _ = _expected(data, inputs[:1])
    got = {t["context"]: t["probability"] for t in lines[0]["tags"]}
    np.testing.assert_allclose([got[n] for n in data["names"]], P[0], atol=1e-6)
    status, stdout, err = _run(capsys, ["tag", str(data["model"]), *inputs, "--format", "json"])
    assert status == 0 and [x["status"] for x in json.loads(stdout)] == ["ok", "failed"]
    assert "could not be decoded" in err
    status, stdout, _ = _run(capsys, ["tag", str(data["model"]), *inputs])
    assert "FAILED" in stdout and "decision threshold" in stdout
    assert "\r" not in err and "\x1b" not in err  # no progress line when not a terminal


def test_files_from_a_list(capsys, data, tmp_path):
    listing = tmp_path / "list.txt"
    listing.write_text("\n".join([data["files"][2], "", str(tmp_path / "gone.mp3"),
                                  data["files"][3]]) + "\n")
    status, stdout, _ = _run(capsys, ["tag", str(data["model"]), "--files-from", str(listing),
                                      "--format", "csv"])
    assert status == 0
    rows = _read_csv(stdout)
    assert [r["status"] for r in rows] == ["ok", "failed", "ok"]
    assert rows[1]["file"].endswith("gone.mp3")


def test_output_that_is_an_input_is_refused_before_any_work(capsys, data, tmp_path):
    model = tmp_path / "m.sktags"
    model.write_bytes(data["model"].read_bytes())
    before = model.read_bytes()
    wav = data["files"][0]
    status, _, err = _run(capsys, ["tag", str(model), wav, "-o", str(model)])
    _one_line_error(status, err, "m.sktags", "input", code=2)
    link = tmp_path / "out.csv"
    link.symlink_to(model)
    status, _, err = _run(capsys, ["tag", str(model), wav, "-o", str(link), "--format", "csv"])
    _one_line_error(status, err, "input", code=2)
    status, _, err = _run(capsys, ["tag", str(model), wav, "--taggram", str(model)])
    _one_line_error(status, err, "input", code=2)
    status, _, err = _run(capsys, ["tag", str(model), wav, "-o", str(tmp_path / "a.csv"),
                                   "--taggram", str(tmp_path / "a.csv")])
    _one_line_error(status, err, "same file", code=2)
    audio_copy = tmp_path / "x.wav"
    audio_copy.write_bytes(Path(wav).read_bytes())
    status, _, err = _run(capsys, ["tag", str(model), str(tmp_path), "-o", str(audio_copy),
                                   "--format", "csv"])
    _one_line_error(status, err, "input", code=2)
    assert model.read_bytes() == before
    assert audio_copy.read_bytes() == Path(wav).read_bytes()


def test_taggram_rows_per_window(capsys, data, tmp_path):
    files = data["files"][:3]
    gram, out = tmp_path / "gram.csv", tmp_path / "tags.csv"
    status, _, err = _run(capsys, ["tag", str(data["model"]), *files, data["broken"],
                                   "--taggram", str(gram), "-o", str(out)])
    assert status == 0, err
    rows = _read_csv(gram)
    summary = {r["file"]: r for r in _read_csv(out)}
    assert [r["file"] for r in rows] == files  # a whole-excerpt model: one window at 0 s
    for r in rows:
        assert float(r["start"]) == 0.0
        assert all(r[n] == summary[r["file"]][n] for n in data["names"])


def test_whole_track_and_device_errors(capsys, data):
    wav = data["files"][0]
    status, _, err = _run(capsys, ["tag", str(data["model"]), wav, "--whole-track"])
    _one_line_error(status, err, "--crop-frames", code=2)
    status, _, err = _run(capsys, ["tag", str(data["model"]), wav, "--device", "tpu9"])
    _one_line_error(status, err, "tpu9")
    status, out, _ = _run(capsys, ["tag", str(data["model"]), wav, "--device", "cpu",
                                   "--format", "jsonl"])
    assert status == 0 and json.loads(out)["status"] == "ok"
    status, _, err = _run(capsys, ["tag", str(data["model"]), wav, "--resume"])
    assert status == 2 and "--resume needs -o" in err and len(err.strip().splitlines()) == 1
    status, _, err = _run(capsys, ["tag", str(data["model"])])
    assert status == 2 and "--files-from" in err


def test_whole_track_taggram_of_a_crop_model(capsys, data, tmp_path):
    from sktags.cli._models import save_model
    from sktags.features import MelSpectrogramTransformer

    bundle = load_model(data["model"])
    pipeline = bundle["pipeline"]
    mel = MelSpectrogramTransformer(offset=0.0, duration=1.0, n_mels=16)
    from sklearn.pipeline import Pipeline

    tagger = CNNTagger(module="short_chunk", crop_frames=16, crop_hop=8, max_epochs=1,
                       valid_size=None, random_state=0)
    Y = pipeline.predict(data["files"])
    crop = Pipeline([("mel", mel), ("tagger", tagger)]).fit(data["files"], Y)
    model = tmp_path / "crop.sktags"
    save_model(model, {**bundle, "pipeline": crop})
    gram = tmp_path / "gram.csv"
    long_clip = tmp_path / "long.wav"
    y = np.concatenate([sf.read(f)[0] for f in data["files"][:3]])
    sf.write(long_clip, y, 22050)
    status, out, err = _run(capsys, ["tag", str(model), str(long_clip), "--whole-track",
                                     "--taggram", str(gram), "--format", "csv"])
    assert status == 0, err
    whole = MelSpectrogramTransformer(offset=0.0, duration=None, n_mels=16).transform([str(long_clip)])
    [(starts, proba)] = tagger.predict_proba_windows(whole)
    rows = _read_csv(gram)
    np.testing.assert_allclose([float(r["start"]) for r in rows], starts * 1024 / 22050, atol=1e-3)
    np.testing.assert_allclose([[float(r[n]) for n in data["names"]] for r in rows], proba,
                               atol=1e-6)
    summary = _read_csv(out)[0]
    np.testing.assert_allclose([float(summary[n]) for n in data["names"]], proba.mean(axis=0),
                               atol=1e-6)


def test_embed_writes_embeddings_and_index(capsys, data, tmp_path):
    files = data["files"][:4]
    out = tmp_path / "emb.npy"
    status, _, err = _run(capsys, ["embed", str(data["model"]), *files[:2], data["broken"],
                                   *files[2:], "-o", str(out), "--batch-size", "3"])
    assert status == 0, err
    E = np.load(out)
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["ids"] == ["t00", "t01", "broken", "t02", "t03"] and meta["failed"] == [2]
    assert len(meta["errors"]) == 1
    pipeline = load_model(data["model"])["pipeline"]
    expected = pipeline.named_steps["tagger"].transform(pipeline[:-1].transform(files))
    np.testing.assert_allclose(np.delete(E, 2, axis=0), expected, atol=1e-6)
    assert np.isnan(E[2]).all() and E.dtype == np.float32


def _csv_by_file(path):
    rows = _read_csv(path)
    return {r["file"]: r for r in rows}, [r["file"] for r in rows]


@pytest.fixture(scope="module")
def many(data, tmp_path_factory):
    """300 audio files (links to the clips and the broken file) and a clean run's CSV."""
    many = tmp_path_factory.mktemp("many")
    sources = [*data["files"], data["broken"]]
    for k in range(300):
        os.symlink(sources[k % len(sources)], many / f"f{k:03d}.wav")
    clean = tmp_path_factory.mktemp("clean") / "clean.csv"
    assert main(["tag", str(data["model"]), str(many), "-o", str(clean), "-q",
                 "--batch-size", "4"]) == 0
    return many, clean


def _start(data, many, out, *extra):
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1")
    return subprocess.Popen([sys.executable, "-m", "sktags", "tag", str(data["model"]), str(many),
                             "-o", str(out), "--batch-size", "1", "-q", *extra], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_for_rows(proc, out, n):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        if out.exists() and out.read_bytes().count(b"\n") > n:
            return
        time.sleep(0.005)
    assert proc.poll() is None, proc.stderr.read().decode()  # still running


def _kill(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stderr.close()


@pytest.mark.slow
def test_killed_runs_resume_without_duplicates(capsys, data, many, tmp_path):
    """SIGKILL mid-run, then a resumed run killed too, then --resume: every file once."""
    many, clean = many
    expected, order = _csv_by_file(clean)
    assert len(order) == 300
    out = tmp_path / "tags.csv"
    for k, extra in enumerate([(), ("--resume",)]):
        proc = _start(data, many, out, *extra)
        try:
            _wait_for_rows(proc, out, 6 + 40 * k)
            _kill(proc)
        finally:
            if proc.poll() is None:
                proc.kill()
        partial, _ = _csv_by_file(out)
        assert 0 < len(partial) < 300
        with open(out, "ab") as fh:  # a torn last row, as a kill in the middle of a write leaves it
            fh.write(b"/torn/row.wav,ok,,gen")
    status, stdout, err = _run(capsys, ["tag", str(data["model"]), str(many), "-o", str(out),
                                        "--resume", "--batch-size", "4"])
    assert status == 0, err
    assert "already done" in stdout
    got, got_order = _csv_by_file(out)
    assert sorted(got_order) == sorted(order) and len(got_order) == 300  # each exactly once
    names = data["names"]
    for f in order:
        assert got[f]["status"] == expected[f]["status"]
        assert got[f]["predicted"] == expected[f]["predicted"]
        if expected[f]["status"] == "ok":
            np.testing.assert_allclose([float(got[f][n]) for n in names],
                                       [float(expected[f][n]) for n in names], atol=2e-6)
    # resuming a complete output does nothing more
    before = out.read_bytes()
    assert _run(capsys, ["tag", str(data["model"]), str(many), "-o", str(out), "--resume"])[0] == 0
    assert out.read_bytes() == before


@pytest.mark.slow
def test_a_second_run_on_the_same_output_is_refused(data, tmp_path):
    """Issue 17 class 1: two real processes on one output; the second refuses in one line."""
    folder = tmp_path / "long"
    folder.mkdir()
    for k in range(3000):  # enough for the first run to outlast the second's start
        os.symlink(data["files"][k % len(data["files"])], folder / f"f{k:04d}.wav")
    out = tmp_path / "tags.csv"
    first = _start(data, folder, out, "--resume")
    try:
        _wait_for_rows(first, out, 2)
        second = _start(data, folder, out, "--resume")
        _, err = second.communicate(timeout=120)
        assert second.returncode == 1, err  # 0.2: 0, having tagged the same files again
        assert first.poll() is None  # the first still runs: both were on the output at once
        lines = err.decode().strip().splitlines()
        assert len(lines) == 1 and "locked" in lines[0] and str(out) in lines[0]
    finally:
        _kill(first)
    got, order = _csv_by_file(out)
    assert len(order) == len(set(order)) > 0  # no file twice


def test_resume_with_another_model_or_options_is_refused(capsys, data, tmp_path):
    """Issue 17 class 2: the sidecar records the run; a different resume names the difference."""
    out = tmp_path / "tags.csv"
    files = data["files"][:3]
    base = ["tag", str(data["model"]), *files, "-o", str(out)]
    assert _run(capsys, base)[0] == 0
    before = out.read_bytes()
    other_model = tmp_path / "other.sktags"
    other_model.write_bytes(Path(data["model"]).read_bytes() + b"")
    bundle = load_model(data["model"])
    from sktags.cli._models import save_model

    save_model(other_model, {**bundle, "n_train": bundle["n_train"] + 1})
    for argv, needle in ((["--top-k", "2"], "top_k"),
                         (["--taggram", str(tmp_path / "gram.csv")], "taggram"),
                         (["--format", "jsonl"], "format")):
        status, _, err = _run(capsys, [*base, "--resume", *argv])
        _one_line_error(status, err, "cannot be resumed", needle)
    status, _, err = _run(capsys, ["tag", str(other_model), *files, "-o", str(out), "--resume"])
    _one_line_error(status, err, "cannot be resumed", "model_sha256")
    assert out.read_bytes() == before
    assert json.loads(Path(f"{out}.sktags-run.json").read_text())["top_k"] is None


def test_resume_redoes_a_damaged_row_in_the_middle(capsys, data, tmp_path):
    """Issue 17 class 3: a torn row and NUL bytes in the middle are not done work."""
    out = tmp_path / "tags.csv"
    files = data["files"][:6]
    assert _run(capsys, ["tag", str(data["model"]), *files, "-o", str(out)])[0] == 0
    expected, order = _csv_by_file(out)
    lines = out.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2][:30] + b"\n"  # files[1], torn
    lines[4] = b"\x00" * 64 + b"\n"  # files[3], a run of NUL bytes
    out.write_bytes(b"".join(lines))
    status, stdout, err = _run(capsys, ["tag", str(data["model"]), *files, "-o", str(out),
                                        "--resume"])
    assert status == 0, err
    assert "2 files tagged, 4 already done (2 damaged rows dropped and redone)" in stdout
    got, got_order = _csv_by_file(out)
    assert sorted(got_order) == sorted(order)
    for f in order:
        np.testing.assert_allclose([float(got[f][n]) for n in data["names"]],
                                   [float(expected[f][n]) for n in data["names"]], atol=2e-6)


def test_tag_names_that_are_output_columns_are_refused(capsys, data, tmp_path):
    """Issue 17 class 4: `train` refuses them; `tag` refuses a model that has them."""
    from sktags.inference import save_tagging_model
    from sktags.models import save_model

    bundle = load_model(data["model"])
    names = ["file", *bundle["target_names"][1:]]
    with pytest.raises(ValueError, match="tag name 'file'"):  # not written by the library
        save_tagging_model(tmp_path / "no.sktags", bundle["pipeline"], target_names=names)
    model = tmp_path / "cols.sktags"  # a model file of sktags 0.2 could hold such names
    save_model(model, bundle["pipeline"], metadata={"target_names": names})
    out = tmp_path / "tags.csv"
    status, _, err = _run(capsys, ["tag", str(model), data["files"][0], "-o", str(out)])
    _one_line_error(status, err, "tag name 'file' is also an output column")
    assert not out.exists()


def test_train_refuses_tag_names_that_are_output_columns(capsys, data, tmp_path):
    """Issue 17 class 4 through the CLI alone: sktags 0.2 trained this model (exit 0), and
    its `tag` CSV then had two 'status' columns."""
    labels = tmp_path / "labels.csv"
    ids = [Path(f).stem for f in data["files"]]
    labels.write_text("song_id,status,party\n" + "".join(
        f"{t},{i % 2},{(i // 2) % 2}\n" for i, t in enumerate(ids)))
    model = tmp_path / "m.sktags"
    status, _, err = _run(capsys, ["train", str(data["audio"]), "--labels", str(labels), "-o",
                                   str(model), "--weighting", "none", "--epochs", "1",
                                   "--batch-size", "8", "-q", *TINY_MEL])
    _one_line_error(status, err, "tag name 'status'")
    assert not model.exists()


def test_file_names_that_are_not_utf8_or_hold_a_newline(capsys, data, tmp_path):
    """Issue 17 class 10: kept exactly in CSV/JSONL, escaped in the table; the run goes on."""
    folder = tmp_path / "odd"
    folder.mkdir()
    raw = os.fsencode(folder) + b"/caf\xe9.wav"
    with open(raw, "wb") as fh:
        fh.write(Path(data["files"][0]).read_bytes())
    newline = folder / "two\nlines.wav"
    os.symlink(data["files"][1], newline)
    os.symlink(data["files"][2], folder / "plain.wav")
    out = tmp_path / "tags.csv"
    status, _, err = _run(capsys, ["tag", str(data["model"]), str(folder), "-o", str(out)])
    assert status == 0, err
    text = out.read_bytes()
    assert raw in text
    rows = list(csv.reader(io.StringIO(text.decode("utf-8", "surrogateescape"), newline="")))
    assert sorted(os.fsencode(r[0]) for r in rows[1:]) == sorted(
        [raw, os.fsencode(newline), os.fsencode(folder / "plain.wav")])
    status_of = {os.fsencode(r[0]): r[1] for r in rows[1:]}
    # the others are tagged; the non-UTF-8 one too, or its failure recorded for it alone
    assert status_of.pop(raw) in ("ok", "failed") and set(status_of.values()) == {"ok"}
    jl = tmp_path / "tags.jsonl"
    assert _run(capsys, ["tag", str(data["model"]), str(folder), "-o", str(jl)])[0] == 0
    assert sorted(os.fsencode(json.loads(line)["file"]) for line in jl.read_text().splitlines()) \
        == sorted(os.fsencode(r[0]) for r in rows[1:])
    table = tmp_path / "tags.txt"
    assert _run(capsys, ["tag", str(data["model"]), str(folder), "-o", str(table),
                         "--format", "table"])[0] == 0
    heads = [line for line in table.read_text().splitlines() if not line.startswith(" ")]
    assert heads[:3] == sorted([str(folder / "caf\\xe9.wav"), str(folder / "plain.wav"),
                                str(folder / "two\\nlines.wav")])


def test_a_feature_file_row_that_is_not_finite_fails_alone(capsys, data, tmp_path):
    """Issue 17 class 6: one non-finite row is a failure naming its file; the others are tagged."""
    feats = tmp_path / "f.npy"
    assert _run(capsys, ["extract", *data["files"][:4], "-o", str(feats), "-q", *TINY_MEL])[0] == 0
    X = np.load(feats)
    X[1, 0, 2, 3] = np.inf
    np.save(feats, X)
    out = tmp_path / "tags.csv"
    status, stdout, err = _run(capsys, ["tag", str(data["model"]), str(feats), "-o", str(out)])
    assert status == 0, err
    rows, order = _csv_by_file(out)
    assert [rows[f]["status"] for f in order] == ["ok", "failed", "ok", "ok"]
    assert order[1] == data["files"][1] and "not finite" in rows[order[1]]["error"]
    tagger = load_model(data["model"])["pipeline"].named_steps["tagger"]
    P = tagger.predict_proba(np.delete(X, 1, axis=0))
    np.testing.assert_allclose([[float(rows[f][n]) for n in data["names"]]
                                for f in np.delete(order, 1)], P, atol=2e-6)


def test_resume_refuses_an_output_of_another_kind(capsys, data, tmp_path):
    out = tmp_path / "other.csv"
    out.write_text("file,rank,context\nx.wav,1,party\n")
    status, _, err = _run(capsys, ["tag", str(data["model"]), data["files"][0], "-o", str(out),
                                   "--resume"])
    _one_line_error(status, err, "cannot be resumed")
    assert out.read_text() == "file,rank,context\nx.wav,1,party\n"


def test_embed_plumbing_with_a_stand_in_transform(capsys, data, tmp_path, monkeypatch):
    """Order, batching, failed rows (NaN + index) and the index format of ``sktags embed``.

    The tagger's ``transform`` is replaced by a stand-in computed independently
    (the log-mel mean per band), so this runs whatever the tagger offers.
    """
    def stand_in(self, X):
        X = np.stack(list(X)) if X.dtype == object else np.asarray(X)
        return X.mean(axis=(1, 3)).astype(np.float32)

    monkeypatch.setattr(CNNTagger, "transform", stand_in, raising=False)
    files = data["files"][:5]
    out = tmp_path / "emb.npy"
    status, stdout, err = _run(capsys, ["embed", str(data["model"]), *files[:2], data["broken"],
                                        *files[2:], "-o", str(out), "--batch-size", "2",
                                        "--device", "cpu"])
    assert status == 0, err
    E = np.load(out)
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["ids"] == ["t00", "t01", "broken", "t02", "t03", "t04"]
    assert meta["failed"] == [2] and "broken.wav" in meta["errors"][0]
    assert meta["shape"] == [6, 16] and meta["transformer"]["n_mels"] == 16
    mel = load_model(data["model"])["pipeline"].named_steps["mel"]
    np.testing.assert_allclose(np.delete(E, 2, axis=0), mel.transform(files).mean(axis=(1, 3)),
                               rtol=1e-6)
    assert np.isnan(E[2]).all() and "NaN" in err
    status, _, err = _run(capsys, ["embed", str(data["model"]), files[0], "-o", str(data["model"])])
    _one_line_error(status, err, ".npy")
    status, _, err = _run(capsys, ["embed", str(data["model"]), data["broken"], "-o",
                                   str(tmp_path / "none.npy")])
    _one_line_error(status, err, "none of the 1 files")
    assert not (tmp_path / "none.npy").exists() and not (tmp_path / "none.json").exists()


def test_a_folder_entry_that_cannot_be_read_is_a_failed_row_not_skipped(capsys, data, tmp_path):
    """A dangling link, a FIFO and an empty file named like audio: one failed row each
    (sktags 0.2 left the link and the FIFO out of the output without a word)."""
    folder = tmp_path / "mixed"
    folder.mkdir()
    os.symlink(data["files"][0], folder / "a_good.wav")
    os.symlink(tmp_path / "gone.wav", folder / "b_dangling.wav")
    os.mkfifo(folder / "c_fifo.wav")
    (folder / "d_empty.wav").write_bytes(b"")
    (folder / "notes.txt").write_text("not audio")
    out = tmp_path / "tags.csv"
    status, _, err = _run(capsys, ["tag", str(data["model"]), str(folder), "-o", str(out), "-q"])
    assert status == 0, err
    rows = _read_csv(out)
    assert [Path(r["file"]).name for r in rows] == [
        "a_good.wav", "b_dangling.wav", "c_fifo.wav", "d_empty.wav"]
    assert [r["status"] for r in rows] == ["ok", "failed", "failed", "failed"]
    for row, needle in zip(rows[1:], ["no such file", "not a regular file", "empty"]):
        assert needle in row["error"], row
