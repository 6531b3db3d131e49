"""musicnn's shipped weights, its front end and the PyTorch port, against independent oracles.

The oracle of the port is ``tests/fixtures/musicnn_fidelity.npz``, written by
``tools/convert_musicnn.py`` with musicnn's own TensorFlow graph and front
end (the wheel's ``models.py`` and ``extractor.batch_data``, numpy 1) on the
bundled test recordings. The oracle of the front end is librosa.
"""

import hashlib
import json
import shutil

import numpy as np
import pytest
import torch

from sktags.features._logmel import compress
from sktags.pretrained import MusicnnNet, musicnn_frontend
from sktags.pretrained import _weights

librosa = pytest.importorskip("librosa")

WHEEL_SHA256 = "f38a4890c648c1ddbb141c5d96d2b0a8cfcd36746002d896989f7b88beb65cfa"


@pytest.fixture(scope="module")
def fixture(fixtures_dir):
    return dict(np.load(fixtures_dir / "musicnn_fidelity.npz"))


def musicnn_input(fixture):
    """musicnn's patches as it fed them (numpy 1: float16 mel, log in float32), sktags' layout."""
    q = fixture["mel_float16"].astype(np.float32)
    x = np.log10(np.float32(10000) * q + np.float32(1))  # (n, time, freq)
    return torch.from_numpy(np.ascontiguousarray(x.transpose(0, 2, 1)))[:, None]


def run(net, x):
    with torch.no_grad():
        return {k: v.numpy() for k, v in net.eval().forward_all(x).items()}


# ------------------------------------------------------------------ weights
@pytest.mark.parametrize("model", ["msd", "mtt"])
def test_shipped_weights_load_and_match_their_recorded_checksums(model):
    record = _weights.provenance()
    assert record["source"]["sha256"] == WHEEL_SHA256
    entry = record["models"][model]
    path = _weights.weights_path(model)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["file_sha256"]
    assert path.stat().st_size < 4_000_000
    tensors = _weights.load_weights(model, verify=True)
    assert sum(t.size for t in tensors.values()) == entry["n_parameters"] == 792079
    for name, t in tensors.items():  # recomputed here, not by the loader
        assert t.dtype == np.float32
        assert hashlib.sha256(t.tobytes()).hexdigest() == entry["tensors"][name]["sha256"]
    assert len(entry["tags"]) == 50 == len(set(entry["tags"]))
    assert {"happy", "sad", "Mellow", "party"} <= set(record["models"]["msd"]["tags"])


def test_licence_text_is_shipped():
    text = (_weights._weights_dir() / "LICENSE-musicnn.txt").read_text()
    assert "ISC" in text and "Permission to use, copy, modify" in text
    assert "Universitat Pompeu Fabra" in text


def test_a_tampered_tensor_is_refused(tmp_path, monkeypatch):
    src = _weights._weights_dir()
    for name in ("provenance.json", "msd_musicnn.safetensors"):
        shutil.copy(src / name, tmp_path / name)
    record = json.loads((tmp_path / "provenance.json").read_text())
    record["models"]["msd"]["tensors"]["dense_1/bias"]["sha256"] = "0" * 64
    (tmp_path / "provenance.json").write_text(json.dumps(record))
    monkeypatch.setattr(_weights, "_weights_dir", lambda: tmp_path)
    _weights.provenance.cache_clear()
    _weights._load.cache_clear()
    try:
        with pytest.raises(ValueError, match="dense_1/bias.*SHA-256"):
            _weights.load_weights("msd", verify=True)
    finally:
        monkeypatch.undo()
        _weights.provenance.cache_clear()
        _weights._load.cache_clear()


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ValueError, match="model must be one of"):
        _weights.tag_names("msd_big")


# --------------------------------------------------------------------- port
@pytest.mark.parametrize("model", ["msd", "mtt"])
def test_port_matches_musicnn_tensorflow_graph(fixture, model):
    out = run(MusicnnNet().load_released(model), musicnn_input(fixture))
    taggram = 1 / (1 + np.exp(-out["logits"].astype(np.float64)))
    np.testing.assert_allclose(taggram, fixture[f"{model}_taggram"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(out["penultimate"], fixture[f"{model}_penultimate"],
                               rtol=0, atol=1e-3)
    np.testing.assert_allclose(out["mean_pool"], fixture[f"{model}_mean_pool"], rtol=0, atol=1e-3)
    np.testing.assert_allclose(out["max_pool"], fixture[f"{model}_max_pool"], rtol=1e-4, atol=1e-3)
    assert out["pooled"].shape == (len(taggram), 1506)


def test_port_differs_without_the_released_weights(fixture):
    """The fidelity test can fail: random weights are far from the graph's outputs."""
    torch.manual_seed(0)
    out = run(MusicnnNet(), musicnn_input(fixture))
    taggram = 1 / (1 + np.exp(-out["logits"]))
    assert np.abs(taggram - fixture["msd_taggram"]).max() > 0.1


# ---------------------------------------------------------------- front end
def test_musicnn_compression_rounds_to_float16_then_logs_in_float32():
    """Pinned numpy-1 result: float16(M), then log10(1 + 10000 x) in float32."""
    M = np.array([[0.1, 1e-6, 3.0]], dtype=np.float32)
    got = compress(M, "musicnn")
    # hand-worked: float16(0.1) = 0.0999755859375, float16(1e-6) = 1.013e-6 (subnormal)
    q = np.array([0.0999755859375, 1.0132789611816406e-06, 3.0])
    expected = np.log10(1 + 10000 * q)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got[0], expected, rtol=1e-6)
    assert abs(got[0, 0] - np.log10(1 + 10000 * 0.1)) > 1e-5  # the rounding is visible
    assert np.isfinite(got).all()  # numpy 2's float16 product would overflow to inf


def test_musicnn_frontend_matches_librosa(fixtures_dir):
    y, _ = librosa.load(str(fixtures_dir / "audio" / "Hungarian_Dance_number_5_excerpt.ogg"),
                        sr=16000)
    got = musicnn_frontend().transform([y])[0][0]
    M = librosa.feature.melspectrogram(y=y, sr=16000, n_fft=512, hop_length=256, n_mels=96)
    ref = np.log10(10000 * M.astype(np.float16).astype(np.float32) + 1)
    assert got.shape == ref.shape == (96, 1 + len(y) // 256)
    # an ulp of float16 (1e-3 relative) may flip: at most 4e-4 after the log
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-3)
    assert np.abs(got - ref).mean() < 1e-5


def test_frontend_and_port_reproduce_musicnn_end_to_end(fixture, fixtures_dir):
    """Our decoding, front end and port on the files give musicnn's taggram and patches."""
    from sktags.pretrained._runner import patches_of

    paths = [str(fixtures_dir / "audio" / f) for f in fixture["files"]]
    feats = musicnn_frontend().transform(paths)
    patches = [patches_of(f[0]) for f in feats]
    assert [len(p) for p in patches] == fixture["n_patches"].tolist()
    x = np.concatenate(patches)
    np.testing.assert_allclose(x, musicnn_input(fixture)[:, 0].numpy(), rtol=0, atol=1e-3)
    for model in ("msd", "mtt"):
        out = run(MusicnnNet().load_released(model), torch.from_numpy(x)[:, None])
        taggram = 1 / (1 + np.exp(-out["logits"]))
        ref = fixture[f"{model}_taggram"]
        assert np.abs(taggram - ref).mean() < 1e-3
        for a, b in zip(taggram, ref):
            assert set(np.argsort(-a)[:5]) == set(np.argsort(-b)[:5])


def test_pooled_inference_branch_equals_batch_norm_then_max():
    """The inference shortcut (max/min over frequency first) against the op order of models.py."""
    torch.manual_seed(0)
    net = MusicnnNet().load_released("mtt").eval()
    with torch.no_grad():
        bn = net.frontend["timbral_67_bn"]
        bn.weight[::3] *= -1  # negative scales take the min branch
        x = torch.randn(3, 1, 96, 50)
        for name in ("timbral_67", "temporal_32"):
            got = net._branch(name, x)
            conv, bn = net.frontend[name], net.frontend[f"{name}_bn"]
            ref = bn(torch.relu(conv(x))).amax(dim=2)
            torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)
