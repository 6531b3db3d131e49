"""The shipped musicnn weights: file paths, provenance record and loading.

The weights are safetensors files (no pickle) converted once from the
``musicnn`` 0.1.0 wheel by ``tools/convert_musicnn.py``; ``provenance.json``
records the wheel's SHA-256 and each tensor's shape and SHA-256.
"""

import functools
import hashlib
import json
from importlib import resources

import numpy as np

#: Model names of the ``model`` parameters, and the checkpoints they come from.
MODELS = {"msd": "MSD_musicnn", "mtt": "MTT_musicnn"}


def _weights_dir():
    return resources.files("sktags.pretrained") / "weights"


@functools.lru_cache(maxsize=None)
def provenance():
    """The provenance record (a dict) of the shipped weights.

    Examples
    --------
    >>> from sktags.pretrained._weights import provenance
    >>> record = provenance()
    >>> record["source"]["sha256"][:12], record["models"]["msd"]["tags"][:3]
    ('f38a4890c648', ['rock', 'pop', 'alternative'])
    """
    return json.loads((_weights_dir() / "provenance.json").read_text())


def check_model(model):
    """``model`` as a key of :data:`MODELS`, or a one-line ValueError."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {sorted(MODELS)}, got {model!r}.")
    return model


def tag_names(model):
    """The 50 tag names of ``model`` ("msd" or "mtt"), in output order."""
    return list(provenance()["models"][check_model(model)]["tags"])


def weights_record(model):
    """What identifies the weights of ``model``: its checkpoint name and SHA-256.

    Model files of a pipeline with a musicnn backbone record it, and
    ``sktags tag --pretrained`` records it beside its outputs.

    Returns
    -------
    record : dict
        ``backbone`` (e.g. ``"MSD_musicnn"``) and ``weights_sha256`` (of
        the installed safetensors file, computed once).

    Examples
    --------
    >>> from sktags.pretrained import weights_record
    >>> record = weights_record("msd")
    >>> record["backbone"], record["weights_sha256"][:12]
    ('MSD_musicnn', '4cff6a3e4cd9')
    """
    return {"backbone": MODELS[check_model(model)], "weights_sha256": _file_sha256(model)}


@functools.lru_cache(maxsize=None)
def _file_sha256(model):
    return hashlib.sha256(weights_path(model).read_bytes()).hexdigest()


def weights_path(model):
    """Path of the safetensors file of ``model``."""
    return _weights_dir() / provenance()["models"][check_model(model)]["file"]


@functools.lru_cache(maxsize=4)
def _load(model):
    from safetensors.numpy import load_file

    tensors = load_file(str(weights_path(model)))
    expected = provenance()["models"][model]["tensors"]
    if sorted(tensors) != sorted(expected):
        raise ValueError(f"{weights_path(model)}: tensor names differ from provenance.json.")
    for name, array in tensors.items():
        record = expected[name]
        if list(array.shape) != record["shape"] or array.dtype != np.float32:
            raise ValueError(f"{weights_path(model)}: tensor {name!r} has shape "
                             f"{array.shape} {array.dtype}, expected {record['shape']} float32.")
    return tensors


def load_weights(model, *, verify=False):
    """The TensorFlow-named float32 arrays of ``model`` (read once, then cached).

    Parameters
    ----------
    model : {"msd", "mtt"}
    verify : bool, default=False
        Also check every tensor's SHA-256 against ``provenance.json``
        (a ValueError names the first that differs).

    Returns
    -------
    tensors : dict of str to ndarray
        Read-only arrays; copy before modifying.
    """
    tensors = _load(check_model(model))
    if verify:
        expected = provenance()["models"][model]["tensors"]
        for name, array in tensors.items():
            digest = hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()
            if digest != expected[name]["sha256"]:
                raise ValueError(f"{weights_path(model)}: tensor {name!r} does not match "
                                 f"its recorded SHA-256.")
    return tensors
