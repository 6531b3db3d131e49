"""A linear multi-label head trained with a loss of sktags.losses (benchmark stand-in).

Used by ``bench_missing_labels.py --head linear``, and where
``sktags.EmbeddingTagger`` is not available: the same interface (``loss=``,
``weighting=``, ``random_state=``, ``fit(X, Y)``, ``predict_proba``) on
standardised features, trained with Adam in mini-batches for a fixed number
of epochs. It calls the loss's ``setup``, ``set_epoch`` and passes ``index=``
as the taggers do.
"""

import numpy as np
import torch
from sklearn.base import clone


class LinearHead:
    def __init__(self, *, loss="bce", weighting=None, random_state=0, max_epochs=100,
                 lr=0.01, weight_decay=1e-3, batch_size=32):
        self.loss = loss
        self.weighting = weighting
        self.random_state = random_state
        self.max_epochs = max_epochs
        self.lr = lr
        self.weight_decay = weight_decay
        self.batch_size = batch_size

    def fit(self, X, Y):
        from sktags.losses import get_loss

        X = np.asarray(X, dtype=np.float32)
        Y = np.asarray(Y, dtype=np.float32)
        self.mean_, self.scale_ = X.mean(0), X.std(0) + 1e-6
        Xt = torch.from_numpy((X - self.mean_) / self.scale_)
        Yt = torch.from_numpy(Y)
        W = None
        if self.weighting is not None:
            self.weighting_ = clone(self.weighting).fit(Y.astype(np.uint8))
            W = torch.from_numpy(np.asarray(self.weighting_.transform(Y.astype(np.uint8)),
                                            dtype=np.float32))
        gen = torch.Generator().manual_seed(int(self.random_state))
        torch.manual_seed(int(self.random_state))
        self.linear_ = torch.nn.Linear(X.shape[1], Y.shape[1])
        loss = get_loss(self.loss, n_labels=Y.shape[1])
        if hasattr(loss, "setup"):
            loss.setup(len(X), Y.shape[1], Y)
        opt = torch.optim.Adam(self.linear_.parameters(), lr=self.lr,
                               weight_decay=self.weight_decay)
        for epoch in range(self.max_epochs):
            loss.set_epoch(epoch)
            order = torch.randperm(len(X), generator=gen)
            for start in range(0, len(X), self.batch_size):
                idx = order[start:start + self.batch_size]
                w = None if W is None else W[idx]
                kwargs = {"index": idx} if getattr(loss, "requires_index", False) else {}
                value = loss(self.linear_(Xt[idx]), Yt[idx], w, **kwargs)
                opt.zero_grad()
                value.backward()
                opt.step()
        self.loss_ = loss
        return self

    def predict_proba(self, X):
        X = (np.asarray(X, dtype=np.float32) - self.mean_) / self.scale_
        with torch.no_grad():
            return torch.sigmoid(self.linear_(torch.from_numpy(X))).numpy()
