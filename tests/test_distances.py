"""minidcae.measure.distances: the bootstrap interval, KAD (each bandwidth rule and scale worked out by hand on a
small set, and kadtk's own formula written out beside it), the Frechet distance and embedding_distances."""

import math

import numpy as np
import pytest
import torch

from minidcae.measure.distances import (
    KADTK,
    bootstrap_interval,
    embedding_distances,
    frechet_distance,
    kad_bandwidth,
    kernel_audio_distance,
    median_distance,
)


def test_bootstrap_interval_of_a_mean_matches_the_normal_approximation():
    # for the mean of n draws the 95% interval is about mean +- 1.96 sd / sqrt(n)
    x = np.random.default_rng(1).normal(3.0, 2.0, 400)
    low, high = bootstrap_interval(lambda s: s.mean(), x, n_boot=2000)
    half = 1.96 * x.std() / np.sqrt(len(x))
    assert abs(low - (x.mean() - half)) < 0.05 and abs(high - (x.mean() + half)) < 0.05
    # tensors work too, and two samples are drawn independently
    a, b = torch.zeros(50), torch.ones(80)
    assert bootstrap_interval(lambda p, q: q.mean() - p.mean(), a, b, n_boot=50) == (1.0, 1.0)


def test_frechet_distance_is_zero_for_one_set_and_matches_the_formula_for_gaussians():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(4000, 3, generator=g)
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    # N(0, I) against N(m, s^2 I) in 3 dims: |m|^2 + 3 (1 + s^2 - 2 s)
    b = 2 * torch.randn(4000, 3, generator=g) + torch.tensor([1.0, 0.0, 0.0])
    assert frechet_distance(a, b) == pytest.approx(1 + 3 * (1 + 4 - 4), rel=0.1)
    assert frechet_distance(a, b) > frechet_distance(a, a + 0.1)


def test_kad_is_near_zero_for_one_distribution_grows_with_a_shift_and_matches_a_double_loop():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(200, 4, generator=g), torch.randn(200, 4, generator=g)
    same = kernel_audio_distance(a, b)
    assert abs(same) < 0.01
    shifts = [kernel_audio_distance(a, b + s) for s in (0.5, 1.0, 2.0)]
    assert same < shifts[0] < shifts[1] < shifts[2]
    x, y, sigma = a[:5], b[:4] + 0.3, 1.3

    def k(u, v):
        return math.exp(-float(((u - v) ** 2).sum()) / (2 * sigma**2))

    xx = sum(k(x[i], x[j]) for i in range(5) for j in range(5) if i != j) / 20
    yy = sum(k(y[i], y[j]) for i in range(4) for j in range(4) if i != j) / 12
    xy = sum(k(x[i], y[j]) for i in range(5) for j in range(4)) / 20
    assert kernel_audio_distance(x, y, sigma) == pytest.approx(xx + yy - 2 * xy, rel=1e-6)


def test_a_bootstrap_draw_leaves_out_pairs_of_copies_of_one_point():
    g = torch.Generator().manual_seed(1)
    a, b, sigma = torch.randn(4, 3, generator=g), torch.randn(5, 3, generator=g) + 0.5, 1.1
    points = torch.tensor([0, 0, 1, 3])  # a draw of a with point 0 twice
    drawn = a[points]

    def k(u, v):
        return math.exp(-float(((u - v) ** 2).sum()) / (2 * sigma**2))

    # the within-a mean over ordered pairs of rows that are different points: 10 of the 12 pairs i != j
    pairs = [(i, j) for i in range(4) for j in range(4) if points[i] != points[j]]
    aa = sum(k(drawn[i], drawn[j]) for i, j in pairs) / len(pairs)
    bb = sum(k(b[i], b[j]) for i in range(5) for j in range(5) if i != j) / 20
    ab = sum(k(drawn[i], b[j]) for i in range(4) for j in range(5)) / 20
    got = kernel_audio_distance(drawn, b, sigma, a_points=points, b_points=torch.arange(5))
    assert len(pairs) == 10 and got == pytest.approx(aa + bb - 2 * ab, rel=1e-6)
    assert kernel_audio_distance(a, b, sigma, a_points=torch.arange(4)) == kernel_audio_distance(a, b, sigma)


def test_embedding_distances_kad_interval_holds_its_estimate_and_a_shift_moves_it():
    # counted, the copies in a draw pushed every draw's KAD up: on two sets of one distribution (shift 0) the old
    # interval, (-0.0017, 0.0145), missed its own estimate, -0.0043
    g = torch.Generator().manual_seed(2)
    found = []
    for shift in (0.0, 0.4):
        real, gen = torch.randn(96, 6, generator=g), torch.randn(96, 6, generator=g) + shift
        d = embedding_distances(real, gen, n_boot=200)
        assert d["kad_interval"][0] <= d["kad"] <= d["kad_interval"][1], d
        assert d["frechet_interval"][0] <= d["frechet"] <= d["frechet_interval"][1], d
        found.append(d)
    assert found[0]["kad_interval"][1] < found[1]["kad_interval"][0]  # the shifted sets are told apart
    # two points a set: many draws repeat one point and have no pair to compare; they are skipped, not NaN
    tiny = embedding_distances(torch.randn(2, 6, generator=g), torch.randn(2, 6, generator=g), n_boot=50)
    assert all(math.isfinite(v) for v in (*tiny["kad_interval"], *tiny["frechet_interval"]))


# a reference set at 0, 1, 3 and an evaluation set at 0.5, 6, on a line. Distances between distinct points:
#   reference   1, 2, 3                                   -> median 2
#   evaluation  5.5                                       -> median 5.5
#   pooled      0.5 0.5 1 2 2.5 | 3 3 5 5.5 6 (10 pairs)   -> the lower middle one, 2.5 (np.median would say 2.75)
REFERENCE, EVALUATION = [0.0, 1.0, 3.0], [0.5, 6.0]
BY_HAND = {"reference": 2.0, "evaluation": 5.5, "pooled": 2.5}


def kad_by_hand(xs, ys, sigma):
    """The unbiased MMD^2 with k(x, y) = exp(-(x - y)^2 / (2 sigma^2)), by loops over the points."""

    def k(u, v):
        return math.exp(-((u - v) ** 2) / (2 * sigma**2))

    n, m = len(xs), len(ys)
    xx = sum(k(xs[i], xs[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    yy = sum(k(ys[i], ys[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    xy = sum(k(x, y) for x in xs for y in ys) / (n * m)
    return xx + yy - 2 * xy


def test_each_bandwidth_rule_is_the_median_it_names_worked_by_hand():
    a, b = torch.tensor(REFERENCE)[:, None], torch.tensor(EVALUATION)[:, None]  # (3, 1), (2, 1)
    for rule, sigma in BY_HAND.items():
        assert kad_bandwidth(a, b, rule) == sigma, rule
        assert kernel_audio_distance(a, b, rule) == pytest.approx(kad_by_hand(REFERENCE, EVALUATION, sigma), rel=1e-12)
    # the default is the pooled rule, every shipped figure's; a number is sigma itself
    assert kernel_audio_distance(a, b) == kernel_audio_distance(a, b, "pooled") == kernel_audio_distance(a, b, 2.5)
    assert median_distance(a, b) == 2.5 and median_distance(a) == 2.0
    with pytest.raises(ValueError, match="bandwidth must be a number or one of pooled, reference, evaluation"):
        kernel_audio_distance(a, b, "median")


def test_scale_multiplies_and_kadtk_convention_is_evaluation_bandwidth_times_100():
    a, b = torch.tensor(REFERENCE)[:, None], torch.tensor(EVALUATION)[:, None]
    plain = kad_by_hand(REFERENCE, EVALUATION, 5.5)
    assert kernel_audio_distance(a, b, "evaluation", 100.0) == pytest.approx(100 * plain, rel=1e-12)
    assert kernel_audio_distance(a, b, **KADTK) == pytest.approx(100 * plain, rel=1e-12)
    # unscaled stays unscaled: the figures on the cards are the plain MMD^2
    assert kernel_audio_distance(a, b, "evaluation") == pytest.approx(plain, rel=1e-12)


def kadtk_formula(x, y):
    """kadtk 1.1.0's calc_kernel_audio_distance written out (kad.py): float32, bandwidth = torch.median of
    torch.pdist(y), gamma = 1 / (2 bandwidth^2 + 1e-8), diagonals removed, times SCALE_FACTOR = 100."""
    x, y = x.float(), y.float()
    bandwidth = torch.pdist(y).median().item()
    gamma = 1 / (2 * bandwidth**2 + 1e-8)

    def kernel_mean(u, v, drop_diagonal):
        k = torch.exp(-gamma * torch.cdist(u, v).square())
        if drop_diagonal:
            k = k - torch.diag(torch.diagonal(k))
            return k.sum() / (len(u) * (len(u) - 1))
        return k.mean()

    return float(kernel_mean(x, x, True) + kernel_mean(y, y, True) - 2 * kernel_mean(x, y, False)) * 100


def test_kadtk_convention_matches_kadtk_formula_to_float32_precision():
    g = torch.Generator().manual_seed(5)
    real, generated = torch.randn(40, 6, generator=g), torch.randn(31, 6, generator=g) + 0.4
    ours = kernel_audio_distance(real, generated, **KADTK)
    assert ours == pytest.approx(kadtk_formula(real, generated), rel=1e-4, abs=1e-5)
    # the rules differ on these sets, so the choice shows in the figure
    assert len({kad_bandwidth(real, generated, r) for r in BY_HAND}) == 3


def test_embedding_distances_take_the_bandwidth_rule_and_scale():
    g = torch.Generator().manual_seed(6)
    real, generated = torch.randn(30, 4, generator=g), torch.randn(30, 4, generator=g) + 0.5
    plain = embedding_distances(real, generated, n_boot=20)
    assert plain["bandwidth"] == kad_bandwidth(real, generated, "pooled")
    kadtk = embedding_distances(real, generated, n_boot=20, **KADTK)
    assert kadtk["bandwidth"] == kad_bandwidth(real, generated, "evaluation")
    assert kadtk["kad"] == pytest.approx(kernel_audio_distance(real, generated, **KADTK), rel=1e-12)
    assert kadtk["frechet"] == plain["frechet"]  # the Frechet distance has no bandwidth
