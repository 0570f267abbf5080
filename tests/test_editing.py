"""Edits as masks on the sampling ODE, checked where the answer is exact by construction: the kept frames
end on the original latent itself, a retake at angle 0 is the clip, and the mask's ramp is the one written out."""

import math

import pytest
import torch

from minidcae.core.config import SHIPPED_TRANSFORMER
from minidcae.core.errors import MinidcaeError
from minidcae.generation.editing import extend, keep_mask, masked_sample, repaint, span_frames
from minidcae.generation.samplers import time_grid
from minidcae.generation.sampling import retake, retake_noise, sample_latents
from minidcae.measure.editing import seam_jumps
from minidcae.models.transformer import load_transformer

FRAMES, STEPS = 12, 3


@pytest.fixture(scope="module")
def model():
    torch.set_num_threads(1)
    return load_transformer(SHIPPED_TRANSFORMER)[0]


def latent(model, n=2, seed=5):
    c = model.cfg
    return torch.randn(n, c.latent_channels, c.latent_rows, FRAMES, generator=torch.Generator().manual_seed(seed))


def test_keep_mask_is_the_ramp_written_out():
    assert keep_mask(8, 2, 6, 0).tolist() == [1, 1, 0, 0, 0, 0, 1, 1]
    assert keep_mask(8, 2, 6, 1).tolist() == [1, 1, 0.5, 0, 0, 0.5, 1, 1]
    # w_i = 1 - (i + 1) / (margin + 1); the clip's own end gets no ramp
    assert torch.allclose(keep_mask(8, 3, 8, 2), torch.tensor([1, 1, 1, 2 / 3, 1 / 3, 0, 0, 0]))
    with pytest.raises(MinidcaeError, match="0 or more latent frames, got -1"):
        keep_mask(8, 2, 6, -1)


def test_masked_sample_with_zero_velocity_blends_noise_and_reference_by_hand():
    # v = 0: the sample stays at its noise n; kept frames end at the reference r, a frame kept at w ends at
    # w r + (1 - w) n after the last step (t = 1), where the reference's path is r itself
    n, r = torch.randn(1, 1, 1, 4), torch.randn(1, 1, 1, 4)
    keep = torch.tensor([1.0, 0.5, 0.0, 1.0])
    out = masked_sample(lambda x, t: torch.zeros_like(x), n, r, keep, steps=1)
    assert torch.allclose(out, keep * r + (1 - keep) * n)


def test_a_crossfade_blended_every_step_compounds_into_a_hard_edge():
    # v = 0 again. Blended once at the end, the frame kept at 0.5 ends halfway between noise and reference;
    # blended by 0.5 after each of 30 steps it ends almost on the reference: the weights compound
    n, r = torch.randn(1, 1, 1, 3), torch.randn(1, 1, 1, 3)
    keep = torch.tensor([1.0, 0.5, 0.0])
    once = masked_sample(lambda x, t: torch.zeros_like(x), n, r, keep, steps=30)
    every = masked_sample(lambda x, t: torch.zeros_like(x), n, r, keep, steps=30, crossfade="every_step")
    assert torch.allclose(once, keep * r + (1 - keep) * n)
    share = (every[..., 1] - n[..., 1]) / (r[..., 1] - n[..., 1])  # how much of the reference the frame holds
    assert share.item() > 0.9
    assert torch.equal(every[..., 0], r[..., 0]) and torch.equal(every[..., 2], n[..., 2])
    with pytest.raises(MinidcaeError, match="crossfade must be"):
        masked_sample(lambda x, t: torch.zeros_like(x), n, r, keep, steps=2, crossfade="sometimes")


def test_strength_skips_the_first_steps_and_starts_on_the_originals_path():
    # v = 0: nothing moves after the start. At strength s the sample starts at x_ref(t_start) = (1 - t) n + t r for
    # the first time left, so a regenerated frame ends there; strength 1 starts from the noise, 0 returns r
    n, r = torch.randn(1, 1, 1, 3), torch.randn(1, 1, 1, 3)
    keep = torch.tensor([1.0, 0.0, 0.0])
    still = lambda x, t: torch.zeros_like(x)  # noqa: E731
    t_start = time_grid(10, 3.0)[5]  # strength 0.5 of 10 steps skips 5
    half = masked_sample(still, n, r, keep, steps=10, strength=0.5)
    assert torch.allclose(half[..., 1:], ((1 - t_start) * n + t_start * r)[..., 1:]) and torch.equal(
        half[..., 0], r[..., 0]
    )
    assert torch.equal(masked_sample(still, n, r, keep, steps=10, strength=1.0)[..., 1:], n[..., 1:])
    assert torch.equal(masked_sample(still, n, r, keep, steps=10, strength=0.0), r)
    with pytest.raises(MinidcaeError, match="between 0 and 1"):
        masked_sample(still, n, r, keep, steps=2, strength=1.5)


def test_repaint_at_strength_0_is_the_original_and_an_extension_refuses_a_strength(model):
    z = latent(model)
    # no step runs; the crossfade's w r + (1 - w) r is r up to rounding
    assert torch.allclose(
        repaint(model, z, ["happy piano", "sad violin"], 4, 8, steps=STEPS, strength=0.0), z, atol=1e-6
    )
    with pytest.raises(MinidcaeError, match="strength is for repainting"):
        extend(model, z, ["happy piano", "sad violin"], 5, steps=STEPS, strength=0.5)


def test_repaint_with_margin_0_ends_exactly_on_the_original_outside_the_span(model):
    z = latent(model)
    out = repaint(model, z, ["happy piano", "sad violin"], 4, 8, steps=STEPS, margin=0, seed=1)
    assert out.shape == z.shape
    assert torch.equal(out[..., :4], z[..., :4]) and torch.equal(out[..., 8:], z[..., 8:])
    assert (out[..., 4:8] - z[..., 4:8]).abs().mean() > 0.1  # the span is new


def test_extend_keeps_the_first_part_and_adds_the_asked_frames(model):
    z = latent(model)
    out = extend(model, z, ["happy piano", "sad violin"], 5, margin=2, steps=STEPS, seed=1)
    assert out.shape == (*z.shape[:-1], FRAMES + 5)
    assert torch.equal(out[..., : FRAMES - 2], z[..., : FRAMES - 2])  # the crossfade is on the last 2 kept frames
    with pytest.raises(MinidcaeError, match="at least one latent frame"):
        extend(model, z, ["happy piano", "sad violin"], 0, steps=STEPS)


def test_retake_at_angle_0_is_the_clip_and_at_pi_over_2_the_other_noises_clip(model):
    prompts = ["happy piano", "sad violin"]
    clip = sample_latents(model, prompts, FRAMES, steps=STEPS, seed=3)
    assert torch.equal(retake(model, prompts, FRAMES, 0.0, seed=3, steps=STEPS), clip)
    other = sample_latents(model, prompts, FRAMES, steps=STEPS, seed=4)  # seed + 1 is the default retake noise
    assert torch.allclose(retake(model, prompts, FRAMES, math.pi / 2, seed=3, steps=STEPS), other, atol=1e-5)
    small = retake(model, prompts, FRAMES, 0.1, seed=3, steps=STEPS)
    assert 0 < (small - clip).abs().mean() < (other - clip).abs().mean()


def test_retake_noise_stays_standard_normal_with_correlation_cos_a():
    g = torch.Generator().manual_seed(0)
    n1, n2 = torch.randn(200_000, generator=g), torch.randn(200_000, generator=g)
    for a in (0.0, math.pi / 6, math.pi / 3, math.pi / 2):
        n = retake_noise(n1, n2, a)
        assert abs(float(n.std()) - 1) < 0.01
        assert abs(float((n * n1).mean()) - math.cos(a)) < 0.01  # corr(n, n1) = cos(a)


def test_span_frames_refuses_empty_reversed_and_outside_spans():
    assert span_frames(1.0, 2.0, 33, 11.0) == (11, 22)
    for start, end in ((2.0, 2.0), (2.0, 1.0), (-0.5, 1.0), (1.0, 3.5), (0.0, 0.01)):
        with pytest.raises(MinidcaeError, match="span"):
            span_frames(start, end, 33, 11.0)


def test_seam_jumps_by_hand():
    # a mel that steps from 0 to 1 at frame 3 and is flat elsewhere: the seam is 1, every other change 0
    m = torch.zeros(1, 1, 2, 6)
    m[..., 3:] = 1.0
    seams, others = seam_jumps(m, [3])
    assert seams.tolist() == [[1.0]] and others.abs().sum() == 0 and others.shape == (1, 4)
