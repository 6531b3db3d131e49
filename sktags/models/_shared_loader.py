"""One DataLoader, with one pool of workers, for the training and validation passes."""

from torch.utils.data import Dataset

from ._data import make_loader

__all__ = ["SharedLoader"]


class _MuxDataset(Dataset):
    """Several datasets behind one DataLoader; items are ``(dataset, item)`` pairs."""

    def __init__(self, datasets):
        self.datasets = list(datasets)

    def __len__(self):
        return sum(len(d) for d in self.datasets)

    def __getitems__(self, items):
        k = items[0][0]
        return self.datasets[k].__getitems__([item for _, item in items])


class _MuxSampler:
    """The batches of the active one of several batch samplers, tagged with its number."""

    def __init__(self, samplers):
        self.samplers = list(samplers)
        self.active = 0

    def __len__(self):
        return len(self.samplers[self.active])

    def __iter__(self):
        k = self.active
        for batch in self.samplers[k]:
            yield [(k, item) for item in batch]


class _LoaderView:
    """Iterates one dataset of a :class:`SharedLoader`."""

    def __init__(self, shared, k):
        self.shared, self.k = shared, k

    def __len__(self):
        return len(self.shared.sampler.samplers[self.k])

    def __iter__(self):
        self.shared.sampler.active = self.k  # read when the loader starts a pass
        return iter(self.shared.loader)


class SharedLoader:
    """One DataLoader, and one pool of persistent workers, for several datasets.

    Training and validation passes alternate; with a loader each, the idle
    workers of one would stay alive while the other's run, doubling what the
    workers cost. ``view(k)`` iterates dataset k with batch sampler k.

    Parameters
    ----------
    datasets : list of datasets
    samplers : list of batch samplers, one per dataset
    **kwargs : passed to :func:`make_loader`
    """

    def __init__(self, datasets, samplers, **kwargs):
        self.sampler = _MuxSampler(samplers)
        self.loader = make_loader(_MuxDataset(datasets), self.sampler, **kwargs)

    def view(self, k):
        return _LoaderView(self, k)
