"""Flow matching: learn to move noise to data along straight lines.

    x_t = (1 - t) x0 + t x1      t in [0, 1]: x0 ~ N(0, I) is noise (t = 0), x1 is data (t = 1)
    v   = x1 - x0                the velocity along that straight line: what the network predicts

    shift_time             move times towards the noise: sigma' = s sigma / (1 + (s - 1) sigma), sigma = 1 - t
    sample_t               training times: logit-normal, shifted towards the noisy end (ACE-Step: shift 3)
    interpolate            x_t from noise, data and t
    flow_matching_loss     mean || v_theta(x_t, t) - (x1 - x0) ||^2

A velocity is any callable velocity(x, t) -> tensor shaped like x, where t is a float or a per-sample tensor of
shape (batch,): the network, or a closed-form field in the tests and notebook 07's 2D toy. Integrating it from
noise to data (Euler, Heun, the time grid with the same shift) is minidcae.generation.samplers; guidance is
minidcae.generation.guidance. Taught in notebook 07 (latent diffusion).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Velocity = Callable[[torch.Tensor, "float | torch.Tensor"], torch.Tensor]


def shift_time(t: torch.Tensor, shift: float) -> torch.Tensor:
    """Move times towards the noise. With sigma = 1 - t the noise level, as in SD3 and ACE-Step:
    sigma' = shift sigma / (1 + (shift - 1) sigma). shift = 1 changes nothing; shift 3 spends more
    of the training (and of the sampling steps) where the clip is still mostly noise."""
    sigma = 1 - t
    return 1 - shift * sigma / (1 + (shift - 1) * sigma)


def sample_t(
    n: int,
    shift: float = 1.0,
    mean: float = 0.0,
    std: float = 1.0,
    generator: torch.Generator | None = None,
    device=None,
) -> torch.Tensor:
    """(n,) training times: t = sigmoid(mean + std * e), e ~ N(0, 1), then shift_time."""
    e = torch.randn(n, generator=generator, device=device)  # (n,)
    return shift_time(torch.sigmoid(mean + std * e), shift)  # (n,), in (0, 1)


def _per_sample(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """(B,) -> (B, 1, 1, ...) so it broadcasts against x."""
    return t.reshape(-1, *([1] * (x.dim() - 1)))


def interpolate(x0: torch.Tensor, x1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """x_t = (1 - t) x0 + t x1 for t of shape (B,)."""
    t = _per_sample(t, x1)
    return (1 - t) * x0 + t * x1


def flow_matching_loss(
    velocity: Velocity, x1: torch.Tensor, shift: float = 1.0, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Mean squared error between the predicted velocity at a random (x_t, t) and x1 - x0.

    The best possible prediction is E[x1 - x0 | x_t]: the average direction of all the straight
    lines through x_t. Following it moves the whole noise distribution onto the data distribution."""
    x0 = torch.randn(x1.shape, generator=generator, device=x1.device, dtype=x1.dtype)  # noise, like x1
    t = sample_t(x1.shape[0], shift, generator=generator, device=x1.device)  # (B,)
    x_t = interpolate(x0, x1, t)  # (B, ...)
    return (velocity(x_t, t) - (x1 - x0)).square().mean()
