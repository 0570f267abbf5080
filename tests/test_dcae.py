import pytest
import torch

from minidcae.core.config import ACE_FULL_DCAE, ACE_GEOMETRY_DCAE, DEFAULT_DCAE, DCAEConfig
from minidcae.models.dcae import (
    ACE_STEP_LATENT_SCALE,
    ACE_STEP_LATENT_SHIFT,
    DCAE,
    ace_step_denormalize_latent,
    ace_step_normalize_latent,
    channel_to_space,
    compute_latent_stats,
    count_parameters,
    space_to_channel,
)


def test_space_to_channel_is_pixel_unshuffle_then_group_average():
    x = torch.arange(2 * 4 * 4, dtype=torch.float32).reshape(1, 2, 4, 4)
    y = space_to_channel(x, 2, 2, 8)  # 2 channels x 4 sub-pixels = 8: a pure rearrangement
    assert torch.equal(y, torch.nn.functional.pixel_unshuffle(x, 2))
    halved = space_to_channel(x, 2, 2, 4)  # average neighbouring pairs of those 8 channels
    assert torch.allclose(halved, y.reshape(1, 4, 2, 2, 2).mean(2))


def test_channel_to_space_undoes_space_to_channel_when_nothing_is_averaged():
    x = torch.randn(2, 3, 8, 16)
    assert torch.equal(channel_to_space(space_to_channel(x, 2, 4, 24), 2, 4, 3), x)


def test_shortcuts_refuse_channel_counts_that_do_not_divide():
    # DC-AE's shortcuts assert that whole channel groups are averaged or repeated; so do ours.
    with pytest.raises(ValueError, match="channel_to_space.*48 channels into 64"):
        channel_to_space(torch.randn(1, 48, 2, 2), 2, 2, 16)  # 16 x 2 x 2 = 64 from 48: once gave 12 channels
    with pytest.raises(ValueError, match="space_to_channel.*12 channels into 8"):
        space_to_channel(torch.randn(1, 3, 4, 4), 2, 2, 8)  # 3 x 2 x 2 = 12 down to 8
    with pytest.raises(ValueError, match="space_to_channel.*8 channels into 12"):
        space_to_channel(torch.randn(1, 2, 4, 4), 2, 2, 12)  # 8 up to 12 is not a whole repeat either
    assert channel_to_space(torch.randn(1, 48, 2, 2), 2, 2, 12).shape == (1, 12, 4, 4)  # 48 = 12 x 2 x 2
    assert channel_to_space(torch.randn(1, 8, 2, 2), 2, 2, 4).shape == (1, 4, 4, 4)  # 8 repeated to 16


def test_ace_step_latent_normalisation_is_one_global_shift_and_scale():
    z = torch.randn(2, 8, 16, 32) * 3 - 2
    # ACE-Step's MusicDCAE: latents = (latents - shift_factor) * scale_factor, decode: z / scale + shift
    shift, scale = -1.9091, 0.1786
    assert (ACE_STEP_LATENT_SHIFT, ACE_STEP_LATENT_SCALE) == (shift, scale)
    assert torch.allclose(ace_step_normalize_latent(z), (z + 1.9091) * 0.1786)
    assert torch.allclose(ace_step_denormalize_latent(ace_step_normalize_latent(z)), z, atol=1e-5)
    assert torch.allclose(ace_step_denormalize_latent(z), z / 0.1786 - 1.9091)


@pytest.mark.parametrize("tf,ff", [(1, 1), (2, 1), (4, 2), (8, 4), (16, 8), (8, 16)])
def test_latent_shape_follows_the_factors_for_any_length(tf, ff):
    cfg = DCAEConfig(widths=(4, 8, 8, 8, 8), time_factor=tf, freq_factor=ff, latent_channels=4)
    model = DCAE(cfg)
    x = torch.randn(2, 1, 64, 101)  # 101 frames: not a multiple of anything
    z = model.encode(x)
    assert z.shape == (2, 4, 64 // ff, -(-101 // tf))
    x_hat, _ = model(x)
    assert x_hat.shape == x.shape


def test_presets_have_the_documented_geometry():
    z = DCAE(ACE_GEOMETRY_DCAE).encode(torch.zeros(1, 1, 128, 64))
    assert z.shape == (1, 8, 16, 8)  # ACE-Step's f8c8 on 128 mels
    assert DEFAULT_DCAE.compression(64) == 4.0 and ACE_GEOMETRY_DCAE.compression(64) == 8.0
    full = DCAE(ACE_FULL_DCAE)
    assert full.encode(torch.zeros(1, 2, 128, 16)).shape == (1, 8, 16, 2)
    assert count_parameters(full) > 50 * count_parameters(DCAE(ACE_GEOMETRY_DCAE))


def test_bad_factors_are_refused_with_a_reason():
    with pytest.raises(ValueError, match="time_factor must be"):
        DCAE(DCAEConfig(time_factor=3))
    with pytest.raises(ValueError, match="needs at least 5 widths"):
        DCAE(DCAEConfig(widths=(8, 8, 8, 8), time_factor=16))


def test_shortcuts_switch_removes_only_the_parameter_free_paths():
    on, off = DCAE(DCAEConfig(shortcuts=True)), DCAE(DCAEConfig(shortcuts=False))
    assert count_parameters(on) == count_parameters(off)
    torch.manual_seed(0)
    on = DCAE(DCAEConfig(shortcuts=True))
    torch.manual_seed(0)
    off = DCAE(DCAEConfig(shortcuts=False))
    x = torch.randn(1, 1, 64, 32)
    assert not torch.allclose(on(x)[0], off(x)[0])


def test_latent_stats_normalise_latents_to_zero_mean_unit_std():
    model = DCAE(DEFAULT_DCAE).eval()
    batches = [torch.randn(4, 1, 64, 64) for _ in range(3)]
    compute_latent_stats(model, batches)
    z = torch.cat([model.normalize_latent(model.encode(b)) for b in batches])
    assert torch.allclose(z.mean(dim=(0, 2, 3)), torch.zeros(8), atol=1e-4)
    assert torch.allclose(z.std(dim=(0, 2, 3)), torch.ones(8), atol=1e-2)
    assert torch.allclose(model.denormalize_latent(model.normalize_latent(z)), z, atol=1e-5)
