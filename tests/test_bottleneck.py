import math

import torch

from minidcae.models.bottleneck import KLBottleneck, PlainBottleneck, VQBottleneck


def test_plain_passes_through():
    h = torch.randn(2, 4, 3, 5)
    z, aux = PlainBottleneck()(h)
    assert torch.equal(z, h) and aux == {}


def test_kl_matches_the_closed_form_and_is_zero_for_a_standard_normal():
    kl = KLBottleneck(weight=1.0).train()
    mu, logvar = torch.full((1, 2, 1, 1), 0.5), torch.full((1, 2, 1, 1), math.log(4.0))
    _, aux = kl(torch.cat([mu, logvar], dim=1))
    # KL(N(0.5, 4) || N(0, 1)) = 0.5 * (0.25 + 4 - 1 - ln 4)
    assert math.isclose(float(aux["kl"]), 0.5 * (0.25 + 4 - 1 - math.log(4)), rel_tol=1e-5)
    _, aux = kl(torch.zeros(1, 4, 2, 2))
    assert float(aux["kl"]) == 0.0
    assert torch.equal(kl.eval()(torch.cat([mu, logvar], 1))[0], mu)  # eval: the mean, no noise


def test_vq_snaps_to_the_nearest_code_and_passes_gradients_straight_through():
    vq = VQBottleneck(channels=2, codebook_size=3)
    with torch.no_grad():
        vq.codebook.weight.copy_(torch.tensor([[0.0, 0.0], [1.0, 1.0], [-1.0, 2.0]]))
    h = torch.tensor([[0.9, 1.2], [-0.8, 1.7], [0.1, -0.1]]).T.reshape(1, 2, 1, 3).requires_grad_(True)
    z, aux = vq(h)
    assert torch.equal(z.detach().reshape(2, 3).T, torch.tensor([[1.0, 1.0], [-1.0, 2.0], [0.0, 0.0]]))
    z.sum().backward()
    assert torch.equal(h.grad, torch.ones_like(h))  # straight-through estimator
    assert float(aux["codebook_usage"]) == 1.0
    assert math.isclose(float(aux["perplexity"]), 3.0, rel_tol=1e-4)  # three codes used equally
