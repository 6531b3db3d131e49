"""musicnn (Pons and Serra, 2019) in PyTorch, with its released weights.

The network of musicnn's ``models.py`` (``build_musicnn`` with 64 mid-end
filters and 200 back-end units), op for op, on sktags' (batch, 1, n_mels,
n_frames) layout:

* front end: batch norm of the input; timbral convolutions 7 frames x 38
  and x 67 mel bands (204 filters each, the input padded by 3 frames on
  each side, valid over frequency) and temporal convolutions 128, 64 and
  32 frames x 1 band (51 each, TensorFlow's 'same' padding: ``(k - 1) // 2``
  frames before, the rest after), each ReLU, batch norm, then max over
  frequency (561 channels);
* mid end: three 1-D convolutions of 7 frames (64 filters, padded by 3),
  each ReLU then batch norm, the second and third added to their input;
  their dense connection concatenates front end, first, second and third
  outputs (753 channels);
* back end: max and mean over time, interleaved per channel as TensorFlow's
  flatten lays them out (1,506), batch norm, dropout, a 200-unit dense layer
  with ReLU, batch norm (the "penultimate" features), dropout and 50 logits.

Batch norms use TensorFlow's ``eps=1e-3`` (momentum 0.99, torch's 0.01).
"""

import torch
import torch.nn.functional as F
from torch import nn

_TEMPORAL = (128, 64, 32)


def _bn2d(n):
    return nn.BatchNorm2d(n, eps=1e-3, momentum=0.01)


def _bn1d(n):
    return nn.BatchNorm1d(n, eps=1e-3, momentum=0.01)


class MusicnnNet(nn.Module):
    """The musicnn network (``MSD_musicnn`` / ``MTT_musicnn`` architecture).

    Parameters
    ----------
    n_labels : int, default=50
        Number of output logits.
    dropout : float, default=0.5
        Dropout before the dense layers in training (musicnn's); none at
        inference.

    Attributes
    ----------
    frontend : torch.nn.ModuleDict
        Input batch norm, timbral and temporal convolutions and their batch
        norms (the part ``freeze="frontend"`` of :func:`~sktags.pretrained.musicnn_module` fixes).
    n_embedding : int
        200, the size of :meth:`embed` (the penultimate layer).

    Examples
    --------
    >>> import torch
    >>> from sktags.pretrained import MusicnnNet
    >>> net = MusicnnNet().eval()
    >>> out = net.forward_all(torch.zeros(2, 1, 96, 187))
    >>> [tuple(out[k].shape) for k in ("pooled", "penultimate", "logits")]
    [(2, 1506), (2, 200), (2, 50)]
    """

    def __init__(self, n_labels=50, *, dropout=0.5):
        super().__init__()
        self.frontend = nn.ModuleDict({
            "input_bn": _bn2d(1),
            "timbral_38": nn.Conv2d(1, 204, kernel_size=(38, 7)),
            "timbral_38_bn": _bn2d(204),
            "timbral_67": nn.Conv2d(1, 204, kernel_size=(67, 7)),
            "timbral_67_bn": _bn2d(204),
        })
        for k in _TEMPORAL:
            self.frontend[f"temporal_{k}"] = nn.Conv2d(1, 51, kernel_size=(1, k))
            self.frontend[f"temporal_{k}_bn"] = _bn2d(51)
        self.midend = nn.ModuleList([nn.Conv1d(561, 64, 7), nn.Conv1d(64, 64, 7),
                                     nn.Conv1d(64, 64, 7)])
        self.midend_bn = nn.ModuleList([_bn1d(64) for _ in range(3)])
        self.pool_bn = _bn1d(1506)
        self.dense = nn.Linear(1506, 200)
        self.dense_bn = _bn1d(200)
        self.dropout = nn.Dropout(float(dropout))
        self.head = nn.Linear(200, int(n_labels))
        self.n_embedding = 200

    def _branch(self, name, x):
        """conv, ReLU, batch norm, max over frequency: (batch, channels, n_frames)."""
        conv, bn = self.frontend[name], self.frontend[f"{name}_bn"]
        z = conv(x)
        if bn.training:
            return bn(F.relu(z)).amax(dim=2)
        # Inference: the batch norm is an affine map a * x + b per channel and
        # ReLU is monotone, so the max over frequency of bn(relu(z)) is
        # a * relu(max z) + b where a >= 0, a * relu(min z) + b where a < 0:
        # the elementwise work runs on the pooled (batch, channels, n_frames).
        a = bn.weight / torch.sqrt(bn.running_var + bn.eps)
        b = bn.bias - a * bn.running_mean
        hi, lo = z.amax(dim=2), z.amin(dim=2)
        picked = torch.where((a >= 0)[:, None], hi, lo)
        return F.relu(picked) * a[:, None] + b[:, None]

    def _front(self, x):
        x = self.frontend["input_bn"](x)
        outs = []
        padded = F.pad(x, (3, 3))
        for k in (38, 67):
            outs.append(self._branch(f"timbral_{k}", padded))
        for k in _TEMPORAL:
            outs.append(self._branch(f"temporal_{k}", F.pad(x, ((k - 1) // 2, k // 2))))
        return torch.cat(outs, dim=1)  # (batch, 561, n_frames)

    def _mid(self, front):
        feats = [front]
        z = front
        for i, (conv, bn) in enumerate(zip(self.midend, self.midend_bn)):
            out = bn(F.relu(conv(F.pad(z, (3, 3)))))
            z = out if i == 0 else out + z
            feats.append(z)
        return torch.cat(feats, dim=1)  # (batch, 753, n_frames)

    def forward_all(self, x):
        """Every output: "mean_pool", "max_pool" (753 each), "pooled" (1506), "penultimate", "logits".

        ``pooled`` is ``[mean_pool, max_pool]`` concatenated (before the
        back end's batch norm); ``penultimate`` the 200 features after the
        dense layer's ReLU and batch norm.
        """
        if x.dim() == 3:
            x = x.unsqueeze(1)
        mid = self._mid(self._front(x))
        max_pool, mean_pool = mid.amax(dim=2), mid.mean(dim=2)
        flat = torch.stack([max_pool, mean_pool], dim=2).flatten(1)  # TF's interleaved order
        hidden = F.relu(self.dense(self.dropout(self.pool_bn(flat))))
        penultimate = self.dense_bn(hidden)
        logits = self.head(self.dropout(penultimate))
        return {"mean_pool": mean_pool, "max_pool": max_pool,
                "pooled": torch.cat([mean_pool, max_pool], dim=1),
                "penultimate": penultimate, "logits": logits}

    def embed(self, x):
        """Penultimate features of shape (batch, 200)."""
        return self.forward_all(x)["penultimate"]

    def forward(self, x):
        """Logits of shape (batch, n_labels) for x of shape (batch, 1, 96, n_frames)."""
        return self.forward_all(x)["logits"]

    # ---------------------------------------------------------------- weights
    def load_released(self, model, *, head=True):
        """Copy musicnn's released weights of ``model`` ("msd" or "mtt") into the network.

        ``head=False`` leaves the output layer as it is (for new tags).
        Returns ``self``.
        """
        from ._weights import load_weights

        if self.dense.weight.is_meta:  # shapes only (a model file's check): nothing to copy
            return self
        state = _state_from_tf(load_weights(model), head=head)
        missing, unexpected = self.load_state_dict(state, strict=False)
        allowed = {"head.weight", "head.bias"} if not head else set()
        bad = [k for k in missing if k not in allowed and not k.endswith("num_batches_tracked")]
        if bad or unexpected:
            raise ValueError(f"musicnn weights do not fit MusicnnNet: missing {bad}, "
                             f"unexpected {unexpected}.")
        return self


def _t(array):
    return torch.from_numpy(array.copy())


def _state_from_tf(tf, *, head=True):
    """A MusicnnNet state dict from musicnn's TensorFlow variables (layouts converted)."""
    state = {}

    def bn(prefix, index):
        name = "batch_normalization" + ("" if index == 0 else f"_{index}")
        state[f"{prefix}.weight"] = _t(tf[f"{name}/gamma"])
        state[f"{prefix}.bias"] = _t(tf[f"{name}/beta"])
        state[f"{prefix}.running_mean"] = _t(tf[f"{name}/moving_mean"])
        state[f"{prefix}.running_var"] = _t(tf[f"{name}/moving_variance"])

    def conv(prefix, index, one_d=False):
        name = "conv2d" + ("" if index == 0 else f"_{index}")
        kernel = tf[f"{name}/kernel"]  # (time, freq, in, out)
        if one_d:  # the 2-D kernel spans all features: (out, features, time)
            weight = kernel[:, :, 0, :].transpose(2, 1, 0)
        else:  # (out, in, freq, time)
            weight = kernel.transpose(3, 2, 1, 0)
        state[f"{prefix}.weight"] = _t(weight)
        state[f"{prefix}.bias"] = _t(tf[f"{name}/bias"])

    # creation order in models.py: input bn, then conv + bn per branch, ...
    bn("frontend.input_bn", 0)
    branches = ["timbral_38", "timbral_67"] + [f"temporal_{k}" for k in _TEMPORAL]
    for i, branch in enumerate(branches):
        conv(f"frontend.{branch}", i)
        bn(f"frontend.{branch}_bn", i + 1)
    for j in range(3):
        conv(f"midend.{j}", 5 + j, one_d=True)
        bn(f"midend_bn.{j}", 6 + j)
    bn("pool_bn", 9)
    state["dense.weight"] = _t(tf["dense/kernel"].T)
    state["dense.bias"] = _t(tf["dense/bias"])
    bn("dense_bn", 10)
    if head:
        state["head.weight"] = _t(tf["dense_1/kernel"].T)
        state["head.bias"] = _t(tf["dense_1/bias"])
    return state
