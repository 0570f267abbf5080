import math

import matplotlib
import pytest
import torch
from einops import rearrange

from minidcae.core.config import DEFAULT_DCAE, DEFAULT_MEL
from minidcae.measure.latent import (
    angle_degrees,
    chance_agreement,
    direct_distance_db,
    encode_clips,
    fit_pca,
    interpolation_path,
    labelled_clips,
    latent_stats,
    lerp,
    nearest_neighbours,
    neighbour_agreement,
    path_steps_db,
    pool_time,
    slerp,
)
from minidcae.models.dcae import DCAE
from minidcae.sound.synth import HELDOUT_SEED_BASE, INSTRUMENTS

matplotlib.use("Agg")


def test_labelled_clips_give_each_instrument_its_share_from_heldout_seeds():
    wavs, labels = labelled_clips(2, 0.5, 22050, instruments=("piano", "bass"))
    assert wavs.shape == (4, 11025)
    assert [lab.instrument for lab in labels] == ["piano", "piano", "bass", "bass"]
    assert [lab.seed for lab in labels] == [HELDOUT_SEED_BASE + i for i in range(4)]


def test_encode_clips_matches_encoding_one_clip_at_a_time():
    torch.manual_seed(0)
    model = DCAE(DEFAULT_DCAE).eval()
    model.latent_mean.fill_(0.5)
    model.latent_std.fill_(2.0)
    wavs = 0.1 * torch.randn(3, 8192)
    z = encode_clips(model, wavs, DEFAULT_MEL, batch_size=2)  # two batches: 2 + 1
    from minidcae.sound.audio import log_mel

    with torch.no_grad():
        one = model.encode(log_mel(wavs[2:3], DEFAULT_MEL)[:, None])
    assert z.shape == (3, 8, 16, 4)
    assert torch.allclose(z[2:3], (one - 0.5) / 2.0, atol=1e-5)
    assert torch.allclose(encode_clips(model, wavs, DEFAULT_MEL, normalize=False)[2:3], one, atol=1e-5)


def test_pool_time_averages_frames_and_flattens_channels_then_rows():
    z = torch.arange(2 * 3 * 4 * 5, dtype=torch.float32).reshape(2, 3, 4, 5)
    v = pool_time(z)
    assert v.shape == (2, 12)
    assert v[1, 4 + 2] == z[1, 1, 2].mean()  # channel 1, row 2


def test_pca_agrees_with_the_eigenvectors_of_the_covariance():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 5, generator=g) @ torch.diag(torch.tensor([5.0, 3.0, 2.0, 1.0, 0.5])) + 7
    pca = fit_pca(x)
    # the covariance (1/N) X_c^T X_c has the principal axes as eigenvectors, the variances as eigenvalues
    xc = x - x.mean(0)
    values, vectors = torch.linalg.eigh(xc.T @ xc / x.shape[0])  # ascending
    assert torch.allclose(pca.explained_variance, values.flip(0), rtol=1e-4)
    for i in range(5):
        assert abs(float(pca.components[i] @ vectors[:, 4 - i])) == pytest.approx(1.0, abs=1e-4)
    assert torch.allclose(pca.components @ pca.components.T, torch.eye(5), atol=1e-5)
    assert float(pca.explained_variance_ratio.sum()) == pytest.approx(1.0)
    # every component kept: projecting and going back gives the data again
    assert torch.allclose(pca.project(x) @ pca.components + pca.mean, x, atol=1e-4)


def test_pca_signs_are_fixed_and_k_keeps_the_largest():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(50, 4, generator=g)
    a, b = fit_pca(x, k=2), fit_pca(-x, k=2)  # the same axes, found from mirrored data
    assert a.components.shape == (2, 4)
    assert torch.allclose(a.components, b.components, atol=1e-5)
    assert (a.components.gather(1, a.components.abs().argmax(1, keepdim=True)) > 0).all()


def test_nearest_neighbours_on_a_line_skip_the_item_itself():
    x = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    assert nearest_neighbours(x, k=2).tolist() == [[1, 2], [0, 2], [1, 0], [2, 1]]


def test_agreement_and_chance_by_hand():
    labels = ["a", "a", "b", "b", "b"]
    neighbours = torch.tensor([[1], [2], [3], [0], [2]])  # right, wrong, right, wrong, right
    assert neighbour_agreement(labels, neighbours) == pytest.approx(3 / 5)
    # pairs sharing a label: a: 2 * 1, b: 3 * 2 -> 8 of 5 * 4 = 20 ordered pairs
    assert chance_agreement(labels) == pytest.approx(8 / 20)
    assert chance_agreement([i for i in INSTRUMENTS for _ in range(6)]) == pytest.approx(5 / 35)


def test_lerp_and_slerp_meet_both_ends():
    g = torch.Generator().manual_seed(2)
    z0, z1 = torch.randn(2, 3, 4, generator=g), torch.randn(2, 3, 4, generator=g)
    for step in (lerp, slerp):
        assert torch.allclose(step(z0, z1, 0.0), z0, atol=1e-5)
        assert torch.allclose(step(z0, z1, 1.0), z1, atol=1e-5)
    assert torch.allclose(lerp(z0, z1, 0.5), (z0 + z1) / 2)


def test_slerp_keeps_the_norm_and_turns_at_a_constant_rate():
    z0 = torch.tensor([3.0, 0.0])
    z1 = torch.tensor([0.0, 3.0])  # a quarter turn away, same length
    for t in (0.25, 0.5, 0.75):
        z = slerp(z0, z1, t)
        assert float(z.norm()) == pytest.approx(3.0, rel=1e-5)
        assert angle_degrees(z0, z) == pytest.approx(90 * t, abs=1e-3)
    assert float(lerp(z0, z1, 0.5).norm()) == pytest.approx(3 / math.sqrt(2))  # the straight line cuts inside


def test_slerp_of_parallel_latents_is_lerp():
    z0 = torch.tensor([1.0, 2.0])
    assert torch.allclose(slerp(z0, 3 * z0, 0.5), lerp(z0, 3 * z0, 0.5))


def test_interpolation_path_stacks_even_steps():
    z0, z1 = torch.zeros(2, 2), torch.ones(2, 2)
    path = interpolation_path(z0, z1, 5)
    assert path.shape == (5, 2, 2)
    assert path[:, 0, 0].tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1])
    with pytest.raises(ValueError, match="kind"):
        interpolation_path(z0, z1, 5, kind="cubic")


def test_a_straight_crossfade_is_as_short_as_the_direct_distance_and_a_detour_is_longer():
    g = torch.Generator().manual_seed(3)
    a, b = -40 * torch.rand(8, 10, generator=g), -40 * torch.rand(8, 10, generator=g)  # dB
    straight = interpolation_path(a, b, 9)
    steps = path_steps_db(straight)
    assert steps.shape == (8,)
    assert float(steps.sum()) == pytest.approx(direct_distance_db(straight), rel=1e-5)
    assert torch.allclose(steps, steps.mean().expand(8), rtol=1e-4)  # no floor reached: even steps
    detour = straight.clone()
    detour[4] = detour[4] + 10  # the middle point pushed 10 dB up
    assert float(path_steps_db(detour).sum()) > float(steps.sum()) + 1
    there_and_back = torch.stack([a, a + 10, a])  # 10 dB out and 10 dB back to where it started
    assert path_steps_db(there_and_back).tolist() == pytest.approx([10.0, 10.0])
    assert direct_distance_db(there_and_back) == 0.0


def test_path_steps_share_one_floor_so_silence_does_not_count():
    quiet = torch.full((4, 6), -200.0)
    loud = torch.zeros(4, 6)
    path = torch.stack([loud, quiet, quiet + 50])  # the last two are both far below the 80 dB floor
    assert path_steps_db(path).tolist() == pytest.approx([80.0, 0.0])


def test_interpolation_widget_has_a_slider_an_image_and_a_player_and_a_stable_repr():
    from minidcae.teach.viz import InterpolationWidget

    calls = []

    def render(t):
        calls.append(t)
        return torch.full((64, 20), t * 2 - 1), torch.sin(torch.arange(4096) * (0.05 + 0.1 * t))

    w = InterpolationWidget(render, DEFAULT_MEL, steps=4, ends=("violin", "piano"))
    first = (w.image.value, w.audio.value)
    assert first[0][:4] == b"\x89PNG" and first[1][:4] == b"OggS"
    w.slider.value = 0.5
    assert calls == [0.0, 0.5] and w.image.value != first[0] and w.caption.value == "50% violin, 50% piano"
    w.slider.value = 0.0  # rendered before: kept, not rendered again
    assert calls == [0.0, 0.5] and w.image.value == first[0]
    assert repr(w) == "InterpolationWidget('violin' -> 'piano', 4 steps)"
    assert w._repr_mimebundle_()["text/plain"] == repr(w)


def test_latent_stats_match_a_hand_worked_latent():
    # 4 frames of C * F = 2 * 2 numbers: frame t = a_t e_(c0,f0) + b_t e_(c1,f1), a and b orthogonal, mean 0.
    a, b = torch.tensor([2.0, -2, 2, -2]), torch.tensor([1.0, 1, -1, -1])
    tokens = torch.zeros(4, 4)
    tokens[:, 0], tokens[:, 3] = a, b
    z = rearrange(tokens, "(b t) (c f) -> b c f t", b=1, c=2)  # (1, 2, 2, 4)
    stats = latent_stats(z)
    # channel 0 holds a and four zeros: var = (4 * 4) / 8 = 2; channel 1: (4 * 1) / 8 = 0.5
    assert stats["channel_variance"] == pytest.approx([2.0, 0.5])
    # the variances along the two directions are 4 and 1: shares 0.8 and 0.2; both needed for 95%
    assert stats["explained_variance_ratio"] == pytest.approx([0.8, 0.2, 0, 0], abs=1e-6)
    assert stats["pca_components_95"] == 2


def test_latent_stats_count_directions_and_more_as_noise_grows():
    g = torch.Generator().manual_seed(8)
    u, v = torch.randn(2, 16, generator=g)  # two fixed directions in C * F = 4 * 4 numbers
    a, b = torch.randn(2, 3 * 50, 1, generator=g)  # independent amounts, 3 clips x 50 frames
    tokens = a * u + b * v  # (150, 16)
    counts = []
    for level in (1e-3, 0.3, 3.0):
        noisy = tokens + level * torch.randn(tokens.shape, generator=g)  # (150, 16)
        z = rearrange(noisy, "(b t) (c f) -> b c f t", b=3, c=4)  # (3, 4, 4, 50)
        counts.append(latent_stats(z)["pca_components_95"])
    assert counts[0] == 2 and counts == sorted(counts) and counts[-1] > 2, counts
