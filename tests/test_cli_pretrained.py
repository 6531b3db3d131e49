"""The pretrained backbone on the command line: ``embed``/``tag --pretrained``, ``train --recipe
pretrained`` and ``musicnn-finetune``, against the library's own results (issue 18)."""

import csv
import functools
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from sklearn.pipeline import Pipeline

from sktags.cli import main

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "fixtures" / "audio"
CLIPS = [str(FIXTURES / "sorohanro_-_solo-trumpet-06.ogg"),  # 5.3 s: one patch
         str(FIXTURES / "Hungarian_Dance_number_5_excerpt.ogg")]  # 12 s: four patches


def _proba(row):
    """A jsonl row's probabilities by tag (printed with 6 decimals)."""
    return {t["context"]: t["probability"] for t in row["tags"]}


def _run(capsys, argv):
    status = main(argv)
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    """Six 3.5 s clips cut from the bundled CC recordings (files named by track id), labels."""
    from sktags.demo import load_recordings

    root = tmp_path_factory.mktemp("pretrained")
    audio = root / "audio"
    audio.mkdir()
    ids = []
    for k, path in enumerate(load_recordings().filenames[:3]):
        y, sr = sf.read(path, dtype="float32", always_2d=True)
        for j, start in enumerate((5.0, 20.0)):
            ids.append(f"t{k}{j}")
            sf.write(audio / f"{ids[-1]}.wav", y[int(start * sr): int((start + 3.5) * sr), 0], sr)
    Y = np.array([[1, 0], [1, 1], [0, 1], [0, 1], [1, 0], [0, 0]])
    labels = root / "labels.csv"
    with open(labels, "w", newline="") as fh:
        csv.writer(fh).writerows([["track_id", "calm", "party"],
                                  *([t, *map(int, r)] for t, r in zip(ids, Y))])
    return root, audio, labels, [str(audio / f"{t}.wav") for t in ids], Y


def test_embed_pretrained_equals_musicnn_embedding(tmp_path, capsys):
    from sktags.inference import load_embeddings
    from sktags.pretrained import MusicnnEmbedding

    out = tmp_path / "emb.npy"
    status, _, err = _run(capsys, ["embed", "--pretrained", "mtt", *CLIPS, "-o", str(out),
                                   "--layer", "pooled", "--pooling", "mean+max", "--device", "cpu",
                                   "--batch-size", "3", "-q"])
    assert status == 0, err
    E, index = load_embeddings(out)
    expected = MusicnnEmbedding(model="mtt", layer="pooled", pooling="mean+max").transform(CLIPS)
    assert E.shape == (2, 3012) and index["ids"] == [Path(c).stem for c in CLIPS]
    np.testing.assert_allclose(E, expected, rtol=1e-5, atol=1e-5)
    assert index["transformer"]["compression"] == "musicnn" and index["transformer"]["sr"] == 16000
    # --layer without --pretrained is a usage error; so is a device that does not exist
    assert _run(capsys, ["embed", "m.sktags", CLIPS[0], "-o", str(tmp_path / "x.npy"),
                         "--layer", "taggram"])[0] == 2
    status, _, err = _run(capsys, ["embed", "--pretrained", "msd", CLIPS[0], "-o",
                                   str(tmp_path / "y.npy"), "--device", "nodevice"])
    assert status == 1 and "--device" in err and not (tmp_path / "y.npy").exists()


def test_tag_pretrained_gives_musicnns_own_tags(tmp_path, capsys):
    from sktags.pretrained import MusicnnEmbedding

    names = list(MusicnnEmbedding(model="msd", layer="taggram").get_feature_names_out())
    grams = MusicnnEmbedding(model="msd", layer="taggram", pooling=None).transform(CLIPS)
    mean = np.stack([g.mean(axis=0) for g in grams])
    # the printed table: the top 3 of each clip, in the library's order
    status, out, err = _run(capsys, ["tag", "--pretrained", "msd", *CLIPS, "-k", "3"])
    assert status == 0, err
    printed = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    for i in range(2):
        top = [names[k].split()[0] for k in np.argsort(-mean[i])[:3]]
        assert printed[3 * i: 3 * i + 3] == top
    # jsonl and the per-patch taggram
    res, gram = tmp_path / "tags.jsonl", tmp_path / "gram.csv"
    status, _, err = _run(capsys, ["tag", "--pretrained", "msd", *CLIPS, "-o", str(res),
                                   "--taggram", str(gram), "-q"])
    assert status == 0, err
    rows = [json.loads(line) for line in res.read_text().splitlines()]
    got = np.array([[_proba(r)[n] for n in names] for r in rows])
    np.testing.assert_allclose(got, mean, atol=1e-5)
    with open(gram) as fh:
        table = list(csv.reader(fh))
    assert table[0][2:] == names and len(table) - 1 == sum(len(g) for g in grams) == 5
    np.testing.assert_allclose(np.array([r[2:] for r in table[1:]], float),
                               np.concatenate(grams), atol=1e-5)
    starts = [float(r[1]) for r in table[1:] if r[0] == CLIPS[1]]
    np.testing.assert_allclose(starts, np.arange(4) * 187 * 256 / 16000, atol=1e-3)
    record = json.loads((tmp_path / "tags.jsonl.sktags-run.json").read_text())
    from sktags.pretrained import weights_record

    assert record["backbone"] == "MSD_musicnn"
    assert record["weights_sha256"] == weights_record("msd")["weights_sha256"]


def test_resume_with_another_backbone_is_refused(tmp_path, capsys):
    out = tmp_path / "tags.csv"
    assert _run(capsys, ["tag", "--pretrained", "msd", CLIPS[0], "-o", str(out), "-q"])[0] == 0
    before = out.read_text()
    status, _, err = _run(capsys, ["tag", "--pretrained", "mtt", CLIPS[0], "-o", str(out),
                                   "--resume", "-q"])
    assert status == 1 and "backbone='MSD_musicnn'" in err and "MTT_musicnn" in err, err
    assert out.read_text() == before
    # the same backbone resumes: nothing left to do
    status, out_text, _ = _run(capsys, ["tag", "--pretrained", "msd", CLIPS[0], "-o", str(out),
                                        "--resume", "-q"])
    assert status == 0 and "0 files tagged, 1 already done" in out_text


def test_train_recipe_pretrained_then_tag_equals_the_library(labelled, tmp_path, capsys):
    from sktags import EmbeddingTagger
    from sktags.cli._train import WEIGHTINGS
    from sktags.inference import load_tagging_model
    from sktags.pretrained import MusicnnEmbedding, weights_record

    root, audio, labels, files, Y = labelled
    model = tmp_path / "model.sktags"
    status, out, err = _run(capsys, ["train", str(audio), "--labels", str(labels), "--recipe",
                                     "pretrained", "--epochs", "30", "--device", "cpu", "-q",
                                     "-o", str(model)])
    assert status == 0, err
    assert "MusicnnEmbedding(model='msd'" in out
    pipeline, meta = load_tagging_model(model)
    assert meta["backbone"] == weights_record("msd")
    emb, head = pipeline.named_steps["embedding"], pipeline.named_steps["tagger"]
    assert isinstance(emb, MusicnnEmbedding) and emb.duration is None
    assert isinstance(head, EmbeddingTagger) and head.max_epochs == 30
    # the library's pipeline, trained the same way
    library = Pipeline([("embedding", MusicnnEmbedding(model="msd")), (
        "tagger", EmbeddingTagger(weighting=WEIGHTINGS["ignore_zeros"].make_estimator(),
                                  max_epochs=30, device="cpu", random_state=0))]).fit(files, Y)
    expected = library.predict_proba(files)
    res = tmp_path / "tags.csv"
    status, _, err = _run(capsys, ["tag", str(model), str(audio), "--whole-track", "-o", str(res),
                                   "--device", "cpu", "-q"])
    assert status == 0, err
    with open(res) as fh:
        rows = {Path(r["file"]).stem: r for r in csv.DictReader(fh)}
    got = np.array([[float(rows[Path(f).stem][n]) for n in ("calm", "party")] for f in files])
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # resumable: drop the last row, resume, the same table
    text = res.read_text()
    res.write_text(text[: text.rstrip("\n").rfind("\n") + 1])
    status, out, _ = _run(capsys, ["tag", str(model), str(audio), "--whole-track", "-o",
                                   str(res), "--resume", "-q"])
    assert status == 0 and "1 files tagged, 5 already done" in out and res.read_text() == text
    # evaluate scores it like any model; embed refuses it (the head has no embeddings)
    status, out, err = _run(capsys, ["evaluate", str(model), str(audio), "--labels", str(labels)])
    assert status == 0 and "Table 1 on 6 tracks" in out, err
    status, _, err = _run(capsys, ["embed", str(model), str(audio), "-o", str(tmp_path / "e.npy")])
    assert status == 1 and "--pretrained" in err
    # options of the CNN are refused, and so is a feature file
    for extra in (["--mixup", "0.2"], ["--n-mels", "64"], ["--architecture", "musicnn"]):
        assert _run(capsys, ["train", str(audio), "--labels", str(labels), "--recipe",
                             "pretrained", "-o", str(tmp_path / "x.sktags"), *extra])[0] == 2


def _bench_finetune():
    spec = importlib.util.spec_from_file_location(
        "bench_4q_emotion", REPO / "benchmarks" / "bench_4q_emotion.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.musicnn_finetune()


def test_musicnn_finetune_recipe_is_the_benchmarks_row():
    import torch

    from sktags import CNNTagger
    from sktags.models import RECIPES
    from sktags.pretrained import musicnn_module

    measured = _bench_finetune()
    recipe = CNNTagger(**RECIPES["musicnn-finetune"], random_state=0)
    ours, theirs = recipe.get_params(deep=False), measured.get_params(deep=False)
    assert ours.pop("module") == "musicnn"
    assert isinstance(theirs.pop("module"), functools.partial)
    assert ours == theirs
    # the named network is the benchmark's partial: same weights, same frozen front end
    recipe.input_shape_ = measured.input_shape_ = (1, 96, 187)
    (a, kw), (b, kw2) = recipe._module_spec(4), measured._module_spec(4)
    torch.manual_seed(0)
    net = a(**kw)
    torch.manual_seed(0)
    ref = b(**kw2)
    assert kw == kw2 and isinstance(ref, type(net))
    for (n1, p1), (n2, p2) in zip(net.named_parameters(), ref.named_parameters()):
        assert n1 == n2 and p1.requires_grad == p2.requires_grad and torch.equal(p1, p2)
    assert not net.frontend["timbral_38"].weight.requires_grad and net.head.weight.requires_grad
    assert torch.equal(net.dense.weight, musicnn_module(96, 187, 4, model="msd").dense.weight)


def test_train_recipe_musicnn_finetune_uses_musicnns_front_end(labelled, tmp_path, capsys):
    from sktags.inference import load_tagging_model
    from sktags.pretrained import musicnn_frontend

    root, audio, labels, files, Y = labelled
    model = tmp_path / "ft.sktags"
    status, out, err = _run(capsys, ["train", str(audio), "--labels", str(labels), "--recipe",
                                     "musicnn-finetune", "--epochs", "1", "--device", "cpu",
                                     "-q", "-o", str(model)])
    assert status == 0, err
    assert "features whole tracks of 96 mel bands" in out
    pipeline, _ = load_tagging_model(model)  # a CNNTagger with module="musicnn" round-trips
    mel, tagger = pipeline.named_steps["mel"], pipeline.named_steps["tagger"]
    front = musicnn_frontend()
    for key in ("sr", "n_fft", "hop_length", "n_mels", "compression", "offset", "duration"):
        assert getattr(mel, key) == getattr(front, key), key
    assert tagger.module == "musicnn" and tagger.crop_frames == 187 and tagger.n_epochs_ == 1
    res = tmp_path / "ft.jsonl"
    assert _run(capsys, ["tag", str(model), *files[:2], "-o", str(res), "-q"])[0] == 0
    rows = [json.loads(line) for line in res.read_text().splitlines()]
    got = np.array([[_proba(r)[n] for n in ("calm", "party")] for r in rows])
    np.testing.assert_allclose(got, pipeline.predict_proba(files[:2]), atol=1e-5)


def test_extract_compression_musicnn_equals_the_front_end(tmp_path, capsys):
    from sktags.features import load_features
    from sktags.pretrained import musicnn_frontend

    out = tmp_path / "x.npy"
    status, _, err = _run(capsys, ["extract", CLIPS[0], "-o", str(out), "--compression", "musicnn",
                                   "--sr", "16000", "--n-fft", "512", "--hop-length", "256",
                                   "--n-mels", "96", "--offset", "0", "--duration", "3", "-q"])
    assert status == 0, err
    X, _ = load_features(out)
    np.testing.assert_allclose(X, musicnn_frontend(duration=3.0).transform(CLIPS[:1]), atol=1e-6)


def test_model_file_refuses_other_backbone_weights(labelled, tmp_path, monkeypatch):
    import sktags.pretrained
    from sktags import EmbeddingTagger
    from sktags.inference import load_tagging_model, save_tagging_model
    from sktags.pretrained import MusicnnEmbedding, weights_record

    _, _, _, files, Y = labelled
    pipe = Pipeline([("embedding", MusicnnEmbedding(duration=3.0)),
                     ("tagger", EmbeddingTagger(max_epochs=2, random_state=0))]).fit(files, Y)
    path = tmp_path / "m.sktags"
    save_tagging_model(path, pipe, target_names=["calm", "party"])
    again, meta = load_tagging_model(path)
    assert meta["backbone"] == {"backbone": "MSD_musicnn",
                                "weights_sha256": weights_record("msd")["weights_sha256"]}
    np.testing.assert_allclose(again.predict_proba(files), pipe.predict_proba(files), atol=1e-6)
    # other weights installed under the same name: the file is refused, naming the backbone
    monkeypatch.setattr(sktags.pretrained, "weights_record",
                        lambda model: {"backbone": "MSD_musicnn", "weights_sha256": "0" * 64})
    with pytest.raises(ValueError, match="trained on the backbone .*MSD_musicnn"):
        load_tagging_model(path)
