"""The norm layers that stay in bfloat16 under autocast (minidcae.models.norms): torch's own numbers outside autocast,
the autocast dtype inside it, close to float32 there, and gradients for their weights either way."""

import pytest
import torch
import torch.nn as nn

from minidcae.models.norms import GroupNorm, LayerNorm, RMSNorm

CASES = [
    (GroupNorm, nn.GroupNorm, (4, 16), (3, 16, 8, 10)),
    (LayerNorm, nn.LayerNorm, (16,), (3, 7, 16)),
    (RMSNorm, nn.RMSNorm, (16,), (3, 7, 16)),
]


@pytest.mark.parametrize("ours, theirs, args, shape", CASES)
def test_norm_equals_torch_outside_autocast(ours, theirs, args, shape):
    torch.manual_seed(0)
    a, b = ours(*args), theirs(*args)
    with torch.no_grad():
        for p in a.parameters():
            p.uniform_(0.5, 1.5)
    b.load_state_dict(a.state_dict())  # the same keys: checkpoints load into either
    x = torch.randn(shape)
    assert torch.equal(a(x), b(x))


@pytest.mark.parametrize("ours, theirs, args, shape", CASES)
def test_norm_stays_in_bf16_under_autocast_and_trains(ours, theirs, args, shape):
    torch.manual_seed(0)
    layer = ours(*args)
    x = torch.randn(shape)
    reference = layer(x)  # float32
    with torch.autocast("cpu", torch.bfloat16):
        out = layer(x.bfloat16())
    assert out.dtype == torch.bfloat16  # torch's own layer would hand back float32 (or miss its fused kernel)
    assert (out.float() - reference).abs().max() < 0.05  # bf16 has 8 bits of mantissa: about 1% of a unit value
    out.float().square().mean().backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in layer.parameters())


def test_norms_work_on_the_meta_device():
    """A model is sized on the meta device without memory (notebook 02): the layers must not ask autocast there."""
    for layer, shape in ((GroupNorm(4, 16), (2, 16, 4, 4)), (LayerNorm(16), (2, 16)), (RMSNorm(16), (2, 16))):
        assert layer.to("meta")(torch.empty(shape, device="meta")).shape == shape
