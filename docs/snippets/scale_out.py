"""Scale-out patterns shown in docs/scaling.rst; tests/test_backends.py runs them.

Every function here is called by the test suite under loky, threading,
multiprocessing, a Dask LocalCluster and a local Ray, and must give the same
result as ``n_jobs=1``.
"""

from pathlib import Path

import joblib
import numpy as np

from sktags.features import MelSpectrogramTransformer, extract_to_file

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".opus", ".mp3"}


# --- start-dask ---
def start_dask(n_workers=2):
    """A local Dask cluster of worker processes; on a real cluster use
    ``Client("scheduler-address:8786")`` instead."""
    from dask.distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster)  # the default client: joblib's "dask" backend uses it
# --- end-start-dask ---


# --- start-ray ---
def start_ray(num_cpus=2):
    """A local Ray; on a cluster use ``ray.init(address="auto")``."""
    import ray
    from ray.util.joblib import register_ray

    ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False)
    register_ray()  # makes joblib's "ray" backend available
# --- end-start-ray ---


# --- extract-folder ---
def extract_folder(folder, output, backend="loky"):
    """Whole-track log-mel features of every audio file under ``folder``."""
    paths = sorted(str(p) for p in Path(folder).rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    mel = MelSpectrogramTransformer(offset=0.0, duration=None, on_error="zeros", n_jobs=-1)
    with joblib.parallel_config(backend=backend):
        result = extract_to_file(paths, output, transformer=mel, dtype="float16")
    for message in result.errors:  # files that could not be decoded
        print("failed:", message)
    return paths, result
# --- end-extract-folder ---


# --- grid-search ---
def grid_search(X, y, backend="loky"):
    """Tune a log-mel + logistic-regression pipeline over a cluster."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer, StandardScaler

    pipe = make_pipeline(
        MelSpectrogramTransformer(offset=0.0, duration=2.0),
        FunctionTransformer(np.mean, kw_args={"axis": (1, 3)}),  # per-band mean
        StandardScaler(),
        LogisticRegression(),
    )
    grid = {"logisticregression__C": [0.1, 1.0]}  # add front-end parameters at will
    search = GridSearchCV(pipe, grid, cv=2, scoring="roc_auc", n_jobs=-1)
    with joblib.parallel_config(backend=backend):
        search.fit(X, y)
    return search
# --- end-grid-search ---
