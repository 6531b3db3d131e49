"""Model files that load without running code: ``save_model`` and ``load_model``.

A model file is a zip archive holding

- ``manifest.json``: the estimator's class, its parameters and its fitted
  plain-data attributes (nested estimators, e.g. the steps of a pipeline and
  the tagger's ``weighting_``, the same way), and the user's metadata;
- ``arrays/<i>.npy``: every numeric array, read back with
  ``np.load(allow_pickle=False)``;
- ``weights/<i>.pt``: the network weights of each :class:`~sktags.CNNTagger`, read
  back with ``torch.load(weights_only=True)``.

Only the estimator classes of sktags and scikit-learn's ``Pipeline`` are
rebuilt, from their parameters; nothing in the file is unpickled, so a
crafted file cannot run code. Pickle and joblib files are refused. To keep
arbitrary estimators (a custom ``module`` class, say), use pickle or joblib,
and load only files you trust.
"""

import importlib
import io
import json
import os
import zipfile

import numpy as np
import torch
from skorch.history import History

from .._version import __version__
from ..utils._atomic import atomic_path

__all__ = ["load_model", "save_model"]

FORMAT = "sktags-model"
FORMAT_VERSION = 1
# The classes a model file may name, and nothing else.
_CLASSES = {
    "CNNTagger": "sktags.models",
    "EmbeddingTagger": "sktags.models",
    "ContextWeightEstimator": "sktags.weighting",
    "MelSpectrogramTransformer": "sktags.features",
    "Pipeline": "sklearn.pipeline",
}
# Parameters used only while training, which a saved model does not keep.
_TRAINING_ONLY = {"CNNTagger": {"callbacks"}, "EmbeddingTagger": {"callbacks"}}
_NEURAL = ("CNNTagger", "EmbeddingTagger")


class _Writer:
    def __init__(self):
        self.files = {}

    def encode(self, value, where):
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, np.generic):
            return self.encode(value.item(), where)
        if isinstance(value, os.PathLike):
            return os.fspath(value)
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(v, where) for v in value]}
        if isinstance(value, list):
            return [self.encode(v, where) for v in value]
        if isinstance(value, dict):
            return {"__dict__": [[self.encode(k, where), self.encode(v, where)]
                                 for k, v in value.items()]}
        if isinstance(value, np.ndarray):
            if value.dtype.kind == "O":
                return {"__objects__": self.encode(value.tolist(), where),
                        "shape": list(value.shape)}
            name = f"arrays/{len(self.files)}.npy"
            buffer = io.BytesIO()
            np.save(buffer, np.ascontiguousarray(value), allow_pickle=False)
            self.files[name] = buffer.getvalue()
            return {"__ndarray__": name}
        if type(value).__name__ in _CLASSES and hasattr(value, "get_params"):
            return self.estimator(value, where)
        raise ValueError(f"cannot save {where}: {type(value).__name__} is not plain data or an "
                         "sktags estimator; use pickle or joblib for this model.")

    def estimator(self, est, where):
        kind = type(est).__name__
        params = est.get_params(deep=False)
        if kind == "CNNTagger" and params["module"] is not None and not isinstance(
                params["module"], str) or not isinstance(params.get("loss", ""), str):
            raise ValueError(
                f"cannot save {where}: its module or loss is custom code, which "
                "this format does not store; use pickle or joblib (and load only trusted files).")
        for name in _TRAINING_ONLY.get(kind, ()):
            params[name] = None
        if isinstance(params.get("random_state"), np.random.RandomState):
            params["random_state"] = None
        out = {"__estimator__": kind,
               "params": {k: self.encode(v, f"{where}.{k}") for k, v in params.items()},
               "fitted": {}}
        for key, value in vars(est).items():
            if key in params or key.startswith("__") or not (key.endswith("_")
                                                             or key.startswith("_")):
                continue
            if kind in _NEURAL and key == "net_":
                out["net"] = self.net(value)
                continue
            try:
                out["fitted"][key] = self.encode(value, f"{where}.{key}")
            except ValueError:
                if not key.startswith("_"):
                    raise  # a public fitted attribute must travel; private caches may not
        return out

    def net(self, net):
        name = f"weights/{len(self.files)}.pt"
        state = {k: v.detach().to("cpu") for k, v in net.module_.state_dict().items()}
        buffer = io.BytesIO()
        torch.save(state, buffer)
        self.files[name] = buffer.getvalue()
        return {"weights": name, "history": self.encode(list(net.history), "net_.history")}


def save_model(path, estimator, *, metadata=None):
    """Save a fitted CNNTagger, or a Pipeline of sktags steps, without pickle.

    Parameters
    ----------
    path : str or path-like
        Output file; written atomically (a temporary file, then a rename).
    estimator : CNNTagger or Pipeline
        A fitted :class:`~sktags.CNNTagger` (its ``module`` None or a built-in name),
        or a :class:`~sklearn.pipeline.Pipeline` whose steps are sktags
        estimators (e.g. ``MelSpectrogramTransformer`` then ``CNNTagger``).
        ``callbacks`` are not saved (they only act during training).
    metadata : dict or None, default=None
        Plain data (str, numbers, bools, None, lists, dicts, numeric arrays)
        stored beside the model and returned by :func:`load_model`.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sktags.models import CNNTagger, load_model, save_model
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(20, 1, 8, 8)).astype(np.float32)
    >>> Y = (rng.random((20, 2)) < 0.5).astype(int)
    >>> tagger = CNNTagger(filters=(2, 2), hidden_units=4, max_epochs=1,
    ...                    random_state=0).fit(X, Y)
    >>> with tempfile.TemporaryDirectory() as d:
    ...     save_model(os.path.join(d, "m.sktags"), tagger, metadata={"tags": ["a", "b"]})
    ...     loaded, meta = load_model(os.path.join(d, "m.sktags"))
    >>> meta, bool((loaded.predict_proba(X) == tagger.predict_proba(X)).all())
    ({'tags': ['a', 'b']}, True)
    """
    writer = _Writer()
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "sktags_version": __version__,
        "estimator": writer.estimator(estimator, type(estimator).__name__)
        if type(estimator).__name__ in _CLASSES else writer.encode(estimator, "estimator"),
        "metadata": writer.encode(metadata, "metadata"),
    }
    with atomic_path(path, prefix=".model-", suffix=".tmp") as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("manifest.json", json.dumps(manifest, allow_nan=True))
            for name, data in writer.files.items():
                archive.writestr(name, data)


class _Reader:
    def __init__(self, archive, path):
        self.archive = archive
        self.path = path
        self.version = "?"

    def read(self, name):
        try:
            return self.archive.read(name)
        except KeyError:
            raise ValueError(f"{self.path} is damaged: {name} is missing.") from None

    def decode(self, value):
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "__tuple__" in value:
            return tuple(self.decode(v) for v in value["__tuple__"])
        if "__dict__" in value:
            return {self.decode(k): self.decode(v) for k, v in value["__dict__"]}
        if "__ndarray__" in value:
            return np.load(io.BytesIO(self.read(value["__ndarray__"])), allow_pickle=False)
        if "__objects__" in value:
            flat = np.empty(int(np.prod(value["shape"])), dtype=object)
            flat[:] = list(np.asarray(self.decode(value["__objects__"]),
                                      dtype=object).reshape(-1))
            return flat.reshape(value["shape"])
        if "__estimator__" in value:
            return self.estimator(value)
        raise ValueError(f"{self.path} is damaged: unknown entry {sorted(value)}.")

    def estimator(self, spec):
        kind = spec["__estimator__"]
        if kind not in _CLASSES:
            raise ValueError(f"{self.path} names the class {kind!r}, which sktags model files "
                             "may not contain.")
        cls = getattr(importlib.import_module(_CLASSES[kind]), kind)
        try:
            est = cls(**{k: self.decode(v) for k, v in spec["params"].items()})
            for key, value in spec["fitted"].items():
                setattr(est, key, self.decode(value))
            if "net" in spec:
                self.rebuild_net(est, spec["net"])
        except (TypeError, AttributeError, RuntimeError) as exc:
            raise ValueError(f"{self.path} holds a {kind} of sktags {self.version}, which sktags "
                             f"{__version__} cannot read ({type(exc).__name__}: "
                             f"{str(exc).splitlines()[0] if str(exc) else ''}); train it again."
                             ) from None
        return est

    def rebuild_net(self, est, spec):
        from ._training import resolve_device

        try:
            device = resolve_device(est.device_)
        except ValueError:  # trained on a device this machine lacks
            device = "cpu"
        state = torch.load(io.BytesIO(self.read(spec["weights"])), map_location="cpu",
                           weights_only=True)
        net = est._make_net(est.n_labels_, device, est.seed_)
        with torch.random.fork_rng(devices=[]):  # initialisation draws random numbers
            net.initialize()
        net.module_.load_state_dict(state)
        net.history_ = History(self.decode(spec["history"]))
        est.net_ = net
        est.device_ = device


def load_model(path):
    """Load a model written by :func:`save_model`; no code in the file runs.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    estimator : CNNTagger or Pipeline
        The fitted estimator; it predicts as the saved one did. A model
        trained on a device that this machine lacks is loaded on the CPU.
    metadata : dict or None
        The ``metadata`` given to :func:`save_model`.

    Raises
    ------
    ValueError
        When the file is not an sktags model file (a pickle or joblib file,
        for instance), or is damaged. Its content is never executed.
    """
    path = os.fspath(path)
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is not an sktags model file (a zip with manifest.json); pickle and joblib "
            "files are refused because loading them can run code.")
    with zipfile.ZipFile(path) as archive:
        reader = _Reader(archive, path)
        try:
            manifest = json.loads(reader.read("manifest.json"))
        except (ValueError, UnicodeDecodeError) as exc:
            if "is damaged" in str(exc):
                raise ValueError(f"{path} is not an sktags model file (no manifest.json).") \
                    from None
            raise ValueError(f"{path} is damaged: its manifest.json is not JSON.") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError(f"{path} is not an sktags model file (unknown manifest).")
        if manifest.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(f"{path} was written by a newer sktags "
                             f"({manifest.get('sktags_version')}); upgrade sktags to load it.")
        reader.version = manifest.get("sktags_version", "?")
        try:
            estimator = reader.decode(manifest["estimator"])
            metadata = reader.decode(manifest.get("metadata"))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path} is damaged: {type(exc).__name__} {exc}.") from None
    return estimator, metadata
