"""Flow matching, checked where the answer is known in closed form: Gaussian noise to Gaussian data.

Noise x0 ~ N(0, 1), data x1 ~ N(mu, sigma^2). Along x_t = (1 - t) x0 + t x1 the marginal is
N(t mu, s(t)^2) with s(t)^2 = (1 - t)^2 + t^2 sigma^2, and the flow that keeps those marginals is
the affine map x_t = t mu + s(t) x0, whose velocity is

    v(x, t) = mu + (t sigma^2 - (1 - t)) / s(t)^2 (x - t mu),

and which ends at x_1 = mu + sigma x0: each noise sample has one exact destination.
"""

import pytest
import torch

from minidcae.training.flow_matching import (
    euler_sample,
    euler_step,
    flow_matching_loss,
    guided,
    heun_sample,
    heun_step,
    interpolate,
    sample_t,
    shift_time,
    time_grid,
)

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
    from minidcae.training.flow_matching import apg

    # d = v_c - v_u = (3, -4), ||d|| = 5, capped at 2.5: (1.5, -2); along v_c = (3, 0): d_par = (1.5, 0),
    # d_orth = (0, -2); v = v_c + (3 - 1) d_orth = (3, -4); with eta 1, v = v_c + 2 (1.5, -2) = (6, -4)
    v_c, v_u = torch.tensor([[3.0, 0.0]]), torch.tensor([[0.0, 4.0]])
    assert torch.allclose(apg(v_c, v_u, 3.0, None, 2.5, 0.0, dims=(-1,)), torch.tensor([[3.0, -4.0]]))
    assert torch.allclose(apg(v_c, v_u, 3.0, None, 2.5, 1.0, dims=(-1,)), torch.tensor([[6.0, -4.0]]))


def test_apg_with_no_cap_no_momentum_and_eta_1_is_cfg_and_momentum_averages_by_hand():
    from minidcae.training.flow_matching import Momentum, apg, guided

    g = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 4, 5, generator=g)
    v_c, v_u = (lambda x, t: 2 * x + 1), (lambda x, t: x - 1)
    assert torch.allclose(apg(v_c(x, 0), v_u(x, 0), 4.0, None, 0.0, 1.0), guided(v_c, v_u, 4.0)(x, 0), atol=1e-5)
    # a_1 = d_1, a_2 = d_2 - 0.75 a_1: the second call guides along d_2 - 0.75 d_1
    buffer, d1, d2 = Momentum(-0.75), torch.randn(1, 1, 2, 3, generator=g), torch.randn(1, 1, 2, 3, generator=g)
    zero = torch.zeros_like(d1)
    apg(d1, zero, 2.0, buffer, 0.0, 1.0)
    assert torch.allclose(apg(d2, zero, 2.0, buffer, 0.0, 1.0), d2 + (d2 - 0.75 * d1), atol=1e-6)
