"""The ``sktags`` command line, run in-process through ``main([...])``.

Every data set here is tiny (1 s clips, 16 mel bands, 1-2 epochs): the tests
check behaviour (files, formats, exit codes, alignment, resumption), and
compare the command line's numbers with the library computed directly.
"""

import csv
import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from sktags.cli import main
from sktags.cli._models import load_model

TINY_MEL = ["--offset", "0", "--duration", "1", "--n-mels", "16", "--hop-length", "1024"]
MEL_PARAMS = {"offset": 0.0, "duration": 1.0, "n_mels": 16, "hop_length": 1024}


def _run(capsys, argv):
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def _assert_one_line_error(status, err, *needles):
    assert status == 1
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """24 one-second WAV clips named by track id, with labels, counts and groups."""
    from sktags.demo import make_context_mixtures

    root = tmp_path_factory.mktemp("cli_data")
    mix = make_context_mixtures(24, clip_duration=1.0, random_state=0, hidden_share=0.3)
    audio = root / "audio"
    audio.mkdir()
    ids = [str(1000 + i) for i in range(len(mix.data))]
    for tid, y in zip(ids, mix.data):
        sf.write(audio / f"{tid}.wav", y, mix.sr)
    names = list(mix.target_names)

    def write(path, header, rows):
        with open(path, "w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(header)
            w.writerows(rows)
        return path

    labels = write(root / "labels.csv", ["song_id", *names],
                   [[t, *map(int, r)] for t, r in zip(ids, mix.target_observed)])
    # The counts file lists the tracks in another order: it must be aligned on id.
    order = np.arange(len(ids))[::-1]
    counts = write(root / "counts.csv", ["song_id", *names],
                   [[ids[i], *map(int, mix.playlist_counts[i])] for i in order])
    groups = write(root / "groups.csv", ["song_id", "artist_id"],
                   [[t, i % 6] for i, t in enumerate(ids)])
    return {"root": root, "audio": audio, "ids": ids, "names": names, "labels": labels,
            "counts": counts, "groups": groups, "Y": mix.target_observed}


@pytest.fixture(scope="module")
def trained(dataset, tmp_path_factory):
    """A model trained once through the CLI (2 epochs, TF-IDF + ignore-zeros weights)."""
    out = tmp_path_factory.mktemp("cli_model") / "model.sktags"
    status = main(["train", str(dataset["audio"]), "--labels", str(dataset["labels"]),
                   "--counts", str(dataset["counts"]), "--groups", str(dataset["groups"]),
                   "--weighting", "ignore_zeros+tfidf", "--epochs", "2", "--batch-size", "8",
                   "--lr", "1.0", "-q", "-o", str(out), *TINY_MEL])
    assert status == 0
    return out


# ----------------------------------------------------------------- general behaviour


@pytest.mark.parametrize(
    "command", [[], ["extract"], ["train"], ["tag"], ["evaluate"], ["fetch-previews"], ["demo"]]
)
def test_help_everywhere(capsys, command):
    status, out, _ = _run(capsys, [*command, "--help"])
    assert status == 0
    assert "usage: sktags" in out


@pytest.mark.parametrize(
    "argv, needle",
    [
        ([], "required: COMMAND"),
        (["no-such-command"], "invalid choice: 'no-such-command'"),
        (["train", "somewhere"], "--labels"),  # --labels and -o are required
        (["tag", "model.sktags", "x.wav", "--format", "xml"], "invalid choice: 'xml'"),
        (["train", "f.npy", "--labels", "l.csv", "-o", "m.sktags", "--weighting", "foo"],
         "invalid choice: 'foo'"),
        (["extract", "a.wav", "-o", "f.npy", "--jobs", "many"], "invalid int value: 'many'"),
    ],
)
def test_usage_errors_exit_2_one_line(capsys, argv, needle):
    status, out, err = _run(capsys, argv)
    assert status == 2 and out == ""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err  # not argparse's multi-line usage block
    assert lines[0].startswith("sktags") and "error:" in lines[0] and needle in lines[0]
    assert "--help" in lines[0]


def test_version(capsys):
    import sktags

    status, out, _ = _run(capsys, ["--version"])
    assert status == 0 and sktags.__version__ in out


def test_python_dash_m_and_fast_help():
    """``python -m sktags --help`` works and does not import torch."""
    code = (
        "import sys; from sktags.cli import main; rc = main(['--help']); "
        "assert 'torch' not in sys.modules, 'torch imported by --help'; sys.exit(rc)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    res = subprocess.run([sys.executable, "-m", "sktags", "--version"], capture_output=True, text=True)
    assert res.returncode == 0 and res.stdout.startswith("sktags ")


def test_train_reexecs_with_allocator_setting(monkeypatch):
    """The installed ``sktags train`` re-runs itself with glibc's hugetlb tunable."""
    import platform

    from sktags.cli import _main

    calls = []
    monkeypatch.setattr(_main.os, "execve", lambda *a: calls.append(a))
    monkeypatch.delenv("GLIBC_TUNABLES", raising=False)
    monkeypatch.delenv("LD_PRELOAD", raising=False)
    monkeypatch.delenv("SKTAGS_MALLOC_TUNING", raising=False)
    monkeypatch.setattr(sys, "argv", ["sktags", "train", "--help"])
    _main._reexec_with_allocator_settings()
    if sys.platform != "linux" or platform.libc_ver()[0] != "glibc":
        assert calls == []
        return
    (exe, args, env), = calls
    assert args == [sys.executable, "-m", "sktags", "train", "--help"]
    assert env["GLIBC_TUNABLES"] == "glibc.malloc.hugetlb=1"
    assert env["SKTAGS_MALLOC_TUNING"] == "0"  # no loop
    calls.clear()
    for argv, env_set in ((["sktags", "tag", "m"], {}),
                          (["sktags", "train"], {"SKTAGS_MALLOC_TUNING": "0"}),
                          (["sktags", "train"], {"GLIBC_TUNABLES": "glibc.malloc.tcache_count=0"})):
        monkeypatch.setattr(sys, "argv", argv)
        for k, v in env_set.items():
            monkeypatch.setenv(k, v)
        _main._reexec_with_allocator_settings()
        for k in env_set:
            monkeypatch.delenv(k)
    assert calls == []


# ----------------------------------------------------------------- extract


def test_extract_matches_library_and_writes_index(capsys, tmp_path, dataset):
    from sktags.features import MelSpectrogramTransformer

    out = tmp_path / "feats.npy"
    status, stdout, _ = _run(capsys, ["extract", str(dataset["audio"]), "-o", str(out), "-q",
                                      "--dtype", "float16", *TINY_MEL])
    assert status == 0, stdout
    X = np.load(out, mmap_mode="r")
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["ids"] == dataset["ids"]  # sorted file names = track ids
    assert X.dtype == np.float16 and X.shape == (24, 1, 16, 22)
    expected = MelSpectrogramTransformer(**MEL_PARAMS).transform(meta["files"])
    np.testing.assert_allclose(X.astype(np.float32), expected, atol=0.02)
    assert [p.name for p in tmp_path.iterdir()] and not list(tmp_path.glob("*.part"))


def test_extract_bad_paths_one_line(capsys, tmp_path):
    out = tmp_path / "feats.npy"
    status, _, err = _run(capsys, ["extract", str(tmp_path / "missing"), "-o", str(out)])
    _assert_one_line_error(status, err, "no such file or folder", "missing")
    (tmp_path / "empty").mkdir()
    status, _, err = _run(capsys, ["extract", str(tmp_path / "empty"), "-o", str(out)])
    _assert_one_line_error(status, err, "no audio files")
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really a wav file")
    status, _, err = _run(capsys, ["extract", str(broken), "-o", str(out), "-q", *TINY_MEL])
    _assert_one_line_error(status, err, "broken.wav")
    assert not out.exists() and not list(tmp_path.glob(".*"))  # nothing half-written
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        sf.write(tmp_path / sub / "42.wav", np.zeros(2205), 22050)
    status, _, err = _run(capsys, ["extract", str(tmp_path / "a"), str(tmp_path / "b"),
                                   "-o", str(out)])
    _assert_one_line_error(status, err, "share the track id '42'")
    assert not out.exists()


def test_extract_on_error_zeros_lists_failures_once(capsys, tmp_path):
    import warnings

    audio = tmp_path / "audio"
    audio.mkdir()
    sf.write(audio / "7.wav", 0.1 * np.sin(np.arange(22050) / 5.0), 22050)
    (audio / "8.wav").write_bytes(b"RIFF not really a wav file")
    out = tmp_path / "feats.npy"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status, stdout, err = _run(capsys, ["extract", str(audio), "-o", str(out), "-q",
                                            "--on-error", "zeros", *TINY_MEL])
    assert status == 0 and err == ""
    # the CLI's own one-line listing, not the transformer's warning as well
    assert not [w for w in caught if "could not be read" in str(w.message)]
    assert "1 files could not be decoded" in stdout and "8.wav" in stdout
    meta = json.loads((tmp_path / "feats.json").read_text())
    assert meta["ids"] == ["7", "8"] and meta["failed"] == [1] and len(meta["errors"]) == 1
    X = np.load(out)
    assert np.all(X[1] == 0) and np.any(X[0] != 0)


# ----------------------------------------------------------------- CSV and id errors


def test_bad_csvs_and_mismatched_ids(capsys, tmp_path, dataset):
    model = tmp_path / "m.sktags"
    base = ["train", str(dataset["audio"]), "-o", str(model), "--epochs", "1", "-q", *TINY_MEL]

    bad = tmp_path / "bad.csv"
    bad.write_text("song_id,club,dance\n1000,1,0\n1001,2,0\n")
    status, _, err = _run(capsys, [*base, "--labels", str(bad)])
    _assert_one_line_error(status, err, "line 3", "'club'", "0 or 1")

    bad.write_text("song_id,club\n1000,1\n1000,0\n")
    status, _, err = _run(capsys, [*base, "--labels", str(bad)])
    _assert_one_line_error(status, err, "line 3: duplicated song_id '1000'", "first on line 2")

    bad.write_text("song_id,club,dance\n1000,1\n")
    status, _, err = _run(capsys, [*base, "--labels", str(bad)])
    _assert_one_line_error(status, err, "line 2", "2 fields")

    bad.write_text("song_id,club\n1000,1\n999999,0\n")
    status, _, err = _run(capsys, [*base, "--labels", str(bad)])
    _assert_one_line_error(status, err, "1 of 2", "'999999'", "--skip-missing")

    status, _, err = _run(capsys, [*base, "--labels", str(tmp_path / "nope.csv")])
    _assert_one_line_error(status, err, "labels file not found")

    status, _, err = _run(capsys, [*base, "--labels", str(dataset["labels"]),
                                   "--weighting", "exact_match+tfidf"])
    _assert_one_line_error(status, err, "--counts")

    status, _, err = _run(capsys, [*base, "--labels", str(dataset["labels"]),
                                   "--groups", str(tmp_path / "nope.csv")])
    _assert_one_line_error(status, err, "groups file not found")
    status, _, err = _run(capsys, [*base, "--labels", str(dataset["labels"]),
                                   "--checkpoint-dir", str(tmp_path / "ck" / "run"),
                                   "--groups", str(tmp_path / "nope.csv")])
    _assert_one_line_error(status, err, "groups file not found")
    # A failed start leaves nothing: no model, no temporary file, no checkpoint folder.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "ck"]
    assert not list((tmp_path / "ck").iterdir())


def test_a_bad_option_value_is_the_same_error_in_every_subcommand(capsys, tmp_path, dataset,
                                                                   trained):
    """--batch-size 0: the library's ValueError, exit status 1, in train, tag and embed."""
    wav = str(next(dataset["audio"].glob("*.wav")))
    for argv in (["train", str(dataset["audio"]), "--labels", str(dataset["labels"]),
                  "-o", str(tmp_path / "m.sktags"), *TINY_MEL],
                 ["tag", str(trained), wav],
                 ["tag", str(trained), wav, "-o", str(tmp_path / "t.csv")],
                 ["embed", str(trained), wav, "-o", str(tmp_path / "e.npy")]):
        status, _, err = _run(capsys, [*argv, "--batch-size", "0"])
        _assert_one_line_error(status, err, "batch_size")
    assert not (tmp_path / "m.sktags").exists() and not (tmp_path / "e.npy").exists()


@pytest.mark.parametrize("bad_option", [["--batch-size", "0"], ["--valid-size", "1.5"]])
def test_train_failing_before_first_epoch_leaves_nothing(capsys, tmp_path, dataset, bad_option):
    # CNNTagger rejects the parameter in fit, after the features are extracted into
    # the checkpoint folder: nothing can be resumed, so nothing is left behind.
    model = tmp_path / "m.sktags"
    status, _, err = _run(capsys, ["train", str(dataset["audio"]), "--labels",
                                   str(dataset["labels"]), "-o", str(model), "--epochs", "1",
                                   "-q", *TINY_MEL, *bad_option])
    _assert_one_line_error(status, err, bad_option[0][2:].replace("-", "_"))
    assert list(tmp_path.iterdir()) == []


def test_more_malformed_csvs_one_line(capsys, tmp_path, dataset):
    model = tmp_path / "m.sktags"
    base = ["train", str(dataset["audio"]), "-o", str(model), "--epochs", "1", "-q", *TINY_MEL]
    bad = tmp_path / "bad.csv"
    bad.write_text("song_id,club,club\n1000,1,0\n")
    status, _, err = _run(capsys, [*base, "--labels", str(bad)])
    _assert_one_line_error(status, err, "duplicate column 'club'")
    bad.write_text("song_id,club,\n1000,1,0\n")
    status, _, err = _run(capsys, [*base, "--labels", str(bad)])
    _assert_one_line_error(status, err, "column 3 of the header has no name")
    bad.write_text("song_id,club\n1000,1\n ,0\n")
    status, _, err = _run(capsys, [*base, "--labels", str(bad)])
    _assert_one_line_error(status, err, "line 3: empty song_id")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\xb1 not text")
    status, _, err = _run(capsys, [*base, "--labels", str(dataset["labels"]),
                                   "--groups", str(binary)])
    _assert_one_line_error(status, err, "groups file", "not a readable CSV")
    assert "SKTAGS_DEBUG" not in err  # a known data error, not an unexpected one
    status, _, err = _run(capsys, ["fetch-previews", str(binary), "-o", str(tmp_path / "mp3")])
    _assert_one_line_error(status, err, "ids file", "not a readable")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "binary.csv"]


# ----------------------------------------------------------------- train / tag / evaluate


def test_train_writes_a_model_bundle(trained, dataset):
    bundle = load_model(trained)
    assert set(bundle) == {"pipeline", "target_names", "weighting", "n_train"}
    assert bundle["target_names"] == dataset["names"]
    tagger = bundle["pipeline"].named_steps["tagger"]
    assert tagger.weighting_.negative == "ignore_zeros"
    assert tagger.weighting_.positive == "tfidf"
    assert tagger.n_epochs_ <= 2
    # the default checkpoint folder is removed after success
    assert not trained.with_name(trained.name + ".ckpt").exists()


def test_tag_formats_match_pipeline(capsys, trained, dataset):
    files = sorted(str(p) for p in dataset["audio"].glob("*.wav"))[:3]
    pipeline = load_model(trained)["pipeline"]
    expected = pipeline.predict_proba(files)
    names = dataset["names"]

    status, out, _ = _run(capsys, ["tag", str(trained), *files, "--format", "json"])
    assert status == 0
    result = json.loads(out)
    assert [r["file"] for r in result] == files
    for r, p in zip(result, expected):
        got = {t["context"]: t["probability"] for t in r["tags"]}
        np.testing.assert_allclose([got[n] for n in names], p, atol=1e-6)
        probs = [t["probability"] for t in r["tags"]]
        assert probs == sorted(probs, reverse=True)

    status, out, _ = _run(capsys, ["tag", str(trained), *files, "--format", "csv", "--top-k", "2"])
    rows = list(csv.DictReader(out.splitlines()))
    assert status == 0 and [r["file"] for r in rows] == files  # one row per file
    for i, r in enumerate(rows):
        top = np.argsort(-expected[i], kind="stable")[:2]
        assert r["top"] == ";".join(names[j] for j in top) and r["status"] == "ok"

    status, out, _ = _run(capsys, ["tag", str(trained), str(dataset["audio"]), "--top-k", "1"])
    assert status == 0
    assert out.count(".wav") == 24 and "decision threshold" in out

    status, _, err = _run(capsys, ["tag", str(dataset["labels"]), *files])
    _assert_one_line_error(status, err, "not an sktags model file")


def test_evaluate_matches_context_report(capsys, trained, dataset, tmp_path):
    from sktags.metrics import context_report, tune_thresholds

    files = [str(dataset["audio"] / f"{t}.wav") for t in dataset["ids"]]
    P = load_model(trained)["pipeline"].predict_proba(files)
    Y = dataset["Y"]
    report_json = tmp_path / "report.json"
    status, out, _ = _run(capsys, ["evaluate", str(trained), str(dataset["audio"]),
                                   "--labels", str(dataset["labels"]), "--json", str(report_json),
                                   "--tune-on", str(dataset["audio"]),
                                   "--tune-labels", str(dataset["labels"])])
    assert status == 0
    expected = context_report(Y, P, threshold=0.5, target_names=dataset["names"])
    assert str(expected) in out
    saved = json.loads(report_json.read_text())
    assert saved["report"]["macro avg"]["f1"] == pytest.approx(
        expected.to_dict()["macro avg"]["f1"], nan_ok=True)
    t = tune_thresholds(Y, P)
    assert list(saved["tuned_thresholds"].values()) == pytest.approx(list(map(float, t)))


def test_feature_file_from_another_front_end_is_refused(capsys, tmp_path, trained, dataset):
    # Same shape as the model's features (decibels instead of log1p): without the
    # check, tag and evaluate would silently score the wrong features.
    feats = tmp_path / "db.npy"
    status, _, _ = _run(capsys, ["extract", str(dataset["audio"]), "-o", str(feats), "-q",
                                 *TINY_MEL, "--compression", "db"])
    assert status == 0
    status, out, err = _run(capsys, ["tag", str(trained), str(feats)])
    _assert_one_line_error(status, err, "'db'", "'log1p'", "compression")
    assert out == ""
    status, out, err = _run(capsys, ["evaluate", str(trained), str(feats), "--labels",
                                     str(dataset["labels"])])
    _assert_one_line_error(status, err, "compression=", "re-extract")
    # the model's own front end is accepted
    same = tmp_path / "same.npy"
    assert _run(capsys, ["extract", str(dataset["audio"]), "-o", str(same), "-q", *TINY_MEL])[0] == 0
    status, out, _ = _run(capsys, ["tag", str(trained), str(same), "--format", "json"])
    assert status == 0 and len(json.loads(out)) == len(dataset["ids"])
    files = sorted(str(p) for p in dataset["audio"].glob("*.wav"))[:1]
    status, out, err = _run(capsys, ["tag", str(trained), str(same), *files])
    _assert_one_line_error(status, err, "feature file (.npy) must be the only input")


def test_extract_then_train_and_tag_from_features(capsys, tmp_path, dataset):
    feats = tmp_path / "f.npy"
    assert main(["extract", str(dataset["audio"]), "-o", str(feats), "-q", *TINY_MEL]) == 0
    model = tmp_path / "m.sktags"
    ckpt = tmp_path / "ckpt"
    argv = ["train", str(feats), "--labels", str(dataset["labels"]), "--weighting", "none",
            "--epochs", "1", "--batch-size", "8", "-o", str(model), "--checkpoint-dir", str(ckpt)]
    status, out, _ = _run(capsys, argv)
    assert status == 0, out
    assert list(ckpt.rglob("checkpoint.pt"))  # an explicit checkpoint folder is kept
    first = load_model(model)["pipeline"]
    # the front end stored with the model is the one the features were made with
    assert first.named_steps["mel"].n_mels == 16
    # Run again with one more epoch: it resumes from the checkpoint (1 more epoch, not 2).
    status, out, _ = _run(capsys, [*argv[:-6], "--epochs", "2", *argv[-4:]])
    assert status == 0
    again = load_model(model)["pipeline"].named_steps["tagger"]
    assert again.n_epochs_ == 2
    status, out, _ = _run(capsys, ["tag", str(model), str(feats), "--format", "json"])
    assert status == 0 and len(json.loads(out)) == 24


def test_interrupted_train_writes_no_model(capsys, tmp_path, dataset, monkeypatch):
    """Ctrl-C during training: exit 130, no model, checkpoints kept for resuming.

    CNNTagger.fit re-raises KeyboardInterrupt after checkpointing the last
    completed epoch (tests/test_tagger_resume.py); the fake fit does the same.
    """
    from sktags.models import CNNTagger

    def fit_interrupted_like_skorch(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(CNNTagger, "fit", fit_interrupted_like_skorch)
    model = tmp_path / "m.sktags"
    status, _, err = _run(capsys, ["train", str(dataset["audio"]), "--labels",
                                   str(dataset["labels"]), "-o", str(model), "-q", *TINY_MEL])
    assert status == 130
    assert "interrupted" in err and "resume" in err
    assert not model.exists()
    assert (tmp_path / "m.sktags.ckpt" / "features.npy").is_file()  # kept for the rerun


def test_train_skip_missing(capsys, tmp_path, dataset):
    labels = tmp_path / "labels.csv"
    lines = dataset["labels"].read_text().splitlines()
    labels.write_text("\n".join([*lines, "424242," + ",".join("0" * len(dataset["names"]))]) + "\n")
    model = tmp_path / "m.sktags"
    status, out, _ = _run(capsys, ["train", str(dataset["audio"]), "--labels", str(labels),
                                   "--skip-missing", "--epochs", "1", "-q", "--weighting", "none",
                                   "-o", str(model), *TINY_MEL])
    assert status == 0
    assert "using 24 of 25" in out
    # the oracle: the same training on the labels without the unmatched track
    plain = tmp_path / "plain.sktags"
    assert main(["train", str(dataset["audio"]), "--labels", str(dataset["labels"]), "--epochs",
                 "1", "-q", "--weighting", "none", "-o", str(plain), *TINY_MEL]) == 0
    files = sorted(str(p) for p in dataset["audio"].glob("*.wav"))[:6]
    np.testing.assert_array_equal(load_model(model)["pipeline"].predict_proba(files),
                                  load_model(plain)["pipeline"].predict_proba(files))


# fetch-previews and demo: see test_deezer.py and test_demo.py


# ----------------------------------------------------------------- sktags.demo


def test_output_that_is_a_folder_fails_before_any_work(capsys, tmp_path, trained, dataset):
    wav = sorted(str(p) for p in dataset["audio"].glob("*.wav"))[0]
    (tmp_path / "tags.json").mkdir()
    status, _, err = _run(capsys, ["tag", str(trained), wav, "-o", str(tmp_path / "tags.json")])
    _assert_one_line_error(status, err, "is a folder", "tags.json")
    (tmp_path / "m.sktags").mkdir()
    status, out, err = _run(capsys, ["train", str(dataset["audio"]), "--labels",
                                     str(dataset["labels"]), "-o", str(tmp_path / "m.sktags"),
                                     "--epochs", "1", "-q", *TINY_MEL])
    _assert_one_line_error(status, err, "is a folder", "m.sktags")
    assert "training on" not in out  # refused before training, not after
    (tmp_path / "f.json").mkdir()  # the index beside f.npy
    status, _, err = _run(capsys, ["extract", wav, "-o", str(tmp_path / "f.npy"), "-q"])
    _assert_one_line_error(status, err, "is a folder", "f.json")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.json", "m.sktags", "tags.json"]
    assert not any(list(p.iterdir()) for p in tmp_path.iterdir())


def test_demo_bad_output_folder_one_line(capsys, tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    status, out, err = _run(capsys, ["demo", "--quick", "--out", str(blocker)])
    _assert_one_line_error(status, err, "exists and is not a folder", "a_file")
    assert "Errno" not in err and out == ""
    status, out, err = _run(capsys, ["demo", "--quick", "--out", str(blocker / "sub")])
    _assert_one_line_error(status, err, "cannot create output folder")
    assert blocker.read_text() == "not a folder" and sorted(tmp_path.iterdir()) == [blocker]


def test_load_recordings_have_licences():
    from sktags.demo import load_recordings

    rec = load_recordings()
    assert len(rec.filenames) == 5
    for path, licence in zip(rec.filenames, rec.licences):
        info = sf.info(path)
        assert info.samplerate == 22050 and info.frames > 22050
        assert "Public Domain" in licence or "CC-BY" in licence


def test_make_context_mixtures_truth_hiding_and_counts():
    from sktags.demo import make_context_mixtures

    L = np.array([[1, 1, 0], [0, 0, 1], [0, 0, 0], [1, 1, 1]])
    mix = make_context_mixtures(400, contexts=["club", "dance", "party"], label_matrix=L,
                                hidden_share=0.5, clip_duration=0.5, random_state=0)
    T, O, C = mix.target, mix.target_observed, mix.playlist_counts
    # every true label vector is a row of the matrix it was drawn from
    assert {tuple(r) for r in T} <= {tuple(r) for r in L}
    hidden = (T == 1) & (O == 0)
    assert np.all(O <= T)
    assert abs(hidden.sum() / T.sum() - 0.5) < 0.06  # binomial, 400+ positives
    # counts follow the labelling rule: >= 3 observed, 0-2 hidden, 0 for true negatives
    assert np.all(C[O == 1] >= 3) and np.all(C[hidden] <= 2) and np.all(C[T == 0] == 0)
    # the audio carries the labels: clips without any context are quiet noise
    rms = np.sqrt(np.mean(mix.data.astype(np.float64) ** 2, axis=1))
    empty = T.sum(1) == 0
    assert empty.any() and rms[empty].max() < rms[~empty].min()
    # reproducible
    again = make_context_mixtures(400, contexts=["club", "dance", "party"], label_matrix=L,
                                  hidden_share=0.5, clip_duration=0.5, random_state=0)
    np.testing.assert_array_equal(again.data, mix.data)


def test_make_context_mixtures_regions_are_disjoint():
    """Training and test excerpts of a recording come from disjoint parts of it."""
    from sktags.demo import make_context_mixtures
    from sktags.demo._mixtures import _load_sources

    src = _load_sources(22050)["brahms"]  # 45.8 s, unit RMS
    L = np.array([[0, 0, 0, 0, 1, 0]])  # "sad" only: the Brahms recording
    kw = {"label_matrix": L, "clip_duration": 1.0, "noise_db": -200.0, "hidden_share": 0.0}
    first = make_context_mixtures(3, region=(0.0, 0.5), random_state=0, **kw).data
    split = len(src) // 2

    def located(clip):
        """Start of the best match of ``clip`` in ``src`` (up to the gain)."""
        from scipy.signal import fftconvolve

        c = clip / np.linalg.norm(clip)
        scores = fftconvolve(src, c[::-1], mode="valid")
        norms = np.sqrt(np.maximum(fftconvolve(src**2, np.ones(len(c)), mode="valid"), 0))
        return int(np.argmax(scores / np.maximum(norms, 1e-9)))

    for clip in first:
        start = located(clip.astype(np.float64))
        assert start + len(clip) <= split + 1
