"""The taggers' torch networks: the paper's C4 (Ibrahim et al. 2020, 4.1), a short-chunk CNN,
and the linear or MLP head of the embedding tagger. All return logits."""

import torch
from torch import nn

__all__ = ["EmbeddingHead", "Ibrahim2020CNN", "ShortChunkCNN", "conv_output_shape"]


def conv_output_shape(n_mels, n_frames, n_blocks=4):
    """Spatial size after ``n_blocks`` of 'same' convolution and 2x2 pooling.

    Pooling uses TensorFlow's ``'same'`` rule, as in the authors' code: an odd
    size is rounded up (``ceil(size / 2)``), so 646 frames give
    323, 162, 81 and then 41, and 96 mel bands give 48, 24, 12 and 6.

    Parameters
    ----------
    n_mels, n_frames : int
        Input height (mel bands) and width (frames).
    n_blocks : int, default=4
        Number of conv + pool blocks.

    Returns
    -------
    shape : tuple of (int, int)

    Examples
    --------
    >>> from sktags.models import conv_output_shape
    >>> conv_output_shape(96, 646)
    (6, 41)
    """
    h, w = int(n_mels), int(n_frames)
    for _ in range(n_blocks):
        h, w = -(-h // 2), -(-w // 2)
    return h, w


def _conv_blocks(name, widths, *, batch_norm):
    """The conv blocks of both CNNs, as (``nn.Sequential``, the widths as a tuple of ints).

    One block per width: a 3x3 convolution with 'same' padding (without bias
    when ``batch_norm``), batch normalisation when ``batch_norm``, ReLU, and
    2x2 max pooling that rounds odd sizes up. ``name`` is the parameter named
    when the widths are not a non-empty sequence of positive ints.
    """
    widths = tuple(int(w) for w in widths)
    if not widths or min(widths) < 1:
        raise ValueError(f"{name} must be a non-empty sequence of positive ints, got {widths!r}.")
    layers, in_ch = [], 1
    for out_ch in widths:
        layers.append(nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_ch))
        layers += [nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True)]
        in_ch = out_ch
    return nn.Sequential(*layers), widths


class Ibrahim2020CNN(nn.Module):
    """Input batch normalisation, conv blocks, and a two-layer dense head.

    The architecture of the paper: ``BatchNorm2d(1)``, then for each entry of
    ``filters`` a block [3x3 convolution with 'same' padding, ReLU, 2x2 max
    pooling with 'same' (ceil) padding], then flatten, a dense layer of
    ``hidden_units`` with ReLU, dropout, and a dense layer with one logit per
    label. The flatten size is computed from ``n_mels`` and ``n_frames``, so any
    input size works (96 x 646 gives 6 x 41 x 256 = 62,976 features and about
    16.5 M parameters).

    The network returns **logits**; apply a sigmoid for probabilities.

    Parameters
    ----------
    n_mels : int
        Number of mel bands (input height).
    n_frames : int
        Number of frames (input width).
    n_labels : int
        Number of output logits (tags).
    filters : sequence of int, default=(32, 64, 128, 256)
        Number of filters of each conv block.
    hidden_units : int, default=256
        Width of the hidden dense layer.
    dropout : float, default=0.3
        Drop probability after the hidden dense layer (the paper's 0.3; the
        authors' code dropped 70%).

    Examples
    --------
    >>> import torch
    >>> from sktags.models import Ibrahim2020CNN
    >>> net = Ibrahim2020CNN(n_mels=16, n_frames=20, n_labels=3, filters=(4, 4, 4, 4),
    ...                      hidden_units=8)
    >>> net(torch.zeros(2, 1, 16, 20)).shape
    torch.Size([2, 3])
    """

    def __init__(self, n_mels, n_frames, n_labels, *, filters=(32, 64, 128, 256),
                 hidden_units=256, dropout=0.3):
        super().__init__()
        self.features, filters = _conv_blocks("filters", filters, batch_norm=False)
        self.input_shape = (1, int(n_mels), int(n_frames))
        self.input_norm = nn.BatchNorm2d(1)
        h, w = conv_output_shape(n_mels, n_frames, len(filters))
        self.n_flat = filters[-1] * h * w
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(self.n_flat, int(hidden_units)),
            nn.ReLU(inplace=True),
            nn.Dropout(float(dropout)),
            nn.Linear(int(hidden_units), int(n_labels)),
        )

    def forward(self, x):
        """Logits of shape (batch, n_labels) for x of shape (batch, 1, n_mels, n_frames)."""
        if x.dim() == 3:
            x = x.unsqueeze(1)
        return self.classifier(self.features(self.input_norm(x)))


class ShortChunkCNN(nn.Module):
    """A short-chunk CNN for crops of a few seconds (after Won et al., ISMIR 2020).

    ``BatchNorm2d(1)`` on the input, then for each entry of ``channels`` a
    block [3x3 convolution with 'same' padding, batch normalisation, ReLU,
    2x2 max pooling (ceil)], then global max pooling over frequency and
    average pooling over time, dropout, and one linear layer with a logit per
    label. The pooled features (the input of the last linear layer, of size
    ``channels[-1]``) are the embedding of :meth:`CNNTagger.transform
    <sktags.CNNTagger.transform>`.

    Global pooling makes the network independent of the input length: it
    accepts any number of frames; crops of at least 16 frames are
    recommended (the ceil pooling keeps at least one time step, but shorter
    inputs leave little to average). The defaults are sized for CPU
    training. Like the others, the network returns **logits**.

    Parameters
    ----------
    n_mels : int
        Number of mel bands (input height).
    n_frames : int
        Number of frames of the training crops (kept for reference; any
        width works).
    n_labels : int
        Number of output logits (tags).
    channels : sequence of int, default=(8, 16, 32, 64, 128)
        Output channels of each conv block. The default (0.1 M parameters,
        a 128-dimensional embedding) keeps each block's cost about equal and
        trains 251 clips x 60 epochs of 128-frame crops in a few minutes on
        two CPU cores; the wider (32, 32, 64, 64, 128) was measured 7x
        slower on the CPU.
    dropout : float, default=0.5
        Drop probability before the linear layer.

    Examples
    --------
    >>> import torch
    >>> from sktags.models import ShortChunkCNN
    >>> net = ShortChunkCNN(n_mels=16, n_frames=32, n_labels=3, channels=(4, 8))
    >>> net(torch.zeros(2, 1, 16, 32)).shape
    torch.Size([2, 3])
    >>> net(torch.zeros(2, 1, 16, 50)).shape  # any length
    torch.Size([2, 3])
    """

    def __init__(self, n_mels, n_frames, n_labels, *, channels=(8, 16, 32, 64, 128),
                 dropout=0.5):
        super().__init__()
        self.features, channels = _conv_blocks("channels", channels, batch_norm=True)
        self.input_shape = (1, int(n_mels), int(n_frames))
        self.input_norm = nn.BatchNorm2d(1)
        self.n_embedding = channels[-1]
        self.dropout = nn.Dropout(float(dropout))
        self.head = nn.Linear(channels[-1], int(n_labels))

    def embed(self, x):
        """Pooled features of shape (batch, channels[-1]): max over frequency, mean over time."""
        if x.dim() == 3:
            x = x.unsqueeze(1)
        z = self.features(self.input_norm(x))
        return z.amax(dim=2).mean(dim=2)

    def forward(self, x):
        """Logits of shape (batch, n_labels) for x of shape (batch, 1, n_mels, n_frames)."""
        return self.head(self.dropout(self.embed(x)))


class EmbeddingHead(nn.Module):
    """Standardisation, then a linear layer or an MLP: fixed-length vectors to logits.

    ``(x - mean) / scale``, then for each entry of ``hidden_units`` a block
    [linear, ReLU, dropout], then a linear layer with one logit per label.
    ``mean`` and ``scale`` are buffers (saved with the weights).

    Parameters
    ----------
    n_features : int
        Length of the input vectors.
    n_labels : int
        Number of output logits (tags).
    hidden_units : tuple of int, default=()
        Widths of the hidden layers; () is a linear model.
    dropout : float, default=0.0
        Drop probability after each hidden layer.
    mean, scale : array-like of shape (n_features,) or None, default=None
        Standardisation of the inputs; None is 0 and 1.

    Examples
    --------
    >>> import torch
    >>> from sktags.models._networks import EmbeddingHead
    >>> head = EmbeddingHead(n_features=5, n_labels=3, hidden_units=(8,))
    >>> head(torch.zeros(2, 5)).shape
    torch.Size([2, 3])
    """

    def __init__(self, n_features, n_labels, *, hidden_units=(), dropout=0.0, mean=None,
                 scale=None):
        super().__init__()
        n = int(n_features)
        self.register_buffer("mean", torch.zeros(n) if mean is None
                             else torch.as_tensor(mean, dtype=torch.float32).reshape(n))
        self.register_buffer("scale", torch.ones(n) if scale is None
                             else torch.as_tensor(scale, dtype=torch.float32).reshape(n))
        layers, width = [], n
        for units in hidden_units:
            layers += [nn.Linear(width, int(units)), nn.ReLU(), nn.Dropout(float(dropout))]
            width = int(units)
        layers.append(nn.Linear(width, int(n_labels)))
        self.layers = nn.Sequential(*layers)

    def forward(self, x):
        """Logits of shape (batch, n_labels) for x of shape (batch, n_features)."""
        return self.layers((x - self.mean) / self.scale)


def musicnn_network(n_mels, n_frames, n_labels):
    """CNNTagger's ``module="musicnn"``: musicnn's MSD weights, front end frozen.

    :func:`sktags.pretrained.musicnn_module` with ``model="msd"`` and
    ``freeze="frontend"``; it takes spectrograms of
    :func:`sktags.pretrained.musicnn_frontend` (96 bands).
    """
    from ..pretrained import musicnn_module

    return musicnn_module(n_mels, n_frames, n_labels, model="msd", freeze="frontend")


#: The named networks of CNNTagger's ``module`` after the paper's.
NAMED_NETWORKS = {"short_chunk": ShortChunkCNN, "musicnn": musicnn_network}
