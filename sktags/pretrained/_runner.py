"""Patches of streamed spectrograms through a network, batched across clips.

:class:`PatchRunner` is the sink the front end streams into: each clip's
spectrogram is cut into non-overlapping 187-frame patches, patches of
consecutive clips fill batches of ``batch_size``, and when a clip's last
patch has been through the network its per-patch outputs are pooled. Only
the current batch and the outputs are held in memory.
"""

import numpy as np
import torch

from ._frontend import PATCH_FRAMES

POOLINGS = ("mean", "max", "mean+max")


def resolve_device(device):
    """A torch device from "auto" (CUDA, then MPS, then the CPU) or a name."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        resolved = torch.device(device)
        torch.empty(0, device=resolved)
    except (RuntimeError, AssertionError) as exc:
        raise ValueError(f"device={device!r} is not available here: "
                         f"{' '.join(str(exc).split())}") from None
    return resolved


def patches_of(feature):
    """Non-overlapping (n, 96, 187) patches of a (96, n_frames) spectrogram.

    The partial tail is dropped; a spectrogram shorter than one patch gives
    one patch, zero-padded at the end (silence after the log).
    """
    n_mels, n_frames = feature.shape
    n = n_frames // PATCH_FRAMES
    if n == 0:
        out = np.zeros((1, n_mels, PATCH_FRAMES), np.float32)
        out[0, :, :n_frames] = feature
        return out
    return np.ascontiguousarray(
        feature[:, : n * PATCH_FRAMES].reshape(n_mels, n, PATCH_FRAMES).transpose(1, 0, 2))


def pool(outputs, pooling):
    """Pool (n_patches, d) outputs over patches; None returns them as they are."""
    if pooling is None:
        return outputs
    if pooling == "mean":
        return outputs.mean(axis=0)
    if pooling == "max":
        return outputs.max(axis=0)
    return np.concatenate([outputs.mean(axis=0), outputs.max(axis=0)])


class PatchRunner:
    """Sink of the front end's stream: ``runner(i, feature)`` in input order.

    Parameters
    ----------
    net : MusicnnNet
        In eval mode, on ``device``.
    layer : {"penultimate", "pooled", "taggram"}
    pooling : {"mean", "max", "mean+max"} or None
    n_clips, dim : int
        Number of clips and size of one patch's output.
    batch_size : int
    device : torch.device
    """

    def __init__(self, net, *, layer, pooling, n_clips, dim, batch_size, device):
        self.net, self.layer, self.pooling = net, layer, pooling
        self.batch_size, self.device, self.dim = batch_size, device, dim
        self.out_dim = 2 * dim if pooling == "mean+max" else dim
        if pooling is None:
            self.features = np.empty(n_clips, dtype=object)
        else:
            self.features = np.zeros((n_clips, self.out_dim), dtype=np.float32)
        self.short = []  # (position, n_frames) of clips under one patch
        self._pending = []  # (position, patches) not yet through the network
        self._n_pending = 0
        self._done = {}  # position -> list of per-patch output blocks
        self._left = {}  # position -> patches still to compute

    def __call__(self, i, feature):
        if feature is None:  # a failed file under on_error="zeros"
            self._finish(i, np.zeros((0, self.dim), np.float32))
            return
        if feature.shape[1] < PATCH_FRAMES:
            self.short.append((i, feature.shape[1]))
        patches = patches_of(feature)
        self._left[i] = len(patches)
        self._done[i] = []
        self._pending.append((i, patches))
        self._n_pending += len(patches)
        while self._n_pending >= self.batch_size:
            self._run(self.batch_size)

    def close(self):
        """Run the patches left over (call once, after the last clip)."""
        while self._n_pending:
            self._run(self._n_pending)

    def _run(self, n):
        owners, parts, taken = [], [], 0
        while taken < n:
            i, patches = self._pending[0]
            k = min(n - taken, len(patches))
            parts.append(patches[:k])
            owners.append((i, k))
            taken += k
            if k == len(patches):
                self._pending.pop(0)
            else:
                self._pending[0] = (i, patches[k:])
        self._n_pending -= n
        x = torch.from_numpy(np.concatenate(parts))[:, None].to(self.device)
        with torch.inference_mode():
            out = self.net.forward_all(x)
            y = torch.sigmoid(out["logits"]) if self.layer == "taggram" else out[self.layer]
        y = y.float().cpu().numpy()
        start = 0
        for i, k in owners:
            self._done[i].append(y[start : start + k])
            start += k
            self._left[i] -= k
            if self._left[i] == 0:
                del self._left[i]
                self._finish(i, np.concatenate(self._done.pop(i)))

    def _finish(self, i, outputs):
        if self.pooling is None:
            self.features[i] = np.ascontiguousarray(outputs, dtype=np.float32)
        elif len(outputs):
            self.features[i] = pool(outputs, self.pooling)
