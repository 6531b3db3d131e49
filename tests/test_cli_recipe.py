"""``sktags train``'s model flags, the ``--recipe`` preset and ``--whole-track``, end to end.

The data are pieces of the bundled recordings (tests/fixtures/audio), a few
seconds each and of different lengths, with 16 mel bands and a 1024-sample hop;
trainings run 1-2 epochs. The command line's models and reports are compared
with the library run directly on the same features and seed.
"""

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from sktags.cli import main
from sktags.cli._models import load_model

FIXTURES = Path(__file__).parent / "fixtures" / "audio"
SMALL_MEL = ["--n-mels", "16", "--hop-length", "1024"]
TINY_MEL = ["--offset", "0", "--duration", "1", *SMALL_MEL]
MEL_PARAMS = {"n_mels": 16, "hop_length": 1024}
NAMES = ["party", "work", "sleep"]
# Parameters of the tagger that the command line sets from its run options, not the model flags.
RUN_PARAMS = {"weighting", "checkpoint_dir", "verbose", "device"}


def _run(capsys, argv):
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


def _usage_error(status, err, *needles):
    assert status == 2, err
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Eight pieces of 1.5-3.3 s cut from the bundled recordings, with labels."""
    root = tmp_path_factory.mktemp("cli_recipe")
    audio = root / "audio"
    audio.mkdir()
    pieces = []
    for name in ("Hungarian_Dance_number_5_excerpt.ogg", "sorohanro_-_solo-trumpet-06.ogg"):
        y, sr = sf.read(FIXTURES / name, dtype="float32")
        y = y.mean(axis=1) if y.ndim == 2 else y
        start = 0
        for length in (1.5, 2.5, 3.3, 2.0, 1.7):
            n = int(length * sr)
            if start + n > len(y):
                break
            pieces.append(y[start:start + n])
            start += n
    ids = [f"t{i:02d}" for i in range(len(pieces))]
    for tid, y in zip(ids, pieces):
        sf.write(audio / f"{tid}.wav", y, 22050)
    Y = np.array([[i % 2, (i // 2) % 2, int(i % 3 == 0)] for i in range(len(ids))])
    labels = root / "labels.csv"
    _write_labels(labels, ids, Y)
    broken = root / "extra" / "broken.wav"
    broken.parent.mkdir()
    broken.write_bytes(b"RIFF....WAVEfmt not really" * 20)
    # The same labels plus one for the undecodable file, listed last.
    labels_broken = root / "labels_broken.csv"
    _write_labels(labels_broken, [*ids, "broken"], np.vstack([Y, [[1, 0, 1]]]))
    files = [str(audio / f"{t}.wav") for t in ids]
    return {"root": root, "audio": audio, "ids": ids, "Y": Y, "labels": labels,
            "labels_broken": labels_broken, "broken": broken, "files": files}


def _write_labels(path, ids, Y):
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["song_id", *NAMES])
        w.writerows([t, *map(int, r)] for t, r in zip(ids, Y))


def _tagger(model):
    return load_model(model)["pipeline"].named_steps["tagger"]


@pytest.fixture(scope="module")
def ragged(data):
    """``sktags extract --whole-track`` of the pieces and the broken file."""
    out = data["root"] / "whole.npy"
    status = main(["extract", str(data["audio"]), str(data["broken"]), "-o", str(out),
                   "--on-error", "zeros", "--whole-track", "-q", *SMALL_MEL])
    assert status == 0
    return out


# --------------------------------------------------------------------- model flags


def test_defaults_are_the_papers(data, tmp_path):
    from sktags.cli._main import build_parser
    from sktags.cli._recipes import tagger_params

    args = build_parser().parse_args(["train", "x.npy", "--labels", "l.csv", "-o", "m.sktags"])
    params, preset, given = tagger_params(args)
    assert preset == {} and given == {}
    assert params == {"module": None, "crop_frames": None, "crop_hop": None, "mixup": 0.0,
                      "optimizer": "adadelta", "weight_decay": 0.01, "lr": None,
                      "max_epochs": 100, "valid_size": 0.1}
    # --patience and --batch-size unset: the tagger's own defaults (the paper's for the CNN)
    assert args.precision == "float32" and args.patience is None and args.batch_size is None
    from sktags import CNNTagger

    assert (CNNTagger().patience, CNNTagger().batch_size) == (10, 32)


def test_recipe_equals_the_options_its_help_lists(capsys, monkeypatch):
    from sktags.cli._main import build_parser
    from sktags.cli._recipes import _as_flags, tagger_params
    from sktags.models import RECIPES

    monkeypatch.setenv("COLUMNS", "1000")  # no line wrapping inside an option name
    parser = build_parser()
    base = ["train", "x.npy", "--labels", "l.csv", "-o", "m.sktags"]
    assert main([*base, "--help"]) == 0
    shown = " ".join(capsys.readouterr().out.split())
    for name, preset in RECIPES.items():
        flags = _as_flags(preset)
        assert f"{name}: {flags}" in shown
        by_flags, _, _ = tagger_params(parser.parse_args([*base, *flags.split()]))
        by_recipe, got, _ = tagger_params(parser.parse_args([*base, "--recipe", name]))
        assert by_flags == by_recipe and got == dict(preset)


def test_flags_train_the_same_model_as_the_library(capsys, data, ragged, tmp_path):
    from sktags import MelSpectrogramTransformer
    from sktags.models import CNNTagger

    model = tmp_path / "m.sktags"
    status, out, err = _run(capsys, [
        "train", str(data["audio"]), "--labels", str(data["labels"]), "-o", str(model),
        "--architecture", "short_chunk", "--crop-frames", "16", "--optimizer", "adamw",
        "--mixup", "0.4", "--weight-decay", "0.02", "--epochs", "2", "--valid-size", "0",
        "--weighting", "none", "--batch-size", "4", "--device", "cpu", "-q", *TINY_MEL])
    assert status == 0, err
    assert "network short_chunk, crops of 16 frames, optimizer adamw lr=0.003" in out
    cli = _tagger(model)
    X = MelSpectrogramTransformer(offset=0.0, duration=1.0, **MEL_PARAMS).fit_transform(
        data["files"])
    lib = CNNTagger(module="short_chunk", crop_frames=16, optimizer="adamw", mixup=0.4,
                    weight_decay=0.02, max_epochs=2, valid_size=None, batch_size=4,
                    device="cpu", random_state=0).fit(X, data["Y"])
    mine, theirs = cli.get_params(deep=False), lib.get_params(deep=False)
    assert {k: v for k, v in mine.items() if k not in RUN_PARAMS} == \
        {k: v for k, v in theirs.items() if k not in RUN_PARAMS}
    np.testing.assert_array_equal(cli.predict_proba(X), lib.predict_proba(X))

    # A crop model of 1 s excerpts scores whole tracks with --whole-track (windows).
    base = ["evaluate", str(model), str(ragged), "--labels", str(data["labels_broken"])]
    status, _, err = _run(capsys, base)
    assert status == 1 and "duration=None" in err and "--whole-track" in err
    status, out, err = _run(capsys, [*base, "--whole-track"])
    assert status == 0, err
    assert f"Table 1 on {len(data['ids'])} tracks" in out


def test_recipe_sets_the_documented_params_and_options_override(capsys, data, tmp_path):
    from sktags.models import CNNTagger

    model = tmp_path / "r.sktags"
    status, out, err = _run(capsys, [
        "train", str(data["audio"]), "--labels", str(data["labels"]), "-o", str(model),
        "--recipe", "real-music", "--epochs", "1", "--batch-size", "8", "-q", *TINY_MEL])
    assert status == 0, err
    assert ("recipe real-music: module='short_chunk', crop_frames=128, optimizer='adamw', "
            "mixup=0.4, max_epochs=60, valid_size=None") in out
    assert "overridden by options: max_epochs=1" in out
    params = _tagger(model).get_params(deep=False)
    # The documented recipe: CNNTagger(module="short_chunk", crop_frames=128, optimizer="adamw",
    # mixup=0.4, max_epochs=60, valid_size=None, random_state=0), with --epochs 1 winning.
    expected = CNNTagger(module="short_chunk", crop_frames=128, optimizer="adamw", mixup=0.4,
                         max_epochs=1, valid_size=None, random_state=0,
                         batch_size=8).get_params(deep=False)
    assert {k: v for k, v in params.items() if k not in RUN_PARAMS} == \
        {k: v for k, v in expected.items() if k not in RUN_PARAMS}


def test_recipe_and_option_usage_errors(capsys, data, tmp_path, ragged):
    base = ["train", str(data["audio"]), "--labels", str(data["labels"]), "-o",
            str(tmp_path / "m.sktags")]
    _usage_error(*_run(capsys, [*base, "--recipe", "pop"])[::2], "invalid choice: 'pop'",
                 "real-music")
    _usage_error(*_run(capsys, [*base, "--crop-hop", "4"])[::2], "--crop-hop needs --crop-frames")
    # the estimator's ValueError, unchanged, exit status 1 (as in every subcommand)
    for flag, value, param in (("--mixup", "-1", "mixup"), ("--valid-size", "1.5", "valid_size"),
                               ("--epochs", "0", "max_epochs")):
        status, _, err = _run(capsys, [*base, flag, value])
        assert status == 1 and len(err.strip().splitlines()) == 1, err
        assert f"The '{param}' parameter of CNNTagger" in err
    _usage_error(*_run(capsys, [*base, "--recipe", "real-music", "--threshold", "f1"])[::2],
                 "--threshold f1", "--valid-size")
    _usage_error(*_run(capsys, [*base, "--whole-track", *SMALL_MEL])[::2],
                 "--whole-track", "--crop-frames N or --recipe real-music")
    _usage_error(*_run(capsys, [*base, "--whole-track", "--crop-frames", "8",
                                "--duration", "1"])[::2], "drop --duration")
    # A feature file of whole tracks needs crops too.
    _usage_error(*_run(capsys, ["train", str(ragged), "--labels", str(data["labels"]), "-o",
                                str(tmp_path / "m.sktags")])[::2], "whole tracks", "--crop-frames")
    _usage_error(*_run(capsys, ["extract", str(data["audio"]), "-o", str(tmp_path / "f.npy"),
                                "--whole-track", "--offset", "1"])[::2], "drop --offset")
    assert not (tmp_path / "m.sktags").exists() and not (tmp_path / "m.sktags.ckpt").exists()


# --------------------------------------------------------------------- whole tracks


def test_extract_whole_track_writes_the_ragged_layout(data, ragged):
    from sktags import MelSpectrogramTransformer
    from sktags.features import RaggedSpectrograms

    meta = json.loads(ragged.with_suffix(".json").read_text())
    assert meta["layout"] == "ragged" and meta["offsets"] == "whole.offsets.npy"
    assert meta["ids"] == [*data["ids"], "broken"] and meta["failed"] == [len(data["ids"])]
    assert meta["transformer"]["duration"] is None and meta["transformer"]["offset"] == 0.0
    R = RaggedSpectrograms.load(ragged)
    offsets = np.load(ragged.parent / "whole.offsets.npy")
    assert offsets[-1] == offsets[-2]  # the broken file has no frames
    expected = MelSpectrogramTransformer(duration=None, offset=0.0, **MEL_PARAMS).transform(
        data["files"])
    assert len({e.shape[-1] for e in expected}) > 1  # really of different lengths
    for i, e in enumerate(expected):
        np.testing.assert_array_equal(R[i], e)
    assert meta["shape"] == [int(offsets[-1]), 16]


def test_train_and_evaluate_whole_tracks(capsys, data, ragged, tmp_path):
    from sktags.features import RaggedSpectrograms
    from sktags.metrics import context_report

    flags = ["--architecture", "short_chunk", "--crop-frames", "16", "--crop-hop", "8",
             "--optimizer", "adamw", "--epochs", "2", "--valid-size", "0", "--weighting",
             "none", "--batch-size", "4", "--device", "cpu", "-q"]
    from_file = tmp_path / "file.sktags"
    status, out, err = _run(capsys, ["train", str(ragged), "--labels", str(data["labels_broken"]),
                                     "-o", str(from_file), *flags])
    assert status == 0, err
    assert "excluding 1 track(s)" in err and "'broken'" in err
    assert "whole tracks of 16 mel bands" in out
    from_audio = tmp_path / "audio.sktags"
    ckpt = ["--checkpoint-dir", str(tmp_path / "ckpt")]
    status, _, err = _run(capsys, ["train", str(data["audio"]), "--labels", str(data["labels"]),
                                   "-o", str(from_audio), "--whole-track", *flags, *SMALL_MEL,
                                   *ckpt])
    assert status == 0, err
    assert (tmp_path / "ckpt" / "features.offsets.npy").is_file()
    # Run again: the whole tracks extracted into the checkpoint folder are reused (not rewritten).
    written = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "ckpt").glob("features*")}
    again = tmp_path / "again.sktags"
    status, out, err = _run(capsys, ["train", str(data["audio"]), "--labels", str(data["labels"]),
                                     "-o", str(again), "--whole-track", *flags, *SMALL_MEL, *ckpt])
    assert status == 0, err
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "ckpt").glob("features*")} == written
    assert len(written) == 3  # frames, offsets, index
    # The same whole-track features, the same seed: the same model.
    R = RaggedSpectrograms.load(ragged)[np.arange(len(data["ids"]))]
    P = _tagger(from_file).predict_proba(R)
    np.testing.assert_array_equal(P, _tagger(from_audio).predict_proba(R))
    np.testing.assert_array_equal(P, _tagger(again).predict_proba(R))
    bundle = load_model(from_audio)
    assert bundle["pipeline"].named_steps["mel"].duration is None
    # ... so that `sktags tag` reads whole files with it, without --whole-track.
    status, out, err = _run(capsys, ["tag", str(from_audio), *data["files"][:3],
                                     "--format", "jsonl"])
    assert status == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    got = [[{t["context"]: t["probability"] for t in r["tags"]}[n] for n in NAMES] for r in rows]
    np.testing.assert_allclose(got, P[:3], rtol=1e-6, atol=1e-7)

    # evaluate from the ragged file (the failed row excluded) and from the audio, on the CPU.
    report = tmp_path / "r.json"
    status, out, err = _run(capsys, ["evaluate", str(from_file), str(ragged), "--labels",
                                     str(data["labels_broken"]), "--device", "cpu",
                                     "--json", str(report)])
    assert status == 0, err
    got = json.loads(report.read_text())
    assert got["n_tracks"] == len(data["ids"])
    expected = context_report(data["Y"], P, threshold=0.5, target_names=NAMES)
    want = expected.to_dict()
    assert got["report"].keys() == want.keys()
    for row in want:
        np.testing.assert_allclose([got["report"][row][k] for k in want[row]],
                                   list(want[row].values()), rtol=1e-12)
    report2 = tmp_path / "r2.json"
    status, _, err = _run(capsys, ["evaluate", str(from_file), str(data["audio"]), "--labels",
                                   str(data["labels"]), "--whole-track", "--device", "cpu",
                                   "--json", str(report2)])
    assert status == 0, err
    assert json.loads(report2.read_text())["report"] == got["report"]


def test_evaluate_device_and_whole_track_errors(capsys, data, tmp_path):
    model = tmp_path / "paper.sktags"
    assert main(["train", str(data["audio"]), "--labels", str(data["labels"]), "-o", str(model),
                 "--epochs", "1", "--batch-size", "8", "--weighting", "none", "-q",
                 *TINY_MEL]) == 0
    capsys.readouterr()
    base = ["evaluate", str(model), str(data["audio"]), "--labels", str(data["labels"])]
    status, out, err = _run(capsys, [*base, "--device", "cpu"])
    assert status == 0, err
    assert "Table 1" in out
    status, _, err = _run(capsys, [*base, "--device", "tpu9"])
    assert status == 1 and "tpu9" in err and len(err.strip().splitlines()) == 1
    _usage_error(*_run(capsys, [*base, "--whole-track"])[::2], "--crop-frames")


def test_tag_refuses_a_whole_track_feature_file(capsys, data, ragged, tmp_path):
    model = tmp_path / "paper.sktags"
    assert main(["train", str(data["audio"]), "--labels", str(data["labels"]), "-o", str(model),
                 "--epochs", "1", "--weighting", "none", "-q", *TINY_MEL]) == 0
    capsys.readouterr()
    status, _, err = _run(capsys, ["tag", str(model), str(ragged)])
    assert status == 1 and "whole tracks" in err and len(err.strip().splitlines()) == 1


def test_loss_and_its_parameters_reach_the_tagger(capsys, data, tmp_path):
    from sktags.losses import AsymmetricLoss

    model = tmp_path / "m.sktags"
    base = ["train", str(data["audio"]), "--labels", str(data["labels"]), "-o", str(model),
            "--epochs", "1", "--valid-size", "0", "--batch-size", "4", "--device", "cpu",
            "-q", *TINY_MEL]
    status, _, err = _run(capsys, [*base, "--loss", "asl", "--loss-param", "gamma_neg=2",
                                   "--loss-param", "clip=0.1"])
    assert status == 0, err
    loss = _tagger(model).loss
    assert type(loss) is AsymmetricLoss and (loss.gamma_neg, loss.clip) == (2, 0.1)
    status, _, err = _run(capsys, [*base, "--loss", "em"])
    assert status == 0, err
    assert _tagger(model).loss == "em"
    # the library's one-line errors, unchanged, exit status 1
    status, _, err = _run(capsys, [*base, "--loss", "focal"])
    assert status == 1 and "The 'loss' parameter of CNNTagger must be a str among" in err
    assert "'focal' instead" in err and len(err.strip().splitlines()) == 1
    status, _, err = _run(capsys, [*base, "--loss", "asl", "--loss-param", "gamma_neg"])
    assert status == 1 and "must read name=value" in err
    status, _, err = _run(capsys, [*base, "--loss", "asl", "--loss-param", "nope=1"])
    assert status == 1 and "Invalid parameter 'nope' for AsymmetricLoss" in err
