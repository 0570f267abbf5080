"""How far apart are two sets of embeddings, and how sure is a figure measured on a sample?

    bootstrap_interval      a percentile confidence interval for any statistic of one or more samples
    median_distance         the median Euclidean distance between distinct points (the median heuristic)
    kad_bandwidth           the RBF bandwidth by a named rule: "pooled", "reference" or "evaluation"
    kernel_audio_distance   KAD: the unbiased MMD^2 with an RBF kernel, times a scale
    KADTK                   the settings that give kadtk's convention: kernel_audio_distance(ref, ev, **KADTK)
    frechet_distance        ||mu_a - mu_b||^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between Gaussians fitted to two sets
    embedding_distances     KAD beside the Frechet distance, each with a 95% bootstrap interval

Both distances take the reference set (real clips) first and the evaluation set (generated clips)
second. Our embeddings are the label classifier's: figures compare only with figures on the same
embeddings, never with published FAD or KAD. Taught in notebook 11 (the CLAP score and KAD beside
accuracy and the Frechet distance) and notebook 07 (the Frechet distance).
"""

from __future__ import annotations

import numpy as np
import torch

BANDWIDTH_RULES = ("pooled", "reference", "evaluation")
# kadtk (PyPI 1.1.0, kad.py): bandwidth = median_pairwise_distance(y), y its second (evaluation) set, and the
# MMD multiplied by SCALE_FACTOR = 100
KADTK = {"bandwidth": "evaluation", "scale": 100.0}


def bootstrap_interval(statistic, *samples, n_boot: int = 1000, level: float = 0.95, seed: int = 0) -> tuple:
    """A percentile bootstrap confidence interval (low, high) for statistic(*samples).

    Each round draws every sample (indexed along its first axis) again with replacement, at its own
    size, and recomputes the statistic; the interval holds the middle `level` of the n_boot values.
    statistic: any function of the samples (arrays or tensors) that returns a number, e.g.
    lambda x: x.mean() for per-clip scores, or a distance between two sets of embeddings."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(n_boot):
        # indices drawn with replacement, one draw per sample
        drawn = [
            s[torch.from_numpy(rng.integers(0, len(s), len(s)))]
            if torch.is_tensor(s)
            else np.asarray(s)[rng.integers(0, len(s), len(s))]
            for s in samples
        ]
        values.append(float(statistic(*drawn)))
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)


def median_distance(*sets: torch.Tensor) -> float:
    """The median heuristic: the median Euclidean distance between distinct points of the sets (N_i, E) pooled.
    Of an even number of pairs it takes the lower middle one, as torch.median (and so kadtk) does."""
    x = torch.cat(sets).double()  # (N, E)
    d = torch.cdist(x, x)  # (N, N)
    off = ~torch.eye(len(x), dtype=torch.bool)
    # each pair stands twice off the diagonal, which leaves torch.median's lower middle on the same pair
    return float(d[off].median())


def kad_bandwidth(reference: torch.Tensor, evaluation: torch.Tensor, rule: str = "pooled") -> float:
    """The RBF bandwidth sigma by a named median rule, over distinct points of:

    "pooled"      both sets together: ours, and what every shipped figure used
    "reference"   the reference set alone: the KAD paper's own code, as its authors' repository computes it
    "evaluation"  the evaluation set alone: kadtk's PyPI release (median_pairwise_distance(y))"""
    sets = {"pooled": (reference, evaluation), "reference": (reference,), "evaluation": (evaluation,)}
    if rule not in sets:
        raise ValueError(f"bandwidth must be a number or one of {', '.join(BANDWIDTH_RULES)}; got {rule!r}")
    return median_distance(*sets[rule])


def _sigma(reference, evaluation, bandwidth) -> float:
    return kad_bandwidth(reference, evaluation, bandwidth) if isinstance(bandwidth, str) else float(bandwidth)


def kernel_audio_distance(
    a: torch.Tensor,
    b: torch.Tensor,
    bandwidth: float | str = "pooled",
    scale: float = 1.0,
    *,
    a_points: torch.Tensor | None = None,
    b_points: torch.Tensor | None = None,
) -> float:
    """KAD (arXiv 2502.15602) between a reference set a (N, E) and an evaluation set b (M, E): `scale` times the
    unbiased MMD^2 with the RBF kernel k(x, y) = exp(-||x - y||^2 / (2 sigma^2)). Unbiased, so it can dip below
    0 when the sets come from one distribution.

    bandwidth: sigma itself, or the rule that picks it (kad_bandwidth): "pooled" (ours, the default, what every
    shipped figure used), "reference" (the paper's code) or "evaluation" (kadtk's PyPI release).
    scale: 1 (ours: every shipped figure is unscaled); kadtk multiplies by 100. `**KADTK` gives kadtk's convention
    (its last digits can still differ: kadtk computes in float32 and adds 1e-8 to 2 sigma^2).

    a_points, b_points (N,), (M,): for a bootstrap draw, which original point each row is. The within-set
    sums then leave out every pair of copies of one point, as they leave out i = j: a point beside its own
    copy has k = 1, and counting it would push the draw's KAD up (embedding_distances)."""
    a, b = a.double(), b.double()
    n, m = len(a), len(b)
    if n < 2 or m < 2:
        raise ValueError(f"KAD needs at least 2 embeddings in each set, got {n} and {m}")
    sigma = _sigma(a, b, bandwidth)

    def k(x, y):
        # k(x, y) = exp(-||x - y||^2 / (2 sigma^2))
        return torch.exp(-torch.cdist(x, y).square() / (2 * sigma**2))  # (len x, len y)

    def distinct(points, size):  # (size, size) True where rows i and j are different original points
        points = torch.arange(size) if points is None else torch.as_tensor(points)
        return points[:, None] != points[None, :]

    # MMD_u^2 = sum_{i!=j} k(a_i, a_j) / (n (n-1)) + sum_{i!=j} k(b_i, b_j) / (m (m-1)) - 2 mean_ij k(a_i, b_j)
    kaa, kbb = k(a, a), k(b, b)  # (N, N), (M, M)
    pa, pb = distinct(a_points, n), distinct(b_points, m)  # (N, N), (M, M)
    within_a = (kaa * pa).sum() / pa.sum()
    within_b = (kbb * pb).sum() / pb.sum()
    return scale * float(within_a + within_b - 2 * k(a, b).mean())


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """Frechet distance between Gaussians fitted to two sets of embeddings (N, E) and (M, E).

    Tr((S_a S_b)^(1/2)) = sum of sqrt(eigenvalues of S_a^(1/2) S_b S_a^(1/2)), a symmetric matrix
    with non-negative eigenvalues, so no complex square root is needed."""
    a, b = a.double(), b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)  # (E,)
    s_a, s_b = torch.cov(a.T), torch.cov(b.T)  # (E, E)
    vals, vecs = torch.linalg.eigh(s_a)
    root_a = vecs @ torch.diag(vals.clamp(min=0).sqrt()) @ vecs.T  # S_a^(1/2)
    cross = torch.linalg.eigvalsh(root_a @ s_b @ root_a).clamp(min=0).sqrt().sum()  # Tr((S_a S_b)^(1/2))
    return float((mu_a - mu_b).square().sum() + torch.trace(s_a) + torch.trace(s_b) - 2 * cross)


def embedding_distances(
    real: torch.Tensor,
    generated: torch.Tensor,
    n_boot: int = 200,
    seed: int = 0,
    bandwidth: float | str = "pooled",
    scale: float = 1.0,
) -> dict:
    """KAD beside the Frechet distance between two embedding sets, each with a 95% bootstrap interval.

    Each round draws both sets again with replacement, the KAD bandwidth fixed at the full sets' (by the rule
    `bandwidth` names; "bandwidth" in the result is sigma itself). KAD (times `scale`): the percentile interval,
    each draw's KAD leaving out pairs of copies of one point (an unbiased draw, so the interval sits around the
    estimate). The Frechet distance has no such fix: it is biased upwards at these sizes (its mean term alone adds
    about tr(S_a + S_b) / N), and a draw adds that bias again, so the draws sit above the full sets' figure (on 96
    clips, often all of them). Its interval is the draws' spread moved to sit on the estimate,
    (q_low, q_high) - median + FD, floored at 0."""
    sigma = _sigma(real, generated, bandwidth)
    out = {"bandwidth": sigma, "n_real": len(real), "n_generated": len(generated)}
    out["kad"] = kernel_audio_distance(real, generated, sigma, scale)
    out["frechet"] = frechet_distance(real, generated)
    rng = np.random.default_rng(seed)
    kads, fds = [], []
    for _ in range(n_boot):
        ia = torch.from_numpy(rng.integers(0, len(real), len(real)))  # (N,) which real points, with repeats
        ib = torch.from_numpy(rng.integers(0, len(generated), len(generated)))  # (M,)
        if len(ia.unique()) < 2 or len(ib.unique()) < 2:
            continue  # one point drawn over and over: no pair of different points to compare (tiny sets only)
        kads.append(kernel_audio_distance(real[ia], generated[ib], sigma, scale, a_points=ia, b_points=ib))
        fds.append(frechet_distance(real[ia], generated[ib]))
    out["kad_interval"] = tuple(float(q) for q in np.quantile(kads, [0.025, 0.975]))
    low, middle, high = np.quantile(fds, [0.025, 0.5, 0.975])
    # the draws' own shift, median - FD, taken off both ends
    shift = float(middle) - out["frechet"]
    out["frechet_interval"] = (max(0.0, float(low) - shift), float(high) - shift)
    return out
