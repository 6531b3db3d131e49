"""Every joblib backend gives the features of n_jobs=1: loky, threading,
multiprocessing, a Dask LocalCluster (2 worker processes) and a local Ray.

The scale-out patterns of docs/scaling.rst (docs/snippets/scale_out.py) are
the code run here.
"""

import builtins
import importlib.util
import os
import warnings
from pathlib import Path

import joblib
import numpy as np
import pytest

from sktags.features import AudioDecodeWarning, MelSpectrogramTransformer, extract_to_file

REPO = Path(__file__).resolve().parents[1]
FAST = dict(sr=8000, n_fft=256, hop_length=256, n_mels=16)
BACKENDS = ["loky", "threading", "multiprocessing", "dask", "ray"]


def _load_snippets():
    spec = importlib.util.spec_from_file_location("sktags_scale_out", REPO / "docs" / "snippets" / "scale_out.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


snippets = _load_snippets()


@pytest.fixture(scope="module")
def dask_backend():
    pytest.importorskip("distributed")
    client = snippets.start_dask(n_workers=2)
    yield "dask"
    cluster = client.cluster
    client.close()
    cluster.close()


@pytest.fixture(scope="module")
def ray_backend():
    ray = pytest.importorskip("ray")
    # Ray replaces builtins.print in the driver (its tqdm support); put it back
    # afterwards so that the rest of the test session is unaffected.
    saved_print, saved_env = builtins.print, os.environ.get("RAY_TQDM_PATCH_PRINT")
    os.environ["RAY_TQDM_PATCH_PRINT"] = "0"
    snippets.start_ray(num_cpus=2)
    try:
        yield "ray"
    finally:
        ray.shutdown()
        builtins.print = saved_print
        if saved_env is None:
            os.environ.pop("RAY_TQDM_PATCH_PRINT", None)
        else:
            os.environ["RAY_TQDM_PATCH_PRINT"] = saved_env


def _backend(request):
    name = request.param
    return request.getfixturevalue(f"{name}_backend") if name in ("dask", "ray") else name


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    """The name of an active joblib backend (clusters started once per module)."""
    return _backend(request)


@pytest.fixture(scope="module", params=["multiprocessing", "dask", "ray"])
def process_backend(request):
    """Process-pool and cluster backends (loky and threading run the grid search elsewhere)."""
    return _backend(request)


@pytest.fixture(scope="module")
def audio_folder(fixtures_dir):
    return fixtures_dir / "audio"


@pytest.fixture(scope="module")
def clips(audio_folder, tmp_path_factory):
    missing = str(tmp_path_factory.mktemp("none") / "missing.wav")
    paths = sorted(str(p) for p in audio_folder.iterdir() if p.suffix in (".ogg", ".mp3"))
    rng = np.random.default_rng(0)
    return paths * 2 + [missing] + [rng.standard_normal(12000).astype(np.float32) for _ in range(2)]


def _quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AudioDecodeWarning)
        return fn(*args, **kwargs)


@pytest.fixture(scope="module")
def reference(clips):
    fixed = MelSpectrogramTransformer(**FAST, offset=1.0, duration=2.0, on_error="zeros", n_jobs=1)
    whole = MelSpectrogramTransformer(**FAST, offset=0.0, duration=None, on_error="zeros", n_jobs=1)
    return _quiet(fixed.extract, clips), _quiet(whole.extract, clips)


def _assert_same_features(a, b, backend):
    """Identical in worker processes; up to float32 rounding in worker threads.

    In joblib's worker threads the one-thread BLAS limit that the front end
    sets is not in force for every BLAS library (threadpoolctl reports two
    threads there), and a two-thread matrix product can round the last bit
    differently (4.8e-7 was seen).
    """
    assert np.shape(a) == np.shape(b)
    if backend == "threading":
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    else:
        np.testing.assert_array_equal(a, b)


def test_transform_and_failures_match_n_jobs_1(backend, clips, reference):
    fixed = MelSpectrogramTransformer(**FAST, offset=1.0, duration=2.0, on_error="zeros", n_jobs=2)
    whole = MelSpectrogramTransformer(**FAST, offset=0.0, duration=None, on_error="zeros", n_jobs=2)
    with joblib.parallel_config(backend=backend):
        got_fixed = _quiet(fixed.extract, clips)
        got_whole = _quiet(whole.extract, clips)
    _assert_same_features(got_fixed.features, reference[0].features, backend)
    assert len(got_whole.features) == len(reference[1].features)
    for a, b in zip(got_whole.features, reference[1].features):
        _assert_same_features(a, b, backend)
    for got, ref in zip((got_fixed, got_whole), reference):
        assert got.failed.tolist() == ref.failed.tolist() == [6]
        assert got.errors == ref.errors


def test_extract_to_file_matches_n_jobs_1(backend, clips, reference, tmp_path):
    mel = MelSpectrogramTransformer(**FAST, offset=1.0, duration=2.0, on_error="zeros", n_jobs=2)
    with joblib.parallel_config(backend=backend):
        result = _quiet(extract_to_file, clips, tmp_path / "f.npy", transformer=mel)
    _assert_same_features(result.features, reference[0].features, backend)
    assert result.failed.tolist() == [6]


def test_documented_folder_extraction(backend, audio_folder, tmp_path):
    paths, ref = snippets.extract_folder(audio_folder, tmp_path / "ref.npy", backend="sequential")
    got_paths, got = snippets.extract_folder(audio_folder, tmp_path / "got.npy", backend=backend)
    assert got_paths == paths and len(paths) == 3
    _assert_same_features(np.load(got.path), np.load(ref.path), backend)
    np.testing.assert_array_equal(np.load(got.offsets_path), np.load(ref.offsets_path))
    assert got.failed.tolist() == ref.failed.tolist() == []


@pytest.fixture(scope="module")
def tones():
    """Noise with (y=1) or without (y=0) a quiet 1 kHz tone."""
    rng = np.random.default_rng(1)
    t = np.arange(22050 * 2) / 22050
    y = np.tile([0, 1], 6)
    X = 0.1 * rng.standard_normal((len(y), t.size)) + 0.03 * y[:, None] * np.sin(2 * np.pi * 1000 * t)
    return X.astype(np.float32), y


@pytest.fixture(scope="module")
def search_reference(tones):
    return snippets.grid_search(*tones, backend="sequential")


def test_documented_grid_search(process_backend, tones, search_reference):
    search = snippets.grid_search(*tones, backend=process_backend)
    assert search.best_params_ == search_reference.best_params_
    np.testing.assert_allclose(
        search.cv_results_["mean_test_score"], search_reference.cv_results_["mean_test_score"], rtol=1e-12
    )
    np.testing.assert_array_equal(
        search.best_estimator_[-1].coef_, search_reference.best_estimator_[-1].coef_
    )


def test_backends_without_generators_run_in_bounded_windows():
    """multiprocessing cannot stream results: at most 4 tasks per worker are held."""
    from sktags.features._engine import parallel_map

    consumed = []

    def arguments():
        for k in range(40):
            consumed.append(k)
            yield (k,)

    results = parallel_map(abs, arguments(), n_jobs=2)
    with joblib.parallel_config(backend="multiprocessing"):
        first = next(results)
        assert first == 0 and len(consumed) <= 8
        assert [first, *results] == list(range(40))
