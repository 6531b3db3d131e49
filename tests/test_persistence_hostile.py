"""load_model on damaged and hostile model files: one-line ValueError, fast, bounded memory."""

import io
import json
import resource
import struct
import time
import zipfile

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sktags.models import CNNTagger, load_model, save_model
from sktags.models import _persistence

TINY = dict(filters=(2, 2), hidden_units=4, batch_size=8, max_epochs=1, random_state=0)


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(16, 1, 8, 8)).astype(np.float32)
    Y = (rng.random((16, 2)) < 0.5).astype(np.int64)
    tagger = CNNTagger(**TINY).fit(X, Y)
    path = tmp_path_factory.mktemp("model") / "good.sktags"
    save_model(path, tagger, metadata={"tags": ["a", "b"]})
    with zipfile.ZipFile(path) as z:
        members = [(n, z.read(n)) for n in z.namelist()]
    return _Model((path, members, X, tagger.predict_proba(X)))


class _Model(tuple):
    def __repr__(self):  # keep hypothesis' failure reports short
        return "<model fixture>"


def rezip(path, members, compression=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", compression=compression) as z:
        for name, data in members:
            z.writestr(name, data)
    return path


def with_manifest(members, change):
    manifest = json.loads(dict(members)["manifest.json"])
    change(manifest)
    text = json.dumps(manifest)
    return [(n, text if n == "manifest.json" else d) for n, d in members]


def refused(path, match):
    start = time.perf_counter()
    with pytest.raises(ValueError, match=match) as info:
        load_model(path)
    assert time.perf_counter() - start < 2.0
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "http" not in message
    return message


@pytest.mark.parametrize("version", ["1", None, 1.0, True, [1]])
def test_format_version_of_another_type_is_refused(model, tmp_path, version):
    _, members, _, _ = model
    path = rezip(tmp_path / "m.sktags",
                 with_manifest(members, lambda m: m.update(format_version=version)))
    refused(path, "format_version is")


@pytest.mark.parametrize("version, hint", [(0, "reads format 1 only"), (2, "upgrade sktags")])
def test_older_and_newer_formats_name_their_version(model, tmp_path, version, hint):
    _, members, _, _ = model
    path = rezip(tmp_path / "m.sktags",
                 with_manifest(members, lambda m: m.update(format_version=version)))
    message = refused(path, f"model-file format {version}")
    assert hint in message


def test_npy_header_declaring_a_huge_shape_is_refused_before_allocating(model, tmp_path):
    _, members, _, _ = model
    huge = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        huge, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    huge.write(b"\0" * 64)
    name = next(n for n, _ in members if n.endswith(".npy"))
    path = rezip(tmp_path / "m.sktags",
                 [(n, huge.getvalue() if n == name else d) for n, d in members])
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    refused(path, r"declares shape \(1000000000000,\)")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200_000  # KiB


def test_crc_corrupt_member_is_a_value_error(model, tmp_path):
    _, members, _, _ = model
    path = rezip(tmp_path / "m.sktags", members, compression=zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    at = data.index(b'"sktags_version"')  # inside the stored manifest
    data[at + 2] ^= 0x01
    path.write_bytes(bytes(data))
    refused(path, "manifest.json cannot be read.*CRC")


def test_weights_that_torch_refuses_are_a_value_error(model, tmp_path):
    _, members, _, _ = model
    buffer = io.BytesIO()
    torch.save({"w": np.float64}, buffer)  # a global torch's weights_only loader refuses
    path = rezip(tmp_path / "m.sktags",
                 [(n, buffer.getvalue() if n.endswith(".pt") else d) for n, d in members])
    refused(path, r"weights/\d+\.pt is not a weights file that torch.load\(weights_only=True\)")


def test_non_finite_weights_are_a_damaged_file(model, tmp_path):
    _, members, _, _ = model
    name, data = next((n, d) for n, d in members if n.endswith(".pt"))
    state = torch.load(io.BytesIO(data), weights_only=True)
    key = next(iter(state))
    state[key] = state[key].clone()
    state[key].view(-1)[0] = float("nan")
    buffer = io.BytesIO()
    torch.save(state, buffer)
    path = rezip(tmp_path / "m.sktags",
                 [(n, buffer.getvalue() if n == name else d) for n, d in members])
    refused(path, "non-finite weights")


@pytest.mark.parametrize("where", ["metadata", "params"])
def test_json_nested_thousands_deep_is_refused(model, tmp_path, where):
    _, members, _, _ = model
    text = dict(members)["manifest.json"].decode()
    nested = "[" * 5000 + "1" + "]" * 5000
    if where == "metadata":
        text = text.replace('"metadata": ', f'"metadata": {{"__dict__": [["x", {nested}]]}}, "_": ')
    else:
        text = text.replace('"params": {', f'"params": {{"verbose": {nested}, ', 1)
    path = rezip(tmp_path / "m.sktags",
                 [(n, text if n == "manifest.json" else d) for n, d in members])
    refused(path, "nested more than 64 levels deep")


def test_zip_bomb_is_refused_from_the_central_directory(model, tmp_path, monkeypatch):
    _, members, _, _ = model
    bomb = members + [("padding.bin", b"\0" * (32 * 2**20))]  # 32 MiB deflating to 32 KiB
    path = rezip(tmp_path / "m.sktags", bomb)
    assert path.stat().st_size < 2**20
    monkeypatch.setattr(_persistence, "MAX_TOTAL_BYTES", 16 * 2**20)
    refused(path, "declare .* bytes uncompressed .*zip bomb")
    monkeypatch.setattr(_persistence, "MAX_MEMBER_BYTES", 8 * 2**20)
    refused(path, r"padding.bin declares 33554432 bytes uncompressed")


def test_a_member_declaring_gigabytes_is_refused_with_the_default_limits(model, tmp_path):
    _, members, _, _ = model
    path = rezip(tmp_path / "m.sktags", members)
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")  # central directory entry of manifest.json
    data[at + 24 : at + 28] = struct.pack("<I", 2_300_000_000)
    path.write_bytes(bytes(data))
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    refused(path, "manifest.json declares 2300000000 bytes uncompressed")
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KiB


def test_a_member_lying_about_its_size_stops_at_the_declared_size(model, tmp_path):
    _, members, _, _ = model
    path = rezip(tmp_path / "m.sktags", members)
    data = bytearray(path.read_bytes())
    # shrink the declared uncompressed size of manifest.json in the central directory
    at = data.index(b"PK\x01\x02")
    assert data[at + 46 : at + 46 + 13] == b"manifest.json"
    data[at + 24 : at + 28] = struct.pack("<I", 10)
    path.write_bytes(bytes(data))
    refused(path, "manifest.json")


@pytest.mark.parametrize("name", ["_validate_params", "predict_proba", "_forward", "fit"])
def test_fitted_attribute_shadowing_a_method_is_refused(model, tmp_path, name):
    """sktags 0.2 set any "fitted" entry on the instance: ``predict_proba`` then
    raised "'int' object is not callable" at the first prediction."""
    _, members, _, _ = model
    path = rezip(tmp_path / "m.sktags", with_manifest(
        members, lambda m: m["estimator"]["fitted"].update({name: 1})))
    refused(path, f"holds the attribute '{name}', which is not a fitted attribute")


def test_front_end_with_sr_zero_in_a_model_file_is_refused_at_load(tmp_path):
    from sklearn.pipeline import Pipeline

    from sktags import MelSpectrogramTransformer

    rng = np.random.default_rng(1)
    waves = rng.uniform(-0.5, 0.5, (12, 2205)).astype(np.float32)
    Y = (rng.random((12, 2)) < 0.5).astype(np.int64)
    mel = MelSpectrogramTransformer(offset=0.0, duration=0.1, n_mels=8, n_fft=256, hop_length=256)
    pipe = Pipeline([("mel", mel), ("tagger", CNNTagger(**TINY))]).fit(waves, Y)
    path = tmp_path / "p.sktags"
    save_model(path, pipe)
    with zipfile.ZipFile(path) as z:
        members = [(n, z.read(n)) for n in z.namelist()]

    def sr_zero(m):
        steps = m["estimator"]["params"]["steps"]
        steps[0]["__tuple__"][1]["params"]["sr"] = 0
    rezip(path, with_manifest(members, sr_zero))
    refused(path, r"The 'sr' parameter of MelSpectrogramTransformer must be an int")


def test_crop_larger_than_the_window_limit_is_refused_at_load(model, tmp_path):
    _, members, _, _ = model
    path = rezip(tmp_path / "m.sktags", with_manifest(
        members, lambda m: m["estimator"]["params"].update(crop_frames=10**9)))
    refused(path, r"crop_frames=1000000000 frames is over the limit of 65536 frames")


# --------------------------------------------------------------------- fuzzing
def _paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, prefix + (i,))


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**40), 2**40) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=6,
)


@st.composite
def mutations(draw, members):
    kind = draw(st.sampled_from(["flip", "drop", "resize", "duplicate", "replace"]))
    names = [n for n, _ in members]
    if kind == "replace":
        manifest = json.loads(dict(members)["manifest.json"])
        paths = [p for p in _paths(manifest) if p]
        target = draw(st.sampled_from(paths))
        value = draw(_JSON)

        def change(m):
            for key in target[:-1]:
                m = m[key]
            m[target[-1]] = value
        return "members", with_manifest(members, change)
    if kind == "flip":
        return "bytes", draw(st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)),
                                      min_size=1, max_size=4))
    name = draw(st.sampled_from(names))
    if kind == "drop":
        return "members", [(n, d) for n, d in members if n != name]
    if kind == "duplicate":
        return "members", members + [(name, dict(members)[name])]
    size = draw(st.integers(0, 2 * len(dict(members)[name]) + 8))
    data = dict(members)[name]
    data = data[:size] + bytes(max(0, size - len(data)))
    return "members", [(n, data if n == name else d) for n, d in members]


@pytest.mark.filterwarnings("ignore::UserWarning")
@settings(max_examples=100, deadline=3000, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(data=st.data())
def test_fuzzed_model_files_load_identically_or_raise_value_error(model, tmp_path, data):
    good, members, X, expected = model
    kind, change = data.draw(mutations(members))
    path = tmp_path / "fuzzed.sktags"
    if kind == "bytes":
        raw = bytearray(good.read_bytes())
        for at, xor in change:
            raw[at % len(raw)] ^= xor
        path.write_bytes(bytes(raw))
    else:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # zipfile warns about duplicate names
            rezip(path, change)
    start = time.perf_counter()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        loaded, _ = load_model(path)
    except ValueError as exc:
        event(f"refused ({kind})")
        assert "\n" not in str(exc) and str(path) in str(exc)
    else:
        event(f"loaded ({kind})")
        np.testing.assert_allclose(loaded.predict_proba(X), expected, rtol=1e-6, atol=1e-7)
    assert time.perf_counter() - start < 2.5
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss < 200_000  # KiB
