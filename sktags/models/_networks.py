"""The paper's convolutional network (Ibrahim et al. 2020, section 4.1)."""

from torch import nn

__all__ = ["Ibrahim2020CNN", "TaggerCNN", "conv_output_shape"]


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
        filters = tuple(int(f) for f in filters)
        if not filters or min(filters) < 1:
            raise ValueError(
                f"filters must be a non-empty sequence of positive ints, got {filters!r}.")
        self.input_shape = (1, int(n_mels), int(n_frames))
        self.input_norm = nn.BatchNorm2d(1)
        layers = []
        in_ch = 1
        for out_ch in filters:
            layers += [
                nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1),
                nn.ReLU(inplace=True),
                nn.MaxPool2d(kernel_size=2, stride=2, ceil_mode=True),
            ]
            in_ch = out_ch
        self.features = nn.Sequential(*layers)
        h, w = conv_output_shape(n_mels, n_frames, len(filters))
        self.n_flat = in_ch * h * w
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


#: Former name of :class:`Ibrahim2020CNN`, kept so that old pickles load.
TaggerCNN = Ibrahim2020CNN
