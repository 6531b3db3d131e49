"""Checkpoints of the neural taggers: fingerprint, locked run folder, load / restore / save.

A training with ``checkpoint_dir`` owns the folder
``checkpoint_dir/<tagger>-<fingerprint>/`` (``cnntagger-...``) while it runs: the folder is
locked (a ``filelock`` lock file, ``.lock``), and a second training of the same
model and data refuses at once with a one-line error instead of deleting the
first one's files. The fingerprint hashes the training parameters and *all*
of the data (SHA-256, hardware-accelerated on current CPUs), streamed in
chunks of 64 MiB so that memory stays bounded on a memmap.
"""

import hashlib
import json
import os

import numpy as np
import torch
from filelock import FileLock, Timeout
from skorch.history import History

from ..utils import atomic_path
from ._inputs import release_pages

__all__ = ["Checkpoint", "describe", "fingerprint"]

CHECKPOINT_NAME = "checkpoint.pt"
LOCK_NAME = ".lock"
_CHUNK_BYTES = 64 * 2**20

# Parameters that do not change what a training computes; a checkpoint written
# under other values of these is resumed.
NOT_FINGERPRINTED = frozenset({
    "max_epochs", "patience", "verbose", "checkpoint_dir", "num_workers", "device",
    "threshold", "channels_last", "callbacks",
})


def describe(value):
    """A stable text description of a parameter value, for fingerprints."""
    if hasattr(value, "get_params") and not isinstance(value, type):
        params = value.get_params(deep=False)
        inner = ",".join(f"{k}={describe(v)}" for k, v in sorted(params.items()))
        return f"{type(value).__module__}.{type(value).__qualname__}({inner})"
    if isinstance(value, np.random.RandomState):
        return "RandomState"
    if isinstance(value, np.ndarray):
        return f"ndarray{value.shape}{value.dtype}:" + hashlib.sha256(
            np.ascontiguousarray(value).tobytes()).hexdigest()
    if isinstance(value, (list, tuple)):
        return "(" + ",".join(describe(v) for v in value) + ")"
    if isinstance(value, dict):
        return "{" + ",".join(f"{k!r}:{describe(v)}" for k, v in sorted(value.items())) + "}"
    if callable(value):
        func = getattr(value, "func", None)  # functools.partial
        if func is not None:
            return (f"partial({describe(func)},{describe(list(value.args))},"
                    f"{describe(dict(value.keywords))})")
        return f"{getattr(value, '__module__', '?')}.{getattr(value, '__qualname__', repr(value))}"
    return repr(value)


def hash_array(h, X, *, chunk_bytes=_CHUNK_BYTES):
    """Feed the shape, dtype and every byte of X to the hash ``h``, chunk by chunk.

    X may be an ndarray (a memmap is read ``chunk_bytes`` at a time and its
    pages released after each chunk), an object array or list of arrays
    (variable-length spectrograms), or a sequence with ``frames`` and
    ``offsets`` arrays (the ragged on-disk layout).
    """
    frames = getattr(X, "frames", None)
    if frames is not None and getattr(X, "offsets", None) is not None:
        h.update(b"ragged;")
        hash_array(h, np.asarray(X.offsets), chunk_bytes=chunk_bytes)
        hash_array(h, frames, chunk_bytes=chunk_bytes)
        return
    if isinstance(X, np.ndarray) and X.dtype != object:
        h.update(f"{X.shape}{X.dtype.str};".encode())
        if X.ndim == 0 or X.size == 0:
            h.update(np.ascontiguousarray(X).tobytes())
            return
        row_bytes = max(1, X.itemsize * int(np.prod(X.shape[1:])))
        step = max(1, chunk_bytes // row_bytes)
        for start in range(0, X.shape[0], step):
            h.update(np.ascontiguousarray(X[start:start + step]))
            release_pages(X)
        return
    h.update(f"seq{len(X)};".encode())
    for item in X:
        hash_array(h, np.asarray(item), chunk_bytes=chunk_bytes)


def fingerprint(params, inputs, Y, counts=None, groups=None):
    """Hex digest of the training parameters and of all the data (``inputs``: a ModelInput)."""
    h = hashlib.sha256()
    for key in sorted(set(params) - NOT_FINGERPRINTED):
        h.update(f"{key}={describe(params[key])};".encode())
    if params.get("optimizer") == "adamw":  # the one-cycle schedule spans max_epochs
        h.update(f"max_epochs={params['max_epochs']};".encode())
    hash_array(h, inputs.data)
    hash_array(h, np.ascontiguousarray(Y))
    if counts is not None:
        h.update(b"counts")
        hash_array(h, np.ascontiguousarray(counts))
    if groups is not None:
        h.update(b"groups")
        if groups.dtype.kind in "biuf":
            hash_array(h, np.ascontiguousarray(groups))
        else:
            h.update(repr(groups.tolist()).encode())
    return h.hexdigest()


def _state_to_cpu(state_dict):
    return {k: v.detach().to("cpu", copy=True) for k, v in state_dict.items()}


def _history_json(history):
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        raise TypeError(f"cannot serialise {type(o)}")

    return json.dumps(list(history), default=default)


class Checkpoint:
    """The locked run folder of one training, and its checkpoint file.

    Use as a context manager: entering locks the folder (or raises a
    RuntimeError naming it when another training holds it), removes
    temporary files left by a killed save, writes ``config.json`` and reads an
    existing checkpoint into :attr:`state`; leaving releases the lock.

    Parameters
    ----------
    checkpoint_dir : str or path
    digest : str
        The fingerprint of the training (:func:`fingerprint`).
    config : str
        JSON text describing the parameters, written once as ``config.json``.

    name : str, default="CNNTagger"
        The tagger's class name; the run folder is ``<name lowercased>-<fingerprint>``.
    """

    def __init__(self, checkpoint_dir, digest, config="", name="CNNTagger"):
        self.digest = digest
        self.config = config
        self.name = name
        self.run_dir = os.path.join(os.fspath(checkpoint_dir), f"{name.lower()}-{digest[:20]}")
        self.path = os.path.join(self.run_dir, CHECKPOINT_NAME)
        self.state = None
        self._lock = None

    def __enter__(self):
        os.makedirs(self.run_dir, exist_ok=True)
        lock = FileLock(os.path.join(self.run_dir, LOCK_NAME), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            raise RuntimeError(
                f"another training is using the checkpoint folder {self.run_dir} (it is "
                "locked); wait for it to finish, or give this one another checkpoint_dir."
            ) from None
        self._lock = lock
        try:
            for name in os.listdir(self.run_dir):  # left by a process killed while saving
                if name.startswith(".") and name.endswith(".tmp"):
                    os.unlink(os.path.join(self.run_dir, name))
            config = os.path.join(self.run_dir, "config.json")
            if not os.path.exists(config):
                with atomic_path(config, prefix=".config-", suffix=".tmp") as tmp:
                    with open(tmp, "w") as f:
                        f.write(self.config)
            self.state = self.load()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc_info):
        self.close()

    def close(self):
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    def load(self):
        """The saved training state (a dict), or None when there is none yet."""
        if not os.path.exists(self.path):
            return None
        try:
            state = torch.load(self.path, map_location="cpu", weights_only=True)
            state["history"] = json.loads(state["history"])
        except Exception:
            # torch's own message advises weights_only=False, which would run
            # the file's code: never pass that advice on.
            raise ValueError(
                f"{self.path} is not a readable {self.name} checkpoint (damaged, or not written "
                f"by sktags); delete the folder {self.run_dir} to start this training over."
            ) from None
        if state.get("fingerprint") != self.digest:
            raise ValueError(f"{self.path} belongs to another training (fingerprint mismatch); "
                             f"delete the folder {self.run_dir} or use another checkpoint_dir.")
        return state

    @property
    def seed(self):
        return None if self.state is None else int(self.state["seed"])

    def restore(self, net):
        """Load the saved state into an initialised net; return the best weights."""
        state = self.state
        net.module_.load_state_dict(state["module"])
        net.optimizer_.load_state_dict(state["optimizer"])
        net.history_ = History(state["history"])
        if isinstance(net.criterion_, torch.nn.Module) and state.get("loss"):
            net.criterion_.load_state_dict(state["loss"])  # an epoch-dependent loss
        scaler = getattr(net, "grad_scaler_", None)
        if state.get("grad_scaler") and scaler is not None and scaler.is_enabled():
            scaler.load_state_dict(state["grad_scaler"])  # precision="float16"
        torch.set_rng_state(state["torch_rng"])
        if str(net.device).startswith("cuda") and state.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(state["cuda_rng"], torch.device(net.device))
        return state["best_module"]

    def save(self, net, best_state, seed):
        """Write the training state atomically (temporary file + os.replace)."""
        state = {
            "format": 1,
            "fingerprint": self.digest,
            "seed": int(seed),
            "module": _state_to_cpu(net.module_.state_dict()),
            "optimizer": net.optimizer_.state_dict(),  # serialised at once: no copy needed
            "best_module": best_state,
            "loss": (_state_to_cpu(net.criterion_.state_dict())
                     if isinstance(net.criterion_, torch.nn.Module) else None),
            "history": _history_json(net.history),
            "grad_scaler": (net.grad_scaler_.state_dict()
                            if getattr(net, "grad_scaler_", None) is not None
                            and net.grad_scaler_.is_enabled() else None),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": (torch.cuda.get_rng_state(torch.device(net.device))
                         if str(net.device).startswith("cuda") else None),
        }
        with atomic_path(self.path, prefix=".checkpoint-", suffix=".tmp") as tmp:
            with open(tmp, "wb") as f:
                torch.save(state, f)
                f.flush()
                os.fsync(f.fileno())
