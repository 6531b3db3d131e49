"""The command line's inputs and outputs: failed files, thresholds, overwrites, messages.

Tiny data (12 one-second clips, 16 mel bands, 1 epoch). Each test names the
defect it covers; it failed before the fix.
"""

import contextlib
import csv
import io
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
import soundfile as sf

from sktags.cli import main
from sktags.cli._models import load_model

TINY_MEL = ["--offset", "0", "--duration", "1", "--n-mels", "16", "--hop-length", "1024"]
BROKEN = ("2000", "2001")


def _run(capsys, argv):
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def _one_line(err):
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_csv(path, header, rows):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """12 clips named by track id, two undecodable files, labels, and a feature file."""
    from sktags.demo import make_context_mixtures

    root = tmp_path_factory.mktemp("cli_io")
    mix = make_context_mixtures(12, clip_duration=1.0, random_state=1, hidden_share=0.0)
    audio = root / "audio"
    audio.mkdir()
    ids = [str(1000 + i) for i in range(len(mix.data))]
    for tid, y in zip(ids, mix.data):
        sf.write(audio / f"{tid}.wav", y, mix.sr)
    for tid in BROKEN:
        (audio / f"{tid}.wav").write_bytes(b"RIFF not really a wav file " + tid.encode())
    names = list(mix.target_names)
    Y = np.asarray(mix.target_observed, dtype=np.uint8)
    labels = _write_csv(root / "labels.csv", ["song_id", *names],
                        [[t, *map(int, r)] for t, r in zip(ids, Y)])
    labels_all = _write_csv(root / "labels_all.csv", ["song_id", *names],
                            [[t, *map(int, r)] for t, r in zip(ids, Y)]
                            + [[t, *([1] * len(names))] for t in BROKEN])
    feats = root / "feats.npy"
    status = main(["extract", str(audio), "-o", str(feats), "-q", "--on-error", "zeros",
                   *TINY_MEL])
    assert status == 0
    return {"root": root, "audio": audio, "ids": ids, "names": names, "Y": Y,
            "labels": labels, "labels_all": labels_all, "feats": feats}


@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    """A model trained through the CLI on the feature file with two failed rows."""
    out = tmp_path_factory.mktemp("cli_io_model") / "model.sktags"
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        status = main(["train", str(data["feats"]), "--labels", str(data["labels_all"]),
                       "--weighting", "none", "--epochs", "1", "--batch-size", "4",
                       "--device", "cpu", "--random-state", "3", "-q", "-o", str(out)])
    assert status == 0, stderr.getvalue()
    return out, stdout.getvalue(), stderr.getvalue()


@pytest.fixture(scope="module")
def model(trained):
    return trained[0]


# ----------------------------------------------------------------- 1. several failed files


def test_extract_on_error_zeros_with_two_bad_files_writes_the_index(capsys, data, tmp_path):
    """Class 1: two bad files crashed ('truth value of an array is ambiguous'), no index."""
    out = tmp_path / "f.npy"
    status, stdout, err = _run(capsys, ["extract", str(data["audio"]), "-o", str(out), "-q",
                                        "--on-error", "zeros", *TINY_MEL])
    assert status == 0, err
    meta = json.loads(out.with_suffix(".json").read_text())
    rows = [meta["ids"].index(t) for t in BROKEN]
    assert meta["failed"] == rows and len(meta["errors"]) == 2
    for t in BROKEN:
        assert f"{t}.wav" in stdout
    X = np.load(out)
    assert not X[rows].any() and all(X[i].any() for i in range(len(X)) if i not in rows)


# ----------------------------------------------------------------- 2. failed rows are not audio


def test_train_excludes_failed_rows_and_names_them(data, trained):
    """Class 2: rows of undecodable files were trained on as silent audio."""
    _, out, err = trained
    assert f"training on {len(data['ids'])} tracks" in out
    assert "could not be decoded" in err and all(repr(t) in err for t in BROKEN)


def test_evaluate_excludes_failed_rows(capsys, data, model):
    from sktags.metrics import context_report

    status, out, err = _run(capsys, ["evaluate", str(model), str(data["feats"]), "--labels",
                                     str(data["labels_all"])])
    assert status == 0, err
    assert f"Table 1 on {len(data['ids'])} tracks" in out
    assert all(repr(t) in err for t in BROKEN)
    X = np.load(data["feats"])
    meta = json.loads(data["feats"].with_suffix(".json").read_text())
    good = [meta["ids"].index(t) for t in data["ids"]]
    tagger = load_model(model)["pipeline"].named_steps["tagger"]
    P = tagger.predict_proba(X[good])
    expected = context_report(data["Y"], P, threshold=tagger.thresholds_,
                              target_names=data["names"])
    assert str(expected) in out


def test_feature_index_gives_the_failed_rows(data, tmp_path):
    """``load_features`` gives ``tag`` the failed rows; a 0.1 index of track ids is refused."""
    import json

    from sktags.features import load_features

    _, meta = load_features(data["feats"])
    assert meta["failed"] == sorted(meta["ids"].index(t) for t in BROKEN)
    old = tmp_path / "old.npy"
    old.write_bytes(Path(data["feats"]).read_bytes())
    old.with_suffix(".json").write_text(json.dumps(dict(meta, failed=list(BROKEN))))
    with pytest.raises(ValueError, match="'failed' must list row indices"):
        load_features(old)


# ----------------------------------------------------------------- 3. evaluate's thresholds


def test_evaluate_uses_the_models_thresholds(capsys, data, model, tmp_path):
    """Class 3: evaluate scored at 0.5 whatever the model's thresholds."""
    from sktags.cli._models import save_model
    from sktags.metrics import context_report

    bundle = load_model(model)
    tagger = bundle["pipeline"].named_steps["tagger"]
    thresholds = np.linspace(0.2, 0.8, len(data["names"]))
    tagger.thresholds_ = thresholds
    tuned = tmp_path / "tuned.sktags"
    save_model(tuned, bundle)
    X = np.load(data["feats"])
    meta = json.loads(data["feats"].with_suffix(".json").read_text())
    P = tagger.predict_proba(X[[meta["ids"].index(t) for t in data["ids"]]])
    report_json = tmp_path / "r.json"
    status, out, _ = _run(capsys, ["evaluate", str(tuned), str(data["feats"]), "--labels",
                                   str(data["labels"]), "--json", str(report_json)])
    assert status == 0
    assert "the model's per-context thresholds" in out
    mine = context_report(data["Y"], P, threshold=thresholds, target_names=data["names"])
    at_half = context_report(data["Y"], P, threshold=0.5, target_names=data["names"])
    assert str(mine) in out and str(mine) != str(at_half)
    saved = json.loads(report_json.read_text())
    assert list(saved["threshold"].values()) == pytest.approx(thresholds)
    status, out, _ = _run(capsys, ["evaluate", str(tuned), str(data["feats"]), "--labels",
                                   str(data["labels"]), "--threshold", "0.5"])
    assert status == 0 and "--threshold 0.5" in out and str(at_half) in out


# ----------------------------------------------------------------- 4. outputs that are inputs


def test_outputs_that_are_inputs_are_refused_before_any_work(capsys, data, model, tmp_path):
    """Class 4: `train X -o X` and `evaluate ... --json LABELS` destroyed their input."""
    feats = data["feats"]
    before = {p: p.read_bytes() for p in (feats, data["labels"], model)}
    status, out, err = _run(capsys, ["train", str(feats), "--labels", str(data["labels"]),
                                     "-o", str(feats), "--epochs", "1"])
    assert status == 2 and "training on" not in out
    assert "is one of this command's inputs" in _one_line(err)
    status, _, err = _run(capsys, ["train", str(feats), "--labels", str(data["labels"]),
                                   "-o", str(data["labels"]), "--epochs", "1"])
    assert status == 2 and "labels.csv" in _one_line(err)
    status, out, err = _run(capsys, ["evaluate", str(model), str(feats), "--labels",
                                     str(data["labels"]), "--json", str(data["labels"])])
    assert status == 2 and out == "" and "labels.csv" in _one_line(err)
    # through a symbolic link, and onto the index beside the feature file
    link = tmp_path / "link.json"
    link.symlink_to(model)
    status, out, err = _run(capsys, ["evaluate", str(model), str(feats), "--labels",
                                     str(data["labels"]), "--json", str(link)])
    assert status == 2 and out == "" and "model.sktags" in _one_line(err)
    status, _, err = _run(capsys, ["evaluate", str(model), str(feats), "--labels",
                                   str(data["labels"]), "--json", str(feats.with_suffix(".json"))])
    assert status == 2 and "feats.json" in _one_line(err)
    assert all(p.read_bytes() == b for p, b in before.items())


def test_train_output_onto_an_audio_input_is_refused(capsys, tmp_path):
    audio = tmp_path / "audio"
    (audio / "sub").mkdir(parents=True)
    wav = audio / "sub" / "1000.wav"
    sf.write(wav, np.zeros(2205), 22050)
    labels = _write_csv(tmp_path / "l.csv", ["song_id", "club"], [["1000", 1]])
    before = wav.read_bytes()
    status, out, err = _run(capsys, ["train", str(audio), "--labels", str(labels),
                                     "-o", str(wav), "--epochs", "1", *TINY_MEL])
    assert status == 2 and "1000.wav" in _one_line(err) and out == ""
    assert wav.read_bytes() == before


def test_refuse_overwrite_hard_link(tmp_path):
    from sktags.cli._errors import CLIUsageError
    from sktags.cli._paths import refuse_overwrite

    a = tmp_path / "a.csv"
    a.write_text("x")
    os.link(a, tmp_path / "b.csv")
    with pytest.raises(CLIUsageError, match="b.csv"):
        refuse_overwrite([tmp_path / "b.csv"], [a])
    refuse_overwrite([tmp_path / "c.csv", None], [a, None])  # not an input: fine


# ----------------------------------------------------------------- 5. smaller silent cases


def test_negative_valid_size_is_refused(capsys, data, tmp_path):
    status, out, err = _run(capsys, ["train", str(data["feats"]), "--labels", str(data["labels"]),
                                     "-o", str(tmp_path / "m.sktags"), "--valid-size", "-0.1"])
    # CNNTagger's own message, unchanged
    assert status == 1 and "'valid_size' parameter of CNNTagger" in _one_line(err) and "-0.1" in err
    assert list(tmp_path.iterdir()) == []


def test_front_end_options_with_a_feature_file_are_refused(capsys, data, tmp_path):
    status, out, err = _run(capsys, ["train", str(data["feats"]), "--labels", str(data["labels"]),
                                     "-o", str(tmp_path / "m.sktags"), "--n-mels", "8"])
    assert status == 2 and "--n-mels" in _one_line(err) and "feature file" in err
    assert list(tmp_path.iterdir()) == []


def test_groups_file_listing_a_track_twice_is_refused(capsys, data, tmp_path):
    groups = _write_csv(tmp_path / "g.csv", ["song_id", "artist_id"],
                        [[t, i % 3] for i, t in enumerate(data["ids"])] + [[data["ids"][2], 9]])
    status, _, err = _run(capsys, ["train", str(data["feats"]), "--labels", str(data["labels"]),
                                   "-o", str(tmp_path / "m.sktags"), "--groups", str(groups)])
    line = _one_line(err)
    assert status == 1 and f"duplicated song_id {data['ids'][2]!r}" in line
    assert f"line {len(data['ids']) + 2}" in line and "first on line 4" in line


def test_labels_without_positives(capsys, data, tmp_path):
    names = data["names"]
    zeros = _write_csv(tmp_path / "zeros.csv", ["song_id", *names],
                       [[t, *([0] * len(names))] for t in data["ids"]])
    status, _, err = _run(capsys, ["train", str(data["feats"]), "--labels", str(zeros),
                                   "-o", str(tmp_path / "m.sktags")])
    assert status == 1 and "no track has any context" in _one_line(err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["zeros.csv"]  # no checkpoint left
    Y = data["Y"].copy()
    Y[:, 1] = 0
    Y[:, 0] = 1
    one_empty = _write_csv(tmp_path / "one_empty.csv", ["song_id", *names],
                           [[t, *map(int, r)] for t, r in zip(data["ids"], Y)])
    status, _, err = _run(capsys, ["train", str(data["feats"]), "--labels", str(one_empty),
                                   "-o", str(tmp_path / "m.sktags"), "--epochs", "1", "-q",
                                   "--weighting", "none", "--device", "cpu"])
    assert status == 0
    assert "warning" in err and repr(names[1]) in err and repr(names[0]) not in err.split("warning")[1]


def test_symlinked_sub_folders_are_followed_once(capsys, tmp_path):
    from sktags.cli._paths import collect_audio

    top, other = tmp_path / "top", tmp_path / "other"
    (top / "sub").mkdir(parents=True)
    other.mkdir()
    for path in (top / "1.wav", top / "sub" / "2.wav", other / "3.wav"):
        sf.write(path, np.zeros(2205), 22050)
    (top / "linked").symlink_to(other, target_is_directory=True)
    (top / "sub" / "loop").symlink_to(top, target_is_directory=True)  # a loop
    (top / "dangling").symlink_to(tmp_path / "nowhere")
    names = sorted(p.name for p in collect_audio([top]))
    assert names == ["1.wav", "2.wav", "3.wav"]
    assert [p.name for p in collect_audio([top], recursive=False)] == ["1.wav"]


# ----------------------------------------------------------------- 6. raw tracebacks


def test_index_without_transformer_and_model_without_fields(capsys, data, model, tmp_path):
    feats = tmp_path / "f.npy"
    np.save(feats, np.zeros((2, 1, 16, 22), dtype=np.float32))
    feats.with_suffix(".json").write_text(json.dumps({"ids": ["1000", "1001"]}))
    status, _, err = _run(capsys, ["train", str(feats), "--labels", str(data["labels"]),
                                   "--skip-missing", "-o", str(tmp_path / "m.sktags")])
    line = _one_line(err)
    assert status == 1 and "'transformer'" in line and "f.json" in line
    status, _, err = _run(capsys, ["evaluate", str(model), str(feats), "--labels",
                                   str(data["labels"]), "--skip-missing"])
    assert status == 1 and "'transformer'" in _one_line(err)
    bad_model = tmp_path / "bad.sktags"
    from sktags.models import save_model as save_estimator

    pipeline = load_model(model)["pipeline"]
    save_estimator(bad_model, pipeline, metadata={"format": "sktags-model"})
    status, _, err = _run(capsys, ["evaluate", str(bad_model), str(data["feats"]), "--labels",
                                   str(data["labels"])])
    line = _one_line(err)
    assert status == 1 and "'target_names'" in line and "bad.sktags" in line
    assert "KeyError" not in err


def test_broken_pipe_exits_quietly(tmp_path):
    """Class 14: `sktags ... | head -1` printed '[Errno 32] Broken pipe'."""
    wav = tmp_path / "1.wav"
    sf.write(wav, np.zeros(22050), 22050)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sktags", "extract", str(wav), "-o", str(tmp_path / "f.npy"),
         "-q", *TINY_MEL],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader is gone before sktags prints
    _, err = proc.communicate(timeout=120)
    assert err.decode() == ""
    assert proc.returncode == 141
    assert (tmp_path / "f.json").is_file()  # the work itself was done


# ----------------------------------------------------------------- 7. messages


def test_messages_say_what_is_wrong(capsys, data, tmp_path):
    base = ["train", str(data["feats"]), "-o", str(tmp_path / "m.sktags"), "--epochs", "1"]
    headless = tmp_path / "headless.csv"
    headless.write_text("1000,1,0,0\n1001,0,0,1\n")
    status, _, err = _run(capsys, [*base, "--labels", str(headless)])
    line = _one_line(err)
    assert status == 1 and "looks like data, not a header" in line and "duplicate" not in line
    status, _, err = _run(capsys, [*base, "--labels", str(tmp_path)])
    assert status == 1 and "is a folder; expected a CSV file" in _one_line(err)
    names = data["names"]
    counts = _write_csv(tmp_path / "counts.csv", ["song_id", *names],
                        [[t, *([1] * len(names))] for t in data["ids"][:-1]])
    status, _, err = _run(capsys, [*base, "--labels", str(data["labels"]),
                                   "--counts", str(counts), "--weighting", "tfidf"])
    line = _one_line(err)
    assert status == 1 and "--skip-missing" not in line and "needs a row for every" in line
    assert repr(data["ids"][-1]) in line


# ----------------------------------------------------------------- 8. one I/O layer


def test_every_output_honours_the_umask(capsys, data, model, tmp_path):
    """Issue 10: the CLI's own atomic writer created files with mode 0600."""
    want = 0o666 & ~_umask()
    wav = str(data["audio"] / f"{data['ids'][0]}.wav")
    out = tmp_path / "f.npy"
    assert main(["extract", wav, "-o", str(out), "-q", *TINY_MEL]) == 0
    assert main(["evaluate", str(model), str(data["feats"]), "--labels", str(data["labels"]),
                 "--json", str(tmp_path / "r.json")]) == 0
    from sktags.cli._models import save_model

    save_model(tmp_path / "copy.sktags", load_model(model))
    capsys.readouterr()
    for name in ("f.npy", "f.json", "r.json", "copy.sktags"):
        assert (tmp_path / name).stat().st_mode & 0o777 == want, name
    assert oct(model.stat().st_mode & 0o777) == oct(want)
    # With a group-writable umask (whatever the test runner's is), in a fresh process.
    sub = tmp_path / "umask002"
    sub.mkdir()
    res = subprocess.run(
        [sys.executable, "-m", "sktags", "extract", wav, "-o", str(sub / "f.npy"), "-q",
         *TINY_MEL], capture_output=True, text=True, preexec_fn=lambda: os.umask(0o002))
    assert res.returncode == 0, res.stderr
    for name in ("f.npy", "f.json"):
        assert oct((sub / name).stat().st_mode & 0o777) == oct(0o664), name


def test_one_csv_reader_for_the_cli_and_the_datasets(tmp_path, monkeypatch):
    """Issue 10: the CLI and sktags.datasets parsed the same files differently."""
    from sktags import CONTEXTS
    from sktags.cli._tables import read_matrix_csv
    from sktags.datasets import _released, load_context_tags

    # A spreadsheet's export: byte-order mark, CRLF, quoted cells, a blank line.
    lines = ['"song_id",' + ",".join(CONTEXTS), '"7",' + ",".join("1" * 15), "",
             '8,' + ",".join("0" * 14) + ',"1"']
    labels = tmp_path / "labels.csv"
    labels.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    monkeypatch.setattr(_released, "_BUNDLED", labels)
    data = load_context_tags()
    ids, names, Y = read_matrix_csv(labels)
    assert names == list(CONTEXTS) and ids == ["7", "8"]
    assert data.track_ids.tolist() == [7, 8]
    np.testing.assert_array_equal(data.target, Y)
    # both name a header-less file the same way
    labels.write_text("7," + ",".join("1" * 15) + "\n")
    with pytest.raises(ValueError, match="looks like data, not a header"):
        load_context_tags()


def test_front_end_defaults_come_from_the_transformer():
    from sktags.cli import build_parser
    from sktags.cli._features import mel_params
    from sktags.features import MelSpectrogramTransformer

    params = MelSpectrogramTransformer().get_params()
    for command in (["extract", "a.wav", "-o", "f.npy"], ["train", "d", "--labels", "l",
                                                           "-o", "m"]):
        args = build_parser().parse_args(command)
        assert mel_params(args) == {k: params[k] for k in mel_params(args)}
    args = build_parser().parse_args(["extract", "a.wav", "-o", "f.npy", "--n-mels", "8"])
    assert mel_params(args)["n_mels"] == 8


# ----------------------------------------------------------------- model files run no code


def test_pickled_model_files_are_refused_before_loading(capsys, data, tmp_path):
    """Issue 12 class 8 (CLI part): a crafted pickle's payload never runs."""
    marker = tmp_path / "payload_ran"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    crafted = tmp_path / "model.sktags"
    crafted.write_bytes(pickle.dumps(Payload(), protocol=4))
    compressed = tmp_path / "compressed.joblib"
    joblib.dump({"x": 1}, compressed, compress=3)
    for path in (crafted, compressed):
        for argv in (["evaluate", str(path), str(data["feats"]), "--labels", str(data["labels"])],
                     ["tag", str(path), str(data["feats"])]):
            status, out, err = _run(capsys, argv)
            assert status == 1 and "can run code" in _one_line(err) and out == ""
            assert str(path) in _one_line(err)
    assert not marker.exists()


# ----------------------------------------------------------------- the CLI fits what the library fits


def test_cli_train_equals_a_library_fit(data, model):
    """Issue 10: the CLI's model predicts as a library Pipeline fit of the same data and seed."""
    from sklearn.pipeline import Pipeline

    from sktags.features import MelSpectrogramTransformer
    from sktags.models import CNNTagger

    X = np.load(data["feats"])
    meta = json.loads(data["feats"].with_suffix(".json").read_text())
    ids = list(data["ids"])
    X = X[[meta["ids"].index(t) for t in ids]]  # the failed rows are not trained on
    tagger = CNNTagger(weighting=None, lr=0.1, batch_size=4, max_epochs=1, patience=10,
                       valid_size=0.1, threshold=0.5, device="cpu", precision="float32",
                       random_state=3, verbose=0)
    lib = Pipeline([("mel", MelSpectrogramTransformer(**meta["transformer"])),
                    ("tagger", tagger)])
    lib.named_steps["tagger"].fit(X, data["Y"])
    cli = load_model(model)["pipeline"]
    assert cli.named_steps["mel"].get_params() == lib.named_steps["mel"].get_params()
    np.testing.assert_allclose(cli.named_steps["tagger"].predict_proba(X),
                               lib.named_steps["tagger"].predict_proba(X), rtol=1e-5, atol=1e-6)
    # and end to end from audio, through the pipeline
    files = [str(data["audio"] / f"{t}.wav") for t in ids[:3]]
    np.testing.assert_allclose(cli.predict_proba(files), lib.predict_proba(files), atol=1e-5)


def test_refuse_overwrite_two_outputs():
    from sktags.cli._errors import CLIUsageError
    from sktags.cli._paths import refuse_overwrite

    with pytest.raises(CLIUsageError, match="two outputs are the same file"):
        refuse_overwrite(["a/../x.json", "x.json"], [])
