"""Flow matching, checked where the answer is known in closed form: Gaussian noise to Gaussian data.

Noise x0 ~ N(0, 1), data x1 ~ N(mu, sigma^2). Along x_t = (1 - t) x0 + t x1 the marginal is
N(t mu, s(t)^2) with s(t)^2 = (1 - t)^2 + t^2 sigma^2, and the flow that keeps those marginals is
the affine map x_t = t mu + s(t) x0, whose velocity is

    v(x, t) = mu + (t sigma^2 - (1 - t)) / s(t)^2 (x - t mu),

and which ends at x_1 = mu + sigma x0: each noise sample has one exact destination.
"""

import pytest
import torch

from minidcae.core.errors import MinidcaeError
from minidcae.generation.guidance import GuidanceWindow, Guided, Momentum, apg, guided
from minidcae.generation.samplers import (
    StepAware,
    euler_sample,
    euler_step,
    heun_sample,
    heun_step,
    integrate,
    time_grid,
)
from minidcae.training.flow_matching import flow_matching_loss, interpolate, sample_t, shift_time

MU, SIGMA = 2.0, 0.5


def exact_velocity(x, t):
    t = torch.as_tensor(t, dtype=x.dtype).reshape(-1, *([1] * (x.dim() - 1))) if torch.is_tensor(t) else t
    s2 = (1 - t) ** 2 + t**2 * SIGMA**2
    return MU + (t * SIGMA**2 - (1 - t)) / s2 * (x - t * MU)


def noise(n=256):
    return torch.randn(n, 1, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def error(sampler, steps, shift=1.0):
    x0 = noise()
    return (sampler(exact_velocity, x0, steps, shift) - (MU + SIGMA * x0)).abs().max().item()


def test_both_samplers_carry_noise_to_the_exact_destination():
    assert error(euler_sample, 400) < 1e-2
    assert error(heun_sample, 50) < 5e-4
    x1 = heun_sample(exact_velocity, noise(4096), 50)
    assert abs(x1.mean().item() - MU) < 0.05 and abs(x1.std().item() - SIGMA) < 0.05


def test_euler_is_first_order_and_heun_second_order():
    # doubling the steps halves Euler's error and quarters Heun's
    euler = error(euler_sample, 20) / error(euler_sample, 40)
    heun = error(heun_sample, 20) / error(heun_sample, 40)
    assert 1.7 < euler < 2.3
    assert 3.4 < heun < 4.6
    assert error(heun_sample, 10) < error(euler_sample, 20)  # the same 20 network calls


def test_heun_step_is_exact_where_the_slope_changes_linearly_in_t_and_euler_is_not():
    # dx/dt = 2t from x = 0: x(t) = t^2, so one step from 0.2 to 0.7 lands on 0.49 - 0.04 = 0.45
    x = torch.zeros(3, dtype=torch.float64)
    slope = lambda x, t: torch.full_like(x, 2 * t)
    assert torch.allclose(heun_step(slope, x, 0.2, 0.7), torch.full_like(x, 0.45))  # the trapezoid rule is exact
    assert torch.allclose(euler_step(slope, x, 0.2, 0.7), torch.full_like(x, 0.2))  # 0.5 * (2 * 0.2)
    assert torch.equal(euler_step(lambda x, t: x, x + 1, 0.0, 0.5), torch.full_like(x, 1.5))  # x + h x


def test_the_samplers_are_their_steps_repeated_along_the_grid():
    x0, grid = noise(64), time_grid(7, shift=3.0)
    e, h = x0, x0
    for t, t_next in zip(grid[:-1], grid[1:]):
        e, h = euler_step(exact_velocity, e, t, t_next), heun_step(exact_velocity, h, t, t_next)
    assert torch.equal(euler_sample(exact_velocity, x0, 7, 3.0), e)
    assert torch.equal(heun_sample(exact_velocity, x0, 7, 3.0), h)


def test_a_shifted_grid_still_reaches_the_data():
    grid = time_grid(10, shift=3.0)
    assert grid[0] == 0 and grid[-1] == 1 and all(a < b for a, b in zip(grid, grid[1:]))
    assert grid[1] - grid[0] < grid[-1] - grid[-2]  # small steps near the noise
    assert error(heun_sample, 50, shift=3.0) < 1e-3


def test_the_exact_velocity_has_the_lowest_loss():
    x1 = MU + SIGMA * torch.randn(20000, 1, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    best = flow_matching_loss(exact_velocity, x1, generator=torch.Generator().manual_seed(2))
    for wrong in (lambda x, t: exact_velocity(x, t) + 0.2, lambda x, t: 1.1 * exact_velocity(x, t)):
        assert flow_matching_loss(wrong, x1, generator=torch.Generator().manual_seed(2)) > best


def test_interpolation_runs_from_noise_to_data():
    x0, x1 = torch.zeros(3, 2), torch.ones(3, 2)
    assert torch.equal(interpolate(x0, x1, torch.tensor([0.0, 0.25, 1.0]))[:, 0], torch.tensor([0.0, 0.25, 1.0]))


def test_training_times_are_logit_normal_and_the_shift_moves_them_to_the_noise():
    g = torch.Generator().manual_seed(0)
    t = sample_t(50000, generator=g)
    assert 0 < t.min() and t.max() < 1 and abs(t.median().item() - 0.5) < 0.01
    shifted = sample_t(50000, shift=3.0, generator=torch.Generator().manual_seed(0))
    # the median noise level 0.5 becomes 3 * 0.5 / (1 + 2 * 0.5) = 0.75, so t = 0.25
    assert abs(shifted.median().item() - 0.25) < 0.01
    assert shift_time(torch.tensor(0.0), 3.0) == 0 and shift_time(torch.tensor(1.0), 3.0) == 1


def test_guidance_scale_one_is_the_conditional_model_and_zero_the_unconditional():
    cond, uncond = (lambda x, t: x + 1), (lambda x, t: x - 1)
    x = torch.zeros(2)
    assert torch.equal(guided(cond, uncond, 1.0)(x, 0.5), cond(x, 0.5))
    assert torch.equal(guided(cond, uncond, 0.0)(x, 0.5), uncond(x, 0.5))
    assert torch.equal(guided(cond, uncond, 3.0)(x, 0.5), torch.full((2,), 5.0))  # -1 + 3 (1 - (-1))


def test_zero_steps_is_refused():
    with pytest.raises(ValueError, match="steps"):
        euler_sample(exact_velocity, noise(2), 0)


def test_apg_matches_a_hand_computation():
    # d = v_c - v_u = (3, -4), ||d|| = 5, capped at 2.5: (1.5, -2); along v_c = (3, 0): d_par = (1.5, 0),
    # d_orth = (0, -2); v = v_c + (3 - 1) d_orth = (3, -4); with eta 1, v = v_c + 2 (1.5, -2) = (6, -4)
    v_c, v_u = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 4.0]])
    assert torch.allclose(apg(v_c, v_u, 3.0, None, 2.5, 0.0, dims=(-1,)), torch.tensor([[3.0, -4.0]]))
    assert torch.allclose(apg(v_c, v_u, 3.0, None, 2.5, 1.0, dims=(-1,)), torch.tensor([[6.0, -4.0]]))


def test_apg_with_no_cap_no_momentum_and_eta_1_is_cfg_and_momentum_averages_by_hand():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 4, 5, generator=g)
    v_c, v_u = (lambda x, t: 2 * x + 1), (lambda x, t: x - 1)
    assert torch.allclose(apg(v_c(x, 0), v_u(x, 0), 4.0, None, 0.0, 1.0), guided(v_c, v_u, 4.0)(x, 0), atol=1e-5)
    # a_1 = d_1, a_2 = d_2 - 0.75 a_1: the second call guides along d_2 - 0.75 d_1
    buffer, d1, d2 = Momentum(-0.75), torch.randn(1, 1, 2, 3, generator=g), torch.randn(1, 1, 2, 3, generator=g)
    zero = torch.zeros_like(d1)
    apg(d1, zero, 2.0, buffer, 0.0, 1.0)
    assert torch.allclose(apg(d2, zero, 2.0, buffer, 0.0, 1.0), d2 + (d2 - 0.75 * d1), atol=1e-6)


def apg_by_hand(v_c, v_u, scale, momentum, step=None):
    """APG with no cap and eta 1: v_c + (scale - 1) (d + momentum a), written so the momentum is all that is left."""
    return apg(v_c, v_u, scale, momentum, norm_threshold=0.0, eta=1.0, dims=(-1,), step=step)


def test_apg_momentum_moves_once_a_step_under_heun_and_once_a_call_under_euler():
    # v_u = 0 and v_c = 1 + t: the guidance direction is d(t) = 1 + t, whatever x. Two steps on the grid 0, 0.5, 1,
    # scale 2, momentum -0.75; with no cap and eta 1 the guided velocity is v_c + (d + m a_prev) (scale - 1 = 1).
    # Heun, the average moving once a step (on the step's first call):
    #   step 0: call at t 0:   d 1,   a_0 = 1 + 0 = 1;              v = 1 + 1 = 2
    #           call at t 0.5: d 1.5, 1.5 + m 0 = 1.5 (a_0 kept);   v = 1.5 + 1.5 = 3      x = 0 + 0.5 (2 + 3) / 2 = 1.25
    #   step 1: call at t 0.5: d 1.5, a_1 = 1.5 - 0.75 a_0 = 0.75;  v = 1.5 + 0.75 = 2.25
    #           call at t 1:   d 2,   2 - 0.75 a_0 = 1.25;          v = 2 + 1.25 = 3.25    x = 1.25 + 0.5 (2.25 + 3.25) / 2
    # Moved at every call instead, the averages would run 1, 0.75, 0.9375, 1.296875: what ACE-Step's loop does under
    # its Heun scheduler, which runs each of Heun's two calls as an iteration of the loop that calls apg_forward.
    # Once a step, a Heun step's guidance is the trapezoid of the two slopes plus the history, as an Euler step's is.
    assert run_two_steps("heun") == ([1.0, 0.75], pytest.approx(1.25 + 0.5 * (2.25 + 3.25) / 2, abs=1e-12))
    assert run_two_steps("euler") == ([1.0, 0.75], pytest.approx(0.5 * 2 + 0.5 * 2.25, abs=1e-12))


def run_two_steps(sampler):
    """(the momentum's average after each step, x at t = 1) for the closed-form case above."""
    v_c, v_u = (lambda x, t: torch.ones_like(x) * (1 + t)), (lambda x, t: torch.zeros_like(x))
    momentum, seen = Momentum(-0.75), []
    velocity = Guided(v_c, lambda x, t, s, k: apg_by_hand(v_c(x, t), v_u(x, t), s, momentum, k), 2.0)

    def record(x, t):
        seen.append(float(momentum.average))
        return x

    x = integrate(velocity, torch.zeros(1, dtype=torch.float64), [0.0, 0.5, 1.0], sampler, after_step=record)
    return seen, x.item()


def test_the_guidance_window_is_ace_steps_rule_written_out():
    # start = int(n (1 - interval) / 2), end = int(n (interval / 2 + 0.5)): 30 steps at 0.5 guide steps 7 to 21,
    # 60 steps 15 to 44, 10 steps 2 to 6; interval 1 every step, 0 none
    assert GuidanceWindow(0.5).bounds(30) == (7, 22) and GuidanceWindow(0.5).bounds(60) == (15, 45)
    assert GuidanceWindow(0.5).bounds(10) == (2, 7) and GuidanceWindow(1.0).bounds(30) == (0, 30)
    assert [GuidanceWindow(0.0).scale_at(k, 10, 15.0) for k in range(10)] == [None] * 10
    # decay 1 from 15 to a minimum of 3 over the 5 guided steps of 10: s_k = 15 - 12 (k - 2) / 4
    window = GuidanceWindow(0.5, decay=1.0, min_scale=3.0)
    assert [window.scale_at(k, 10, 15.0) for k in range(10)] == [None] * 2 + [15.0, 12.0, 9.0, 6.0, 3.0] + [None] * 3
    # decay 0.5 goes half way: 15 - 0.5 * 12 = 9 at the last guided step; decay 0 (ACE-Step's default) keeps 15
    assert GuidanceWindow(0.5, 0.5, 3.0).scale_at(6, 10, 15.0) == 9.0
    assert {GuidanceWindow(0.5, 0.0, 3.0).scale_at(k, 10, 15.0) for k in range(2, 7)} == {15.0}
    assert GuidanceWindow(0.2, 1.0, 3.0).bounds(10) == (4, 6) and GuidanceWindow(0.1, 1.0).scale_at(4, 10, 7.0) == 7.0
    for bad in (dict(interval=1.5), dict(interval=-0.1), dict(decay=2.0)):
        with pytest.raises(MinidcaeError, match="between 0 and 1"):
            GuidanceWindow(**bad)


def test_outside_the_window_the_conditional_velocity_alone_runs_and_the_momentum_stays():
    calls, momentum = [], Momentum(-0.75)

    def conditional(x, t):
        calls.append("cond")
        return torch.ones_like(x)

    def guide(x, t, s, step):
        calls.append(("guided", step, s))
        return apg(torch.ones_like(x), torch.zeros_like(x), s, momentum, 0.0, 1.0, dims=(-1,), step=step)

    velocity = Guided(conditional, guide, 5.0, GuidanceWindow(0.5, decay=1.0, min_scale=1.0))
    integrate(velocity, torch.zeros(1), time_grid(4), "heun")
    # 4 steps at 0.5: steps 1 and 2 guided (5, then 5 - 4 = 1 at the window's last step), both Heun calls of each
    guided_calls = [("guided", 1, 5.0), ("guided", 1, 5.0), ("guided", 2, 1.0), ("guided", 2, 1.0)]
    assert calls == ["cond"] * 2 + guided_calls + ["cond"] * 2
    assert momentum.step == 2 and float(momentum.average) == 1 - 0.75  # moved at steps 1 and 2 only


def test_integrate_numbers_the_steps_from_the_whole_grid_when_it_starts_late():
    class Counting(StepAware):
        def __init__(self):
            self.seen = []

        def __call__(self, x, t):
            self.seen.append((self.step, self.steps, t))
            return torch.zeros_like(x)

    v, grid = Counting(), time_grid(5)
    integrate(v, torch.zeros(1), grid, "euler", start=3)
    assert v.seen == [(3, 5, grid[3]), (4, 5, grid[4])]
    with pytest.raises(ValueError, match="sampler must be euler or heun"):
        integrate(v, torch.zeros(1), grid, "midpoint")
