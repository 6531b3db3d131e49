"""Library misuse that sktags 0.2 answered with a raw traceback or a silent result.

Pipelines with their steps swapped or a transformer where the tagger belongs
(tag_files, save/load_tagging_model, ``sktags tag`` and ``embed``), a tagger
given audio files, and ``target_names`` that is not a sequence of names.
Each case fails on sktags 0.2.
"""

import numpy as np
import pytest
import soundfile as sf
from sklearn.pipeline import Pipeline

from sktags import CNNTagger, MelSpectrogramTransformer
from sktags.inference import tag_files
from sktags.metrics import context_report

TINY = dict(filters=(2, 2), hidden_units=4, max_epochs=1, batch_size=8, random_state=0,
            device="cpu", valid_size=None)
Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])


def _mel():
    return MelSpectrogramTransformer(offset=0.0, duration=0.5, n_mels=8, hop_length=512)


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("misuse")
    rng = np.random.default_rng(0)
    paths = []
    for i in range(4):
        paths.append(str(root / f"{i}.wav"))
        sf.write(paths[-1], rng.normal(0, 0.1, 22050).astype(np.float32), 22050)
    return paths


@pytest.fixture(scope="module")
def wrong(files):
    """Fitted pipelines that are not (mel, tagger): each fits without complaint."""
    spectrograms = _mel().fit_transform(files)
    return {
        # step names swapped: the "mel" step is the tagger
        "names": Pipeline([("mel", CNNTagger(**TINY)), ("tagger", _mel())]).fit(
            spectrograms, Y),
        # steps in the wrong order: the tagger first, on spectrograms
        "order": Pipeline([("tagger", CNNTagger(**TINY)), ("mel", _mel())]).fit(
            spectrograms, Y),
        # a transformer where the tagger belongs
        "transformer": Pipeline([("mel", _mel()), ("tagger", _mel().fit(files))]),
    }


NEEDLE = {"names": "its 'mel' step is a CNNTagger and its 'tagger' step a "
                   "MelSpectrogramTransformer",
          "order": r"its steps are \['tagger', 'mel'\]; the 'mel' step must come first",
          "transformer": "its 'tagger' step a MelSpectrogramTransformer"}


@pytest.mark.parametrize("kind", sorted(NEEDLE))
@pytest.mark.parametrize("embed", [False, True])
def test_tag_files_refuses_a_pipeline_that_is_not_mel_then_tagger(files, wrong, kind, embed):
    # 0.2: "Invalid parameter 'n_jobs' for estimator CNNTagger(...)" over several lines,
    # tagged with the tagger and the front end swapped without a word, or
    # AttributeError: 'MelSpectrogramTransformer' object has no attribute 'predict_proba'
    with pytest.raises(ValueError, match=NEEDLE[kind]) as info:
        list(tag_files(wrong[kind], files, embed=embed, tag=not embed))
    assert "\n" not in str(info.value)


def test_a_model_file_with_swapped_steps_is_refused_when_written_and_read(files, wrong, tmp_path):
    from sktags.inference import load_tagging_model, save_tagging_model
    from sktags.models import save_model

    for kind, pipe in wrong.items():
        path = tmp_path / f"{kind}.sktags"
        with pytest.raises(ValueError, match=NEEDLE[kind]):
            save_tagging_model(path, pipe, target_names=["a", "b"])
        assert not path.exists()
        save_model(path, pipe, metadata={"target_names": ["a", "b"]})  # written by hand
        with pytest.raises(ValueError, match=NEEDLE[kind]) as info:
            load_tagging_model(path)
        assert str(path) in str(info.value)


@pytest.mark.parametrize("command", ["tag", "embed"])
def test_the_cli_names_the_wrong_step_in_one_line(capsys, files, wrong, tmp_path, command):
    """0.2's ``sktags tag``: AttributeError: 'CNNTagger' object has no attribute 'hop_length'."""
    from sktags.cli import main
    from sktags.models import save_model

    path = tmp_path / "names.sktags"
    save_model(path, wrong["names"], metadata={"target_names": ["a", "b"]})
    extra = ["-o", str(tmp_path / "emb.npy")] if command == "embed" else []
    status = main([command, str(path), *files, *extra])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert status == 1 and len(lines) == 1 and "Traceback" not in err, err
    assert "its 'mel' step is a CNNTagger" in lines[0] and str(path) in lines[0]


def test_a_tagger_given_audio_files_says_where_the_front_end_goes(files):
    # 0.2: "X must hold real numbers, got dtype <U..." and nothing else
    with pytest.raises(ValueError, match="put a MelSpectrogramTransformer before it"):
        CNNTagger(**TINY).fit(files, Y)
    with pytest.raises(ValueError, match="put a MelSpectrogramTransformer before it"):
        Pipeline([("tagger", CNNTagger(**TINY)), ("mel", _mel())]).fit(files, Y)


@pytest.mark.parametrize("names", [3, "abc", [["a", "b", "c"]]])
def test_context_report_target_names_must_be_a_sequence_of_names(names):
    # 0.2: TypeError "'int' object is not iterable"; "abc" silently named the
    # labels "a", "b", "c"; a nested list was taken as one name per row
    rng = np.random.default_rng(0)
    y_true = (rng.random((20, 3)) < 0.5).astype(int)
    with pytest.raises(ValueError, match="target_names must be a sequence of 3 names"):
        context_report(y_true, rng.random((20, 3)), target_names=names)


def test_context_report_shows_int_target_names_as_text():
    """Ints are names once written out (the report and its plot both read them as str)."""
    rng = np.random.default_rng(0)
    y_true = (rng.random((20, 3)) < 0.5).astype(int)
    report = context_report(y_true, rng.random((20, 3)), target_names=np.array([7, 8, 9]))
    assert report.target_names == ["7", "8", "9"]
    assert [line.split()[0] for line in str(report).splitlines()[2:5]] == ["7", "8", "9"]


@pytest.mark.parametrize("damage", ["empty", "npz"])
def test_a_feature_file_that_is_empty_or_not_one_array_is_a_value_error(files, tmp_path, damage):
    """An empty .npy gave a raw EOFError; an .npz under the .npy name, an NpzFile taken as X."""
    import io

    from sktags.features import load_features, write_features

    path = tmp_path / "f.npy"
    write_features(files, path, transformer=_mel())
    X, _ = load_features(path)
    if damage == "empty":
        data = b""
    else:
        buffer = io.BytesIO()
        np.savez(buffer, X=np.asarray(X))
        data = buffer.getvalue()
    del X
    path.write_bytes(data)
    with pytest.raises(ValueError, match=r"f\.npy' is not a readable feature file: ") as info:
        load_features(path)
    assert "\n" not in str(info.value)
