"""Independent pure-Python (math) implementations of the published per-entry losses.

Each function takes one logit z and one observed label y (0 or 1) and
returns the entry's loss, straight from the papers' formulas, in float64,
without torch. Used by the tests of :mod:`sktags.losses`.
"""

import math
from fractions import Fraction


def log_sigmoid(z):
    """log(1 / (1 + e^-z)) without overflow."""
    return -math.log1p(math.exp(-z)) if z >= 0 else z - math.log1p(math.exp(z))


def sigmoid(z):
    return math.exp(log_sigmoid(z))


def bce(z, t):
    """-[t log p + (1 - t) log(1 - p)]."""
    return -(t * log_sigmoid(z) + (1 - t) * log_sigmoid(-z))


def wan(z, y, gamma):
    return -(y * log_sigmoid(z) + gamma * (1 - y) * log_sigmoid(-z))


def label_smoothing(z, y, eps):
    return bce(z, (1 - eps) * y + eps / 2)


def asl(z, y, gamma_pos, gamma_neg, clip):
    p = sigmoid(z)
    one_minus_p = math.exp(log_sigmoid(-z))
    pm = max(p - clip, 0.0)
    one_minus_pm = min(one_minus_p + clip, 1.0)
    log_one_minus_pm = log_sigmoid(-z) if clip == 0 else math.log(one_minus_pm)
    pos = (one_minus_p ** gamma_pos) * log_sigmoid(z)
    neg = (pm ** gamma_neg) * log_one_minus_pm
    return -(y * pos + (1 - y) * neg)


def focal_pos(z, gamma):
    """-(1 - p)^gamma log p."""
    return -(math.exp(log_sigmoid(-z)) ** gamma) * log_sigmoid(z)


def hill(z, y, lamb, margin, gamma):
    p = sigmoid(z)
    return y * focal_pos(z - margin, gamma) + (1 - y) * (lamb - p) * p * p


def splc(z, y, epoch, tau, change_epoch, margin, gamma):
    p = sigmoid(z)
    if y == 1:
        return focal_pos(z - margin, gamma)
    if epoch >= change_epoch and p > tau:
        return focal_pos(z, gamma)
    return -(p ** gamma) * log_sigmoid(-z)  # focal loss of a negative


def entropy(z):
    p, q = sigmoid(z), sigmoid(-z)
    return -(p * log_sigmoid(z) + q * log_sigmoid(-z))


def em(z, y, alpha):
    return y * -log_sigmoid(z) - alpha * (1 - y) * entropy(z)


def large_loss(Z, Y, epoch, delta_rel, correct):
    """LL-R / LL-Ct loss matrix (lists of lists) of a whole batch."""
    B, C = len(Z), len(Z[0])
    k = math.ceil(B * C * min(epoch * Fraction(str(delta_rel)), 1))  # exact arithmetic
    unobserved = [(bce(Z[i][j], 0), i, j) for i in range(B) for j in range(C) if Y[i][j] == 0]
    k = min(k, len(unobserved))
    chosen = {(i, j) for _, i, j in sorted(unobserved, reverse=True)[:k]}
    out = [[bce(Z[i][j], Y[i][j]) for j in range(C)] for i in range(B)]
    for i, j in chosen:
        out[i][j] = bce(Z[i][j], 1) if correct else 0.0
    return out


def mean_weighted(L, W=None):
    B, C = len(L), len(L[0])
    total = 0.0
    for i in range(B):
        for j in range(C):
            total += (1.0 if W is None else W[i][j]) * L[i][j]
    return total / (B * C)


def expected_positive_penalty(P, K):
    """(mean_i sum_c P_ic - K)^2 / C^2."""
    B, C = len(P), len(P[0])
    mean_count = sum(sum(row) for row in P) / B
    return (mean_count - K) ** 2 / C ** 2


def epr(Z, Y, K, W=None):
    L = [[Y[i][j] * -log_sigmoid(Z[i][j]) for j in range(len(Z[0]))] for i in range(len(Z))]
    P = [[sigmoid(z) for z in row] for row in Z]
    return mean_weighted(L, W) + expected_positive_penalty(P, K)


def role(Z, Y, U, K, W=None):
    """ROLE's batch loss for network logits Z and estimator logits U (Cole et al.)."""
    B, C = len(Z), len(Z[0])
    L = [[0.0] * C for _ in range(B)]
    for i in range(B):
        for j in range(C):
            p, q = sigmoid(Z[i][j]), sigmoid(U[i][j])
            y = Y[i][j]
            net = y * -math.log(p) + (-q * math.log(p) - (1 - q) * math.log(1 - p))
            est = y * -math.log(q) + (-p * math.log(q) - (1 - p) * math.log(1 - q))
            L[i][j] = 0.5 * net + 0.5 * est
    P = [[sigmoid(z) for z in row] for row in Z]
    Q = [[sigmoid(u) for u in row] for row in U]
    return mean_weighted(L, W) + 0.5 * (expected_positive_penalty(P, K)
                                        + expected_positive_penalty(Q, K))
