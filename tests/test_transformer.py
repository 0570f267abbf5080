"""The latent transformer and its prompt encoder: shapes, positions, and a prompt that is obeyed."""

import numpy as np
import pytest
import torch

from minidcae.core.config import TransformerConfig
from minidcae.generation.samplers import euler_sample
from minidcae.models.text import VOCAB, WORD_ID, tokenize, training_prompt, unknown_words
from minidcae.models.transformer import LatentTransformer, rotate
from minidcae.sound.synth import ClipLabels
from minidcae.training.flow_matching import flow_matching_loss

TINY = TransformerConfig(latent_channels=2, latent_rows=3, dim=32, depth=2, heads=2)


def randomized(cfg):
    torch.manual_seed(0)
    model = LatentTransformer(cfg)
    with torch.no_grad():  # leave the zero start, so every path carries a signal
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    return model


@pytest.mark.parametrize("attention", ["linear", "softmax"])
def test_any_length_in_gives_the_same_shape_out(attention):
    from dataclasses import replace

    model = randomized(replace(TINY, attention=attention))
    ids, mask = tokenize(["happy piano, 120 bpm", ""])
    for frames in (1, 5, 33):
        x = torch.randn(2, 2, 3, frames)
        assert model(x, torch.tensor([0.1, 0.9]), ids, mask).shape == x.shape


def test_a_float_time_means_the_same_time_for_every_sample():
    model = randomized(TINY)
    x, (ids, mask) = torch.randn(2, 2, 3, 6), tokenize(["sad violin", "sad violin"])
    assert torch.allclose(model(x, 0.3, ids, mask), model(x, torch.tensor([0.3, 0.3]), ids, mask))


def test_the_prompt_and_the_time_both_change_the_output():
    model = randomized(TINY)
    x = torch.randn(1, 2, 3, 6)
    a = model(x, 0.5, *tokenize(["happy piano"]))
    assert not torch.allclose(a, model(x, 0.5, *tokenize(["sad violin"])))
    assert not torch.allclose(a, model(x, 0.9, *tokenize(["happy piano"])))


def test_rope_makes_scores_depend_on_relative_position_only():
    g = torch.Generator().manual_seed(0)
    q, k = torch.randn(1, 1, 1, 8, generator=g), torch.randn(1, 1, 1, 8, generator=g)

    def score(n, m):  # q placed at position n, k at position m, in a sequence of 12
        qs, ks = torch.zeros(1, 1, 12, 8), torch.zeros(1, 1, 12, 8)
        qs[:, :, n], ks[:, :, m] = q[:, :, 0], k[:, :, 0]
        return float(rotate(qs)[0, 0, n] @ rotate(ks)[0, 0, m])

    assert score(3, 1) == pytest.approx(score(9, 7), abs=1e-5)
    assert score(3, 1) != pytest.approx(score(3, 2), abs=1e-3)


def test_tokenize_pads_marks_unknown_words_and_has_an_empty_prompt():
    ids, mask = tokenize(["happy piano, 120 bpm, drums", "", "sad kazoo"])
    assert ids.shape == (3, 5) and mask.sum(dim=1).tolist() == [5, 1, 2]
    assert ids[1, 0] == WORD_ID["<empty>"] and ids[2, 1] == WORD_ID["<unk>"]
    assert unknown_words("sad kazoo") == ["kazoo"]
    assert len(VOCAB) == len(set(VOCAB))


def test_training_prompts_always_name_mood_and_instrument():
    labels = ClipLabels(seed=0, instrument="violin", mode="minor", key="C", tempo=72.0, drums=True, onsets=(), beats=())
    rng = np.random.default_rng(0)
    prompts = {training_prompt(labels, rng) for _ in range(200)}
    assert all(p.startswith("sad violin") for p in prompts)
    assert {"sad violin, slow, drums", "sad violin, 72 bpm", "sad violin"} <= prompts
    assert not any(unknown_words(p) for p in prompts)


def test_a_tiny_model_learns_to_obey_two_prompts():
    # data: "happy" latents are all +1, "sad" latents all -1; generation must follow the prompt
    torch.manual_seed(0)
    model = LatentTransformer(TINY)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    prompts = ["happy piano", "sad piano"] * 8
    ids, mask = tokenize(prompts)
    x1 = torch.tensor([1.0, -1.0] * 8)[:, None, None, None].expand(16, 2, 3, 4)
    g = torch.Generator().manual_seed(0)
    for _ in range(150):
        loss = flow_matching_loss(lambda x, t: model(x, t, ids, mask), x1, generator=g)
        opt.zero_grad()
        loss.backward()
        opt.step()
    with torch.no_grad():
        out = euler_sample(lambda x, t: model(x, t, ids[:2], mask[:2]), torch.randn(2, 2, 3, 4, generator=g), 20)
    assert out[0].mean() > 0.7 and out[1].mean() < -0.7
