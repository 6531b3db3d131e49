"""musicnn as a :class:`~sktags.CNNTagger` module: released weights, new output layer."""

from ._musicnn import MusicnnNet
from ._weights import check_model

FREEZE = (None, "frontend", "backbone")


class _FrozenMusicnn(MusicnnNet):
    """MusicnnNet whose frozen batch norms stay on their moving statistics in training."""

    def __init__(self, n_labels, *, frozen, dropout):
        super().__init__(n_labels, dropout=dropout)
        self.frozen = frozen

    def _frozen_modules(self):
        if self.frozen is None:
            return []
        mods = [self.frontend]
        if self.frozen == "backbone":
            mods += [self.midend, self.midend_bn, self.pool_bn, self.dense, self.dense_bn]
        return mods

    def train(self, mode=True):
        super().train(mode)
        for module in self._frozen_modules():
            module.eval()
        return self


def musicnn_module(n_mels, n_frames, n_labels, *, model="msd", freeze=None, dropout=0.5):
    """musicnn initialised from its released weights, with a new output layer.

    A module factory for :class:`~sktags.CNNTagger`: bind the options with
    :func:`functools.partial` and pass it as ``module``. Train it on
    spectrograms of :func:`~sktags.pretrained.musicnn_frontend` (whole tracks
    with ``crop_frames=187``, musicnn's 3 s patches).

    Parameters
    ----------
    n_mels : int
        Must be 96 (musicnn's bands).
    n_frames : int
        Frames of the training crops (any length works; musicnn was trained
        on 187).
    n_labels : int
        Size of the new output layer (initialised as torch's ``Linear``,
        from torch's global generator, which ``CNNTagger(random_state=...)``
        seeds).
    model : {"msd", "mtt"}, default="msd"
        Released weights to start from.
    freeze : {None, "frontend", "backbone"}, default=None
        ``"frontend"`` fixes the input batch norm and the timbral and
        temporal convolutions (their batch norms keep the released moving
        statistics); ``"backbone"`` fixes everything but the output layer (a
        linear probe of the penultimate features, with dropout).
    dropout : float, default=0.5
        Dropout of the back end in training (musicnn's).

    Returns
    -------
    module : MusicnnNet
        Maps (batch, 1, 96, n_frames) to (batch, n_labels) logits.

    Examples
    --------
    >>> import functools, torch
    >>> from sktags.pretrained import musicnn_module
    >>> factory = functools.partial(musicnn_module, model="msd", freeze="frontend")
    >>> net = factory(n_mels=96, n_frames=187, n_labels=4)
    >>> net(torch.zeros(2, 1, 96, 187)).shape
    torch.Size([2, 4])
    >>> sum(p.numel() for p in net.parameters() if p.requires_grad)
    614864
    """
    check_model(model)
    if freeze not in FREEZE:
        raise ValueError(f"freeze must be one of {FREEZE}, got {freeze!r}.")
    if int(n_mels) != 96:
        raise ValueError(f"musicnn takes 96 mel bands, got n_mels={n_mels!r}; use "
                         "sktags.pretrained.musicnn_frontend() for its input.")
    net = _FrozenMusicnn(int(n_labels), frozen=freeze, dropout=dropout)
    net.load_released(model, head=False)
    for module in net._frozen_modules():
        for p in module.parameters():
            p.requires_grad_(False)
    return net
