"""Reflow distillation: the loss on fixed pairs, the teacher's pairs, and sampling a student with one call a step."""

import torch

from minidcae.core.config import SHIPPED_TRANSFORMER
from minidcae.recipes.distill import reflow_loss, teacher_pairs
from minidcae.generation.sampling import prompt_velocity, sample_latents
from minidcae.models.text import tokenize
from minidcae.models.transformer import load_transformer


def test_reflow_loss_is_zero_for_the_straight_line_velocity_and_the_squared_error_otherwise():
    g = torch.Generator().manual_seed(0)
    x0, x1 = torch.randn(4, 2, 3, 5, generator=g), torch.randn(4, 2, 3, 5, generator=g)
    # along the line x_t = (1 - t) x0 + t x1 the exact velocity is x1 - x0 at every t
    assert reflow_loss(lambda x, t: x1 - x0, x0, x1) == 0
    # a velocity off by a constant c everywhere costs exactly c^2
    assert torch.isclose(reflow_loss(lambda x, t: x1 - x0 + 0.5, x0, x1), torch.tensor(0.25))


def test_teacher_pairs_are_the_teachers_own_samples_from_that_noise():
    teacher, _ = load_transformer(SHIPPED_TRANSFORMER)
    noise, samples, prompts = teacher_pairs(teacher, 3, frames=4, steps=2, seed=5, batch=2)
    assert noise.shape == samples.shape == (3, 8, 16, 4) and len(prompts) == 3
    again = sample_latents(teacher, prompts[:1], 4, steps=2, noise=noise[:1])
    torch.testing.assert_close(samples[:1], again)
    assert teacher_pairs(teacher, 3, frames=4, steps=2, seed=5)[2] == prompts  # the same seed, the same prompts


def test_guidance_none_calls_the_network_once_on_the_prompt_alone():
    model, _ = load_transformer(SHIPPED_TRANSFORMER)
    calls = []
    model.register_forward_hook(lambda m, args, out: calls.append(args[0].shape[0]))
    x = torch.randn(2, 8, 16, 4)
    v = prompt_velocity(model, ["happy piano", "sad violin"], guidance="none")(x, 0.3)
    ids, mask = tokenize(["happy piano", "sad violin"])
    with torch.no_grad():
        torch.testing.assert_close(v, model(x, 0.3, ids, mask))
    assert calls == [2, 2]  # one batch of B for the velocity (then one for the check), never 2B
