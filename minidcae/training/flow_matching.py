"""Flow matching: learn to move noise to data along straight lines, then integrate the motion.

    x_t = (1 - t) x0 + t x1      t in [0, 1]: x0 ~ N(0, I) is noise (t = 0), x1 is data (t = 1)
    v   = x1 - x0                the velocity along that straight line: what the network predicts

    sample_t               training times: logit-normal, shifted towards the noisy end (ACE-Step: shift 3)
    interpolate            x_t from noise, data and t
    flow_matching_loss     mean || v_theta(x_t, t) - (x1 - x0) ||^2
    time_grid              the sampling times 0 = t_0 < ... < t_n = 1, with the same shift
    euler_step             x <- x + h v(x, t)                                   one network call a step
    heun_step              Euler's guess, then the average of the slopes at both ends   two calls a step
    euler_sample           euler_step from t = 0 to t = 1 along time_grid
    heun_sample            heun_step from t = 0 to t = 1 along time_grid
    guided                 classifier-free guidance: v_uncond + scale (v_cond - v_uncond)
    apg                    adaptive projected guidance: the update's norm capped, its part along v_cond dropped
    Momentum               APG's running average of the update across steps (ACE-Step: momentum -0.75)
    apg_guided             guided's APG twin, keeping its momentum across calls

A velocity is any callable velocity(x, t) -> tensor shaped like x, where t is a float or a
per-sample tensor of shape (batch,). The samplers never look inside it: a closed-form velocity
(tests, notebook 07's 2D toy) and the transformer are used the same way.
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


def time_grid(steps: int, shift: float = 1.0) -> list[float]:
    """steps + 1 times from 0 (noise) to 1 (data); shift > 1 takes smaller steps near the noise."""
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}")
    return shift_time(torch.linspace(0, 1, steps + 1, dtype=torch.float64), shift).tolist()


def euler_step(velocity: Velocity, x: torch.Tensor, t: float, t_next: float) -> torch.Tensor:
    """One Euler step of dx/dt = v(x, t) from t to t_next (x: any shape, returned the same shape).
    It follows the slope at the start for the whole step: exact only if the path is straight."""
    # x_{t + h} = x_t + h v(x_t, t),  h = t_next - t
    return x + (t_next - t) * velocity(x, t)


def heun_step(velocity: Velocity, x: torch.Tensor, t: float, t_next: float) -> torch.Tensor:
    """One Heun step from t to t_next: an Euler step to guess the end, then the average of the
    slopes at the start and at that guess (the trapezoid rule). Two velocity calls."""
    h = t_next - t
    d1 = velocity(x, t)  # the slope where we stand, shaped like x
    d2 = velocity(x + h * d1, t_next)  # the slope at Euler's guess of the end
    # x_{t + h} = x_t + h (d1 + d2) / 2
    return x + h * (d1 + d2) / 2


@torch.no_grad()
def euler_sample(velocity: Velocity, x0: torch.Tensor, steps: int, shift: float = 1.0) -> torch.Tensor:
    """Integrate dx/dt = v(x, t) from t = 0 (x0, noise) to t = 1 with Euler steps: x <- x + h v(x, t)."""
    grid, x = time_grid(steps, shift), x0
    for t, t_next in zip(grid[:-1], grid[1:]):
        x = euler_step(velocity, x, t, t_next)
    return x


@torch.no_grad()
def heun_sample(velocity: Velocity, x0: torch.Tensor, steps: int, shift: float = 1.0) -> torch.Tensor:
    """Heun's method (second order): d1 = v(x, t); x' = x + h d1; d2 = v(x', t + h); x <- x + h (d1 + d2) / 2.

    Twice the network calls of Euler per step, and an error that shrinks 4x (not 2x) when the
    steps double."""
    grid, x = time_grid(steps, shift), x0
    for t, t_next in zip(grid[:-1], grid[1:]):
        x = heun_step(velocity, x, t, t_next)
    return x


def guided(velocity_cond: Velocity, velocity_uncond: Velocity, scale: float) -> Velocity:
    """Classifier-free guidance: v = v_u + scale (v_c - v_u). scale 1 is the conditional model as
    trained; scale > 1 pushes further in the direction the condition adds."""

    def velocity(x, t):
        v_u = velocity_uncond(x, t)
        return v_u + scale * (velocity_cond(x, t) - v_u)

    return velocity


class Momentum:
    """APG's running average of the guidance direction: a <- d + momentum a. ACE-Step uses momentum
    -0.75: a negative momentum subtracts part of the last step's direction, damping what repeats."""

    def __init__(self, momentum: float = -0.75):
        self.momentum = momentum
        self.average: torch.Tensor | float = 0.0

    def update(self, d: torch.Tensor) -> torch.Tensor:
        # a_k = d_k + momentum a_{k-1}
        self.average = d + self.momentum * self.average
        return self.average


def apg(
    v_cond: torch.Tensor,
    v_uncond: torch.Tensor,
    scale: float,
    momentum: Momentum | None = None,
    norm_threshold: float = 2.5,
    eta: float = 0.0,
    dims: tuple[int, ...] = (-1, -2),
) -> torch.Tensor:
    """Adaptive projected guidance (APG, arXiv 2410.02416; ACE-Step's default) for one call, v_cond and
    v_uncond (B, C, F, T) -> guided velocity (B, C, F, T). Norms and projections are taken over `dims`
    (ACE-Step: the last two, so each channel of each clip on its own).

    d = v_c - v_u                   what the condition adds (CFG adds (scale - 1) d to v_c)
    d <- d + momentum a             a running average across the sampling steps
    d <- d min(1, r / ||d||)        its norm capped at r = norm_threshold
    d = d_par + d_orth              split along v_c: d_par = (d . u) u, u = v_c / ||v_c||
    v = v_c + (scale - 1) (d_orth + eta d_par)
    eta 0 drops the part of the update parallel to the prediction, which is what oversaturates."""
    d = v_cond - v_uncond  # (B, C, F, T)
    if momentum is not None:
        d = momentum.update(d)  # (B, C, F, T)
    if norm_threshold > 0:
        # d <- d min(1, r / ||d||)
        d = d * torch.clamp(norm_threshold / d.norm(dim=dims, keepdim=True), max=1.0)  # (B, C, F, T)
    d64, c64 = d.double(), v_cond.double()
    # u = v_c / ||v_c||;  d_par = (d . u) u
    u = c64 / c64.norm(dim=dims, keepdim=True).clamp(min=1e-12)  # (B, C, F, T)
    d_par = (d64 * u).sum(dim=dims, keepdim=True) * u  # (B, C, F, T)
    d_orth = d64 - d_par  # (B, C, F, T)
    # v = v_c + (scale - 1) (d_orth + eta d_par)
    return v_cond + (scale - 1) * (d_orth + eta * d_par).to(v_cond.dtype)


def apg_guided(
    velocity_cond: Velocity,
    velocity_uncond: Velocity,
    scale: float,
    momentum: float = -0.75,
    norm_threshold: float = 2.5,
    eta: float = 0.0,
) -> Velocity:
    """guided's APG twin: a velocity that combines the two with apg, keeping its momentum across calls
    (make a new one for every sample). ACE-Step's defaults: momentum -0.75, norm threshold 2.5, eta 0."""
    buffer = Momentum(momentum)

    def velocity(x, t):
        return apg(velocity_cond(x, t), velocity_uncond(x, t), scale, buffer, norm_threshold, eta)

    return velocity
