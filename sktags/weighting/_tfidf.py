"""TF-IDF positive weights (equation 4 of the paper), as the authors normalised them.

``raw[i, c] = n[i, c] / N_c * ln(m / |S_i|)``, where ``N_c`` is the sum of
column ``c`` of the fitted counts and ``|S_i|`` the number of labels of row
``i``. Per context, the entries with ``raw > 0`` are z-scored with the mean and
sample standard deviation (``ddof=1``) learned in ``fit``, shifted by +1 and
clipped; every other entry is 0.
"""

import numpy as np

# A standard deviation this small relative to the mean counts as no spread.
_REL_SPREAD_TOL = 64 * np.finfo(np.float64).eps


def _idf(Y):
    """``ln(m / |S_i|)`` per row; 0 for a row without labels (it has no positives)."""
    m = Y.shape[1]
    n_pos = Y.sum(axis=1, dtype=np.int64)
    idf = np.zeros(Y.shape[0], dtype=np.float64)
    has = n_pos > 0
    idf[has] = np.log(m / n_pos[has])
    return idf


def tfidf_raw(Y, counts, totals):
    """Raw TF-IDF and the mask of its strictly positive entries.

    Parameters
    ----------
    Y : ndarray of shape (n, m), dtype uint8
    counts : ndarray of shape (n, m), float64
    totals : ndarray of shape (m,)
        ``N_c`` learned in fit.

    Returns
    -------
    raw : ndarray of shape (n, m)
        0 wherever ``mask`` is False.
    mask : ndarray of shape (n, m), bool
        ``counts > 0`` and ``0 < |S_i| < m`` (and ``N_c > 0``).
    """
    idf = _idf(Y)
    safe_totals = np.where(totals > 0, totals, 1.0)
    mask = (counts > 0) & (idf > 0)[:, None] & (totals > 0)[None, :]
    raw = np.where(mask, counts / safe_totals * idf[:, None], 0.0)
    return raw, mask


def fit_tfidf(Y, counts):
    """Per-context statistics of the raw TF-IDF over the fitted rows.

    Returns
    -------
    totals : ndarray of shape (m,)
        ``N_c``.
    mean, std : ndarray of shape (m,)
        Mean and sample standard deviation of the raw > 0 entries of each
        context; both 0 where the context has no z-score (see ``scorable``).
    scorable : ndarray of shape (m,), bool
        At least two raw > 0 entries with a non-zero spread.
    """
    totals = counts.sum(axis=0)
    raw, mask = tfidf_raw(Y, counts, totals)
    m = Y.shape[1]
    mean = np.zeros(m)
    std = np.zeros(m)
    scorable = np.zeros(m, dtype=bool)
    for c in range(m):
        vals = raw[mask[:, c], c]
        if vals.size < 2:
            continue
        mu = vals.mean()
        sd = vals.std(ddof=1)
        if not sd > _REL_SPREAD_TOL * abs(mu):
            continue
        mean[c], std[c], scorable[c] = mu, sd, True
    return totals, mean, std, scorable


def tfidf_weights(Y, counts, totals, mean, std, scorable, clip):
    """Normalised TF-IDF weights for every entry (used where ``Y == 1``).

    Entries with raw > 0 get ``(raw - mean) / std + 1`` in a scorable context
    and 1 otherwise, then are clipped to ``clip`` (if not None); all other
    entries get 0.
    """
    raw, mask = tfidf_raw(Y, counts, totals)
    safe_std = np.where(scorable, std, 1.0)
    z = np.where(scorable[None, :], (raw - mean) / safe_std + 1.0, 1.0)
    if clip is not None:
        z = np.clip(z, clip[0], clip[1])
    return np.where(mask, z, 0.0)
