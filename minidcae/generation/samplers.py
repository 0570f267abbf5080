"""Samplers: integrate a velocity field from noise (t = 0) to data (t = 1), one step along each interval of a grid.

    time_grid       the sampling times 0 = t_0 < ... < t_n = 1, shifted as training shifted its times
    euler_step      x <- x + h v(x, t)                                                one velocity call a step
    heun_step       Euler's guess, then the average of the slopes at both ends        two calls a step
    stepper         a sampler's name ("euler", "heun") -> its step
    StepAware       a velocity told which step it serves (guidance that changes from step to step)
    integrate       the one loop every sampler and every edit runs: a step per interval, then after_step
    euler_sample    integrate with Euler steps from t = 0 to 1
    heun_sample     integrate with Heun steps from t = 0 to 1

A velocity is any callable velocity(x, t) -> tensor shaped like x, where t is a float or a per-sample tensor of
shape (batch,). The samplers never look inside it: a closed-form velocity (tests, notebook 07's 2D toy) and the
transformer are used the same way. Training the velocity is minidcae.training.flow_matching; combining a
conditional and an unconditional velocity (cfg, APG, ACE-Step's guidance interval) is minidcae.generation.guidance;
an edit is integrate with an after_step that puts the kept frames back (minidcae.generation.editing).
Taught in notebook 07 (latent diffusion).
"""

from __future__ import annotations

from collections.abc import Callable

import torch

from minidcae.training.flow_matching import Velocity, shift_time


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


SAMPLERS = {"euler": euler_step, "heun": heun_step}


def stepper(name: str) -> Callable[[Velocity, torch.Tensor, float, float], torch.Tensor]:
    """The step of the sampler called `name`: step(velocity, x, t, t_next) -> x at t_next."""
    if name not in SAMPLERS:
        raise ValueError(f"sampler must be {' or '.join(SAMPLERS)}, got {name!r}")
    return SAMPLERS[name]


class StepAware:
    """A velocity whose field depends on the step it serves, not only on (x, t): guidance that is on for some steps
    and off for others, APG's momentum that moves once a step. integrate calls begin(k, n) before the velocity
    calls of step k of n (Heun makes two calls in a step; both belong to it). Called outside integrate, it is at
    step 0 of 1."""

    step, steps = 0, 1

    def begin(self, step: int, steps: int) -> None:
        self.step, self.steps = step, steps


@torch.no_grad()
def integrate(
    velocity: Velocity,
    x: torch.Tensor,
    grid: list[float],
    sampler: str = "euler",
    start: int = 0,
    after_step: Callable[[torch.Tensor, float], torch.Tensor] | None = None,
) -> torch.Tensor:
    """Integrate dx/dt = v(x, t) from grid[start] (where x is) to grid[-1]: for each interval (t_k, t_k+1) one step
    of `sampler`, then x <- after_step(x, t_k+1) if given (an edit puts the kept frames back there).

    start > 0 skips the first intervals (a repaint at a strength below 1) but keeps numbering the steps from the
    whole grid, so a StepAware velocity sees step k of n = len(grid) - 1 whatever was skipped.
    x: any shape, returned the same shape."""
    step = stepper(sampler)
    n = len(grid) - 1
    for k in range(start, n):
        if isinstance(velocity, StepAware):
            velocity.begin(k, n)
        x = step(velocity, x, grid[k], grid[k + 1])
        if after_step is not None:
            x = after_step(x, grid[k + 1])
    return x


def euler_sample(velocity: Velocity, x0: torch.Tensor, steps: int, shift: float = 1.0) -> torch.Tensor:
    """Euler steps from t = 0 (x0, noise) to t = 1 along time_grid(steps, shift): x <- x + h v(x, t)."""
    return integrate(velocity, x0, time_grid(steps, shift), "euler")


def heun_sample(velocity: Velocity, x0: torch.Tensor, steps: int, shift: float = 1.0) -> torch.Tensor:
    """Heun's method (second order) from t = 0 to t = 1: d1 = v(x, t); x' = x + h d1; d2 = v(x', t + h);
    x <- x + h (d1 + d2) / 2. Twice the network calls of Euler per step, and an error that shrinks 4x (not 2x)
    when the steps double."""
    return integrate(velocity, x0, time_grid(steps, shift), "heun")
