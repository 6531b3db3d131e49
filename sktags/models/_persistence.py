"""Model files that load without running code: ``save_model`` and ``load_model``.

A zip of ``manifest.json`` (classes, parameters, fitted plain data, nested
estimators, metadata), ``arrays/<i>.npy`` (read with ``allow_pickle=False``)
and ``weights/<i>.pt`` (read with ``torch.load(weights_only=True)``). Only
sktags estimators, sktags losses and ``Pipeline`` are rebuilt, from their
parameters; pickle and joblib files are refused.
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
from ..losses import LOSSES
from ..features import check_window
from ..utils import BoundedZip, DamagedArchive, atomic_path, check_depth, one_line, open_zip

__all__ = ["load_model", "save_model"]

FORMAT = "sktags-model"
FORMAT_VERSION = 1
# The classes a model file may name, and nothing else.
_CLASSES = {
    "CNNTagger": "sktags.models",
    "ContextWeightEstimator": "sktags.weighting",
    "EmbeddingTagger": "sktags.models",
    "MelSpectrogramTransformer": "sktags.features",
    "MusicnnEmbedding": "sktags.pretrained",
    "Pipeline": "sklearn.pipeline",
}
# Types of the fitted attributes that prediction reads (checked when present).
_FITTED_TYPES = {"outputs_2d_": bool, "n_labels_": int, "seed_": int, "device_": str,
                 "input_shape_": tuple, "window_": (tuple, type(None)), "n_features_in_": int,
                 "classes_": (list, np.ndarray), "thresholds_": np.ndarray}
# Parameters used only while training, which a saved model does not keep.
_NEURAL = ("CNNTagger", "EmbeddingTagger")
_TRAINING_ONLY = dict.fromkeys(_NEURAL, {"callbacks"})


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
        if type(value) in LOSSES.values():  # a built-in loss, by its class and parameters
            return {"__loss__": type(value).__name__, "params": self.encode(
                value.get_params(), where)}
        if type(value).__name__ in _CLASSES and hasattr(value, "get_params"):
            return self.estimator(value, where)
        raise ValueError(f"cannot save {where}: {type(value).__name__} is not plain data or an "
                         "sktags estimator; use pickle or joblib for this model.")

    def estimator(self, est, where):
        kind = type(est).__name__
        params = est.get_params(deep=False)
        if kind == "CNNTagger" and params["module"] is not None and not isinstance(
                params["module"], str) or not (isinstance(params.get("loss", ""), str)
                                             or type(params["loss"]) in LOSSES.values()):
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
            if key in params or key.startswith("__") or "_" not in (key[0], key[-1]):
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
    """Save a fitted tagger, or a Pipeline of sktags steps, without pickle.

    Parameters
    ----------
    path : str or path-like
        Output file; written atomically (a temporary file, then a rename).
    estimator : CNNTagger, EmbeddingTagger or Pipeline
        A fitted tagger (``module`` a built-in name, ``loss`` a name or an
        sktags loss), or a :class:`~sklearn.pipeline.Pipeline` of sktags
        estimators. ``callbacks`` are not saved (they only act in training).
    metadata : dict or None, default=None
        Plain data (str, numbers, bools, None, lists, dicts, numeric arrays)
        stored beside the model and returned by :func:`load_model`.

    Examples
    --------
    >>> import os, tempfile, numpy as np
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


#: Limits checked before reading (uncompressed sizes; the JSON's nesting depth).
MAX_MEMBER_BYTES = 512 * 2**20
MAX_TOTAL_BYTES = 1024 * 2**20
MAX_MANIFEST_BYTES = 16 * 2**20
MAX_MEMBERS = 10_000
MAX_DEPTH = 64


class _Reader(BoundedZip):
    def __init__(self, archive, path):
        super().__init__(archive, max_member=MAX_MEMBER_BYTES, max_total=MAX_TOTAL_BYTES,
                         max_members=MAX_MEMBERS)
        self.path, self.version = path, "?"

    def decode(self, value):
        if isinstance(value, list):
            return [self.decode(v) for v in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1 and isinstance(value.get("__tuple__"), list):
            return tuple(self.decode(v) for v in value["__tuple__"])
        if len(value) == 1 and isinstance(value.get("__dict__"), list):
            pairs = value["__dict__"]
            if not all(isinstance(p, list) and len(p) == 2 for p in pairs):
                raise DamagedArchive("a dict entry is not a list of [key, value] pairs")
            return {self.decode(k): self.decode(v) for k, v in pairs}
        if len(value) == 1 and "__ndarray__" in value:
            return self.array(value["__ndarray__"])
        if set(value) == {"__objects__", "shape"}:
            shape, items = value["shape"], self.decode(value["__objects__"])
            if not (isinstance(shape, list) and all(
                    type(n) is int and n >= 0 for n in shape) and isinstance(items, list)):
                raise DamagedArchive("an object array has no valid shape")
            flat = np.asarray(items, dtype=object).reshape(-1)
            if flat.size != int(np.prod(shape, dtype=object)):
                raise DamagedArchive(f"an object array of shape {shape} holds {flat.size} items")
            return flat.reshape(shape)
        if "__estimator__" in value:
            return self.estimator(value)
        losses = {cls.__name__: cls for cls in LOSSES.values()}
        if set(value) == {"__loss__", "params"} and value["__loss__"] in losses:
            loss = losses[value["__loss__"]](**self.decode(value["params"]))
            loss._validate_params()
            return loss
        raise DamagedArchive(f"unknown entry {sorted(map(str, value))[:5]}")

    def estimator(self, spec):
        kind = spec["__estimator__"]
        if not isinstance(kind, str) or kind not in _CLASSES:
            raise ValueError(f"{self.path} names the class {str(kind)[:80]!r}, which sktags "
                             "model files may not contain.")
        if not (isinstance(spec.get("params"), dict) and isinstance(spec.get("fitted"), dict)):
            raise DamagedArchive(f"the {kind} entry lacks its params or fitted attributes")
        cls = getattr(importlib.import_module(_CLASSES[kind]), kind)
        try:
            est = cls(**{k: self.decode(v) for k, v in spec["params"].items()})
        except TypeError as exc:  # a parameter this version of the class does not have
            raise ValueError(f"{self.path} holds a {kind} of sktags {self.version}, which sktags "
                             f"{__version__} cannot read ({one_line(exc)}); train it again."
                             ) from None
        est._validate_params()  # parameters of the wrong type are a damaged file
        for key, value in spec["fitted"].items():
            if not (isinstance(key, str) and key.isidentifier() and not key.startswith("__")
                    and (key.endswith("_") or key.startswith("_"))
                    and not hasattr(cls, key)):
                raise DamagedArchive(f"the {kind} entry holds the attribute {str(key)[:80]!r}, "
                               "which is not a fitted attribute")
            value = self.decode(value)
            wanted = _FITTED_TYPES.get(key, object)
            if not isinstance(value, wanted) or (wanted is int and isinstance(value, bool)):
                raise DamagedArchive(f"the {kind} attribute {key} is a {type(value).__name__}")
            setattr(est, key, value)
        if kind in _NEURAL:
            if not isinstance(spec.get("net"), dict):
                raise DamagedArchive(f"the {kind} entry lacks its network")
            self.rebuild_net(est, spec["net"])
        elif "net" in spec:
            raise DamagedArchive(f"the {kind} entry holds a network")
        return est

    def weights(self, name):
        try:
            state = torch.load(io.BytesIO(self.read(name)), map_location="cpu",
                               weights_only=True)
        except DamagedArchive:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever torch refuses, with its reason
            raise DamagedArchive(f"{name} is not a weights file that torch.load(weights_only=True) "
                                 f"accepts ({one_line(exc)})") from None
        if not (isinstance(state, dict) and all(
                isinstance(k, str) and torch.is_tensor(v) for k, v in state.items())):
            raise DamagedArchive(f"{name} does not hold a dict of named tensors")
        for key, tensor in state.items():
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                raise DamagedArchive(f"{name} holds non-finite weights (NaN or infinity in {key})")
        return state

    def rebuild_net(self, est, spec):
        from ._training import resolve_device

        state = self.weights(spec.get("weights"))
        if not (type(est.__dict__.get("n_labels_")) is int and 0 < est.n_labels_ <= 2**20):
            raise DamagedArchive(f"the {type(est).__name__}'s n_labels_ is not valid")
        _probe_input(est)
        try:
            device = resolve_device(est.device_)
        except (ValueError, TypeError, AttributeError):  # a device this machine lacks
            device = "cpu"
        module, kwargs = est._module_spec(est.n_labels_)
        with torch.device("meta"):  # the network's shapes, without allocating it
            probe = module(**kwargs).state_dict()
        expected = {k: tuple(v.shape) for k, v in probe.items()}
        got = {k: tuple(v.shape) for k, v in state.items()}
        if expected != got:
            diff = sorted(set(expected) ^ set(got)) or [
                k for k in expected if expected[k] != got[k]]
            raise DamagedArchive(f"{spec['weights']} does not fit the network its parameters "
                                 f"describe (first difference: {diff[0]})")
        net = est._make_net(est.n_labels_, device, est.seed_)
        with torch.random.fork_rng(devices=[]):  # initialisation draws random numbers
            net.initialize()
        net.module_.load_state_dict(state)
        history = self.decode(spec.get("history"))
        if not isinstance(history, list):
            raise DamagedArchive("the network's history is not a list")
        net.history_ = History(history)
        est.net_ = net
        est.device_ = device


def load_model(path):
    """Load a model written by :func:`save_model`; no code in the file runs.

    Read defensively: zip sizes before inflating (512 MiB a member, 1 GiB in
    all), each ``.npy`` header before its data, the JSON's depth (64 levels),
    the parameters against their constraints, and the weights' shapes against
    the network before it is built; non-finite weights make a damaged file.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    estimator : CNNTagger, EmbeddingTagger or Pipeline
        Predicts as the saved one did (on the CPU if its device is missing).
    metadata : dict or None
        The ``metadata`` given to :func:`save_model`.

    Raises
    ------
    ValueError
        One line naming the file and what is wrong: not an sktags model file
        (e.g. a pickle), damaged, hostile or over the limits above, or written
        in another format version (named). Its content is never executed.
    """
    path = os.fspath(path)
    try:
        return _load(path)
    except DamagedArchive as exc:
        raise ValueError(f"{path} is a damaged sktags model file: {exc}.") from None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError,
            MemoryError, OverflowError, RuntimeError) as exc:
        if isinstance(exc, ValueError) and str(exc).startswith(path):
            raise
        kind = "" if isinstance(exc, ValueError) else f"{type(exc).__name__} "
        raise ValueError(f"{path} is a damaged sktags model file: {kind}{one_line(exc)}") from None


def _load(path):
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is not an sktags model file (a zip with manifest.json); pickle and joblib "
            "files are refused because loading them can run code.")
    with open_zip(path) as archive:
        reader = _Reader(archive, path)
        if "manifest.json" not in reader.infos:
            raise ValueError(f"{path} is not an sktags model file (no manifest.json).")
        try:
            manifest = json.loads(reader.read("manifest.json", MAX_MANIFEST_BYTES))
        except (ValueError, UnicodeDecodeError) as exc:
            raise DamagedArchive(f"its manifest.json is not JSON ({one_line(exc)})") from None
        except RecursionError:
            raise DamagedArchive(f"its JSON is nested more than {MAX_DEPTH} levels deep") from None
        check_depth(manifest, MAX_DEPTH)
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError(f"{path} is not an sktags model file (unknown manifest).")
        _check_version(manifest, path)
        reader.version = manifest.get("sktags_version", "?")
        estimator = reader.decode(manifest.get("estimator"))
        if type(estimator).__name__ not in _CLASSES:
            raise DamagedArchive("its estimator entry is not an estimator")
        metadata = reader.decode(manifest.get("metadata"))
    _self_test(estimator)
    return estimator, metadata


def _self_test(estimator):
    """Predict one all-zero input: fitted attributes of the wrong type are a damaged file."""
    tagger = estimator.steps[-1][1] if hasattr(estimator, "steps") else estimator
    if not hasattr(tagger, "net_"):
        return
    try:
        with torch.random.fork_rng(devices=[]):
            proba = tagger.predict_proba(_probe_input(tagger))
        ok = bool(np.isfinite(np.asarray(proba, dtype=float)).all())
    except Exception as exc:  # noqa: BLE001 - any failure here means a damaged file
        raise DamagedArchive(f"the loaded tagger cannot predict ({one_line(exc)})") from None
    if not ok:
        raise DamagedArchive("the loaded tagger predicts non-finite probabilities")


def _probe_input(est):
    """One all-zero input of a loaded tagger's fitted shape, after checking that shape."""
    shape = est.__dict__.get("input_shape_", (est.__dict__.get("n_features_in_"),))
    if not (isinstance(shape, (list, tuple)) and 0 < len(shape) <= 3 and all(
            type(n) is int and 0 < n <= 2**20 for n in shape)):
        raise DamagedArchive(f"the {type(est).__name__}'s input shape is not valid")
    for name, frames in (("crop_frames", getattr(est, "crop_frames", None)),
                         ("input_shape_[-1]", shape[-1])):
        if isinstance(frames, int):  # windows are allocated from it when predicting
            check_window(frames, name=name)
    return np.zeros((1, *shape), np.float32)


def _check_version(manifest, path):
    version, by = manifest.get("format_version"), str(manifest.get("sktags_version"))[:40]
    if type(version) is not int:
        raise DamagedArchive(f"its format_version is {json.dumps(version)[:40]}, not an integer")
    if version != FORMAT_VERSION:
        advice = ("upgrade sktags to load it" if version > FORMAT_VERSION else
                  "load it with that sktags and retrain, or re-save it there")
        raise ValueError(f"{path} is in model-file format {version}, written by sktags {by}; this "
                         f"sktags reads format {FORMAT_VERSION} only: {advice}.")
