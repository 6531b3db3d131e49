"""Counting label vectors: distinct rows, exact lookups and superset counts.

Everything here works on the *distinct* label vectors of a matrix and their
multiplicities, never on pairs of rows, so memory grows with the number of
distinct vectors (a few thousand for the released dataset), not with n².

Rows are bit-packed (``np.packbits``, little bit order: label ``c`` is bit
``c % 8`` of byte ``c // 8``) and viewed as fixed-width byte strings, which
``np.unique`` and ``np.searchsorted`` sort and compare for any number of
labels ``m``.
"""

import numpy as np

# Use the sum-over-supersets table (2**m entries) up to this many labels.
SOS_MAX_LABELS = 20
# Elements per block of the pairwise superset test (query x fitted vectors).
_BLOCK_ELEMENTS = 1 << 22


def pack_rows(Y):
    """Bit-pack the rows of a 0/1 ``uint8`` matrix.

    Parameters
    ----------
    Y : ndarray of shape (n, m), dtype uint8

    Returns
    -------
    keys : ndarray of shape (n,), dtype void
        One fixed-width byte string per row; equal rows give equal keys.
    packed : ndarray of shape (n, ceil(m / 8)), dtype uint8
        The same bytes as a matrix.
    """
    packed = np.ascontiguousarray(np.packbits(Y, axis=1, bitorder="little"))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    return keys, packed


def distinct_rows(Y):
    """Distinct rows of a label matrix with their multiplicities.

    Returns
    -------
    keys : ndarray of shape (k,), dtype void
        Sorted packed keys of the distinct rows.
    bits : ndarray of shape (k, m), dtype uint8
        The distinct rows.
    counts : ndarray of shape (k,), dtype int64
    inverse : ndarray of shape (n,), dtype intp
        ``bits[inverse]`` equals ``Y``.
    """
    keys, _ = pack_rows(Y)
    keys, first, inverse, counts = np.unique(
        keys, return_index=True, return_inverse=True, return_counts=True
    )
    return keys, Y[first], counts.astype(np.int64), inverse.ravel()


def lookup_counts(keys, counts, query):
    """Multiplicity of each query key among sorted ``keys`` (0 when absent)."""
    if keys.size == 0:
        return np.zeros(query.shape, dtype=np.int64)
    idx = np.searchsorted(keys, query)
    idx = np.minimum(idx, keys.size - 1)
    found = keys[idx] == query
    return np.where(found, counts[idx], 0).astype(np.int64)


def exact_match_counts(keys, counts, query_packed, m):
    """Counts of each query vector and of it with one more label switched on.

    Parameters
    ----------
    keys, counts : the fitted distinct vectors (sorted keys) and multiplicities.
    query_packed : ndarray of shape (q, n_bytes), dtype uint8
    m : int
        Number of labels.

    Returns
    -------
    n0 : ndarray of shape (q,)
        Number of fitted rows equal to each query vector.
    n1 : ndarray of shape (q, m)
        ``n1[u, c]``: number of fitted rows equal to query ``u`` with bit ``c``
        set (equals ``n0[u]`` where bit ``c`` is already set).
    """
    q, n_bytes = query_packed.shape
    width = np.dtype((np.void, n_bytes))
    n0 = lookup_counts(keys, counts, query_packed.view(width).ravel())
    n1 = np.empty((q, m), dtype=np.int64)
    flipped = np.empty_like(query_packed)
    for c in range(m):
        np.copyto(flipped, query_packed)
        flipped[:, c // 8] |= np.uint8(1 << (c % 8))
        n1[:, c] = lookup_counts(keys, counts, flipped.view(width).ravel())
    return n0, n1


def integer_codes(bits):
    """Row codes ``sum_c bits[:, c] << c`` as int64 (only for m <= 62)."""
    m = bits.shape[1]
    return bits.astype(np.int64) @ (np.int64(1) << np.arange(m, dtype=np.int64))


def superset_table(bits, counts):
    """Sum-over-supersets table: ``table[s]`` = number of rows whose set contains ``s``.

    Parameters
    ----------
    bits : ndarray of shape (k, m), dtype uint8, with m <= SOS_MAX_LABELS
    counts : ndarray of shape (k,)

    Returns
    -------
    table : ndarray of shape (2**m,), dtype int64
    """
    m = bits.shape[1]
    table = np.bincount(integer_codes(bits), weights=counts, minlength=1 << m)
    table = np.rint(table).astype(np.int64)
    for b in range(m):
        view = table.reshape(-1, 2, 1 << b)
        view[:, 0, :] += view[:, 1, :]
    return table


def superset_counts_table(table, query_bits):
    """Superset counts from a :func:`superset_table`.

    Returns
    -------
    t : ndarray of shape (q,)
        Number of fitted rows whose positives include all positives of each
        query vector.
    p : ndarray of shape (q, m)
        ``p[u, c]``: how many of those also have label ``c``.
    """
    m = query_bits.shape[1]
    codes = integer_codes(query_bits)
    t = table[codes]
    p = table[codes[:, None] | (np.int64(1) << np.arange(m, dtype=np.int64))]
    return t, p


def superset_counts_pairwise(bits, counts, query_bits):
    """Same as :func:`superset_counts_table`, for any m, by blocks of query vectors.

    A fitted vector ``v`` contains query ``u`` when ``u @ (1 - v) == 0``. The
    test runs on blocks of query rows against all k fitted vectors, so memory is
    O(block x k).
    """
    k, m = bits.shape
    q = query_bits.shape[0]
    absent = (1 - bits.astype(np.float32)).T  # (m, k): labels each fitted vector lacks
    weighted = bits.astype(np.float64) * counts[:, None]  # (k, m)
    counts_f = counts.astype(np.float64)
    t = np.empty(q, dtype=np.int64)
    p = np.empty((q, m), dtype=np.int64)
    step = max(1, _BLOCK_ELEMENTS // max(k, 1))
    for start in range(0, q, step):
        block = query_bits[start : start + step].astype(np.float32)
        contains = (block @ absent) < 0.5  # (b, k): fitted vector contains query
        cf = contains.astype(np.float64)
        t[start : start + step] = np.rint(cf @ counts_f)
        p[start : start + step] = np.rint(cf @ weighted)
    return t, p


def superset_counts(bits, counts, query_bits, table=None):
    """Superset counts, with the table when given, else pairwise."""
    if table is not None:
        return superset_counts_table(table, query_bits)
    return superset_counts_pairwise(bits, counts, query_bits)
