"""Guidance: how a conditional and an unconditional velocity combine, and on which sampling steps.

    guided           classifier-free guidance on two velocities: v_u + scale (v_c - v_u)
    Momentum         APG's running average of the update, moved once a sampling step (ACE-Step: momentum -0.75)
    apg              adaptive projected guidance for one call: the update's norm capped, its part along v_c dropped
    GuidanceWindow   ACE-Step's guidance interval: guide only the middle steps, the scale falling to a minimum
    Guided           the velocity integrate runs: v_c alone outside the window, guided at the step's scale inside

The prompts' own velocities (one batch of 2B through the transformer) are minidcae.generation.sampling's
prompt_velocity; the loop that tells a Guided velocity its step is minidcae.generation.samplers.integrate.
Taught in notebook 08 (conditioning: cfg) and notebook 12 (editing: APG against CFG, the guidance window).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from minidcae.core.errors import MinidcaeError
from minidcae.generation.samplers import StepAware
from minidcae.training.flow_matching import Velocity


def guided(velocity_cond: Velocity, velocity_uncond: Velocity, scale: float) -> Velocity:
    """Classifier-free guidance: v = v_u + scale (v_c - v_u). scale 1 is the conditional model as
    trained; scale > 1 pushes further in the direction the condition adds."""

    def velocity(x, t):
        v_u = velocity_uncond(x, t)
        return v_u + scale * (velocity_cond(x, t) - v_u)

    return velocity


class Momentum:
    """APG's running average of the guidance direction across the sampling steps: a_k = d_k + momentum a_{k-1}.
    ACE-Step uses momentum -0.75: a negative momentum subtracts part of the last step's direction, damping what
    repeats.

    update(d, step): the first call of step k moves the average; a later call of the same step (Heun's slope at
    its guess of the end) adds the same history a_{k-1} to its own d and leaves the average alone, so a step
    moves it once whatever the sampler. step None moves it at every call (apg_guidance.py's MomentumBuffer,
    which ACE-Step's loop calls once per network call)."""

    def __init__(self, momentum: float = -0.75):
        self.momentum = momentum
        self.average: torch.Tensor | float = 0.0  # a_k
        self.previous: torch.Tensor | float = 0.0  # a_{k-1}: the history the calls of step k add
        self.step: int | None = None

    def update(self, d: torch.Tensor, step: int | None = None) -> torch.Tensor:
        if step is not None and step == self.step:
            # a later call of step k: d + momentum a_{k-1}
            return d + self.momentum * self.previous
        self.previous, self.step = self.average, step
        # a_k = d_k + momentum a_{k-1}
        self.average = d + self.momentum * self.previous
        return self.average


def apg(
    v_cond: torch.Tensor,
    v_uncond: torch.Tensor,
    scale: float,
    momentum: Momentum | None = None,
    norm_threshold: float = 2.5,
    eta: float = 0.0,
    dims: tuple[int, ...] = (-1, -2),
    step: int | None = None,
) -> torch.Tensor:
    """Adaptive projected guidance (APG, arXiv 2410.02416; ACE-Step's default) for one call, v_cond and
    v_uncond (B, C, F, T) -> guided velocity (B, C, F, T). Norms and projections are taken over `dims`
    (ACE-Step: the last two, so each channel of each clip on its own). step: the sampling step, for Momentum.

    d = v_c - v_u                   what the condition adds (CFG adds (scale - 1) d to v_c)
    d <- d + momentum a             a running average across the sampling steps
    d <- d min(1, r / ||d||)        its norm capped at r = norm_threshold
    d = d_par + d_orth              split along v_c: d_par = (d . u) u, u = v_c / ||v_c||
    v = v_c + (scale - 1) (d_orth + eta d_par)
    eta 0 drops the part of the update parallel to the prediction, which is what oversaturates."""
    d = v_cond - v_uncond  # (B, C, F, T)
    if momentum is not None:
        d = momentum.update(d, step)  # (B, C, F, T)
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


@dataclass(frozen=True)
class GuidanceWindow:
    """ACE-Step's guidance interval (pipeline_ace_step.py): of n steps, guide only steps start <= k < end, with
    start = int(n (1 - interval) / 2) and end = int(n (interval / 2 + 0.5)). interval 1 guides every step, 0.5
    the middle half (30 steps: 7 to 21), 0 none. Inside, the scale falls in a straight line from the full scale
    at the window's first step: s_k = scale - (scale - min_scale) decay (k - start) / (end - start - 1), so with
    decay 1 it reaches min_scale at the last guided step. Outside, the conditional velocity alone (one network
    call, not two) and APG's momentum stays where it is. ACE-Step's defaults: interval 0.5, decay 0 (a constant
    scale), min_scale 3 under a scale of 15."""

    interval: float = 1.0
    decay: float = 0.0
    min_scale: float = 1.0

    def __post_init__(self):
        meaning = {
            "interval": "the share of the steps guided: 1 every step, 0.5 the middle half as ACE-Step",
            "decay": "how far the scale falls towards min_scale: 0 not at all, 1 all the way",
        }
        for name, value in (("interval", self.interval), ("decay", self.decay)):
            if not 0.0 <= value <= 1.0:
                raise MinidcaeError(f"guidance {name} {value:g} is not between 0 and 1; give {meaning[name]}")

    def bounds(self, steps: int) -> tuple[int, int]:
        """(start, end): the steps start <= k < end are guided."""
        return int(steps * ((1 - self.interval) / 2)), int(steps * (self.interval / 2 + 0.5))

    def scale_at(self, step: int, steps: int, scale: float) -> float | None:
        """The guidance scale of step `step` of `steps`, or None outside the window (the conditional alone)."""
        start, end = self.bounds(steps)
        if not start <= step < end:
            return None
        progress = (step - start) / (end - start - 1) if end - start > 1 else 0.0  # 0 at the first guided step
        # s_k = scale - (scale - min_scale) decay progress
        return scale - (scale - self.min_scale) * progress * self.decay


class Guided(StepAware):
    """A guided velocity for integrate: at step k of n, s = window.scale_at(k, n, scale); outside the window
    conditional(x, t) alone, inside guide(x, t, s, k) (cfg or apg on the two velocities; k lets APG's momentum
    move once a step). Called outside integrate it is at step 0 of 1, which every window of interval 1 guides."""

    def __init__(
        self,
        conditional: Velocity,
        guide: Callable[[torch.Tensor, float | torch.Tensor, float, int], torch.Tensor],
        scale: float,
        window: GuidanceWindow | None = None,
    ):
        self.conditional, self.guide, self.scale = conditional, guide, scale
        self.window = window or GuidanceWindow()

    def __call__(self, x: torch.Tensor, t) -> torch.Tensor:
        s = self.window.scale_at(self.step, self.steps, self.scale)
        return self.conditional(x, t) if s is None else self.guide(x, t, s, self.step)
