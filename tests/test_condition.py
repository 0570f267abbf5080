"""The transformer's prompt encoders (labels, phrases, frozen miniCLAP): the default unchanged, the clap path equal
to miniCLAP's own word states, frozen, and inside the transformer's checkpoint."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from minidcae.core.checkpoint import save_model
from minidcae.core.config import SHIPPED_TRANSFORMER, ClapConfig, TransformerConfig
from minidcae.core.errors import MinidcaeError
from minidcae.generation.sampling import sample_latents
from minidcae.models.clap import MiniClap
from minidcae.models.condition import load_clap_tower, tokenize_for, training_phrase, unknown_words_for
from minidcae.models.phrasings import PHRASE_ID, describe
from minidcae.models.text import TextEncoder, tokenize, training_prompt
from minidcae.models.transformer import LatentTransformer, load_transformer
from minidcae.sound.synth import ClipLabels

TINY = TransformerConfig(latent_channels=2, latent_rows=3, dim=32, depth=1, heads=2)
LABELS = ClipLabels(7, "violin", "minor", "A", 120.0, True, (), ())
SMALL_CLAP = ClapConfig(audio_widths=(4,), audio_width=8, text_width=16, text_layers=1, text_heads=2, embed_dim=8)


def clap_transformer():
    torch.manual_seed(0)
    clap = MiniClap(SMALL_CLAP)
    with torch.no_grad():
        for p in clap.parameters():
            p.add_(0.1 * torch.randn_like(p))
    cfg = replace(TINY, text="clap", clap_text_width=16, clap_text_layers=1, clap_text_heads=2)
    model = LatentTransformer(cfg)
    load_clap_tower(model, clap)
    return model, clap


def test_labels_is_the_default_and_reads_as_before():
    model = LatentTransformer(TINY)
    assert TINY.text == "labels" and type(model.text) is TextEncoder
    assert model.text.word.num_embeddings == TextEncoder(32).word.num_embeddings
    prompts = ["happy piano, 120 bpm, drums", ""]
    for got, want in zip(tokenize_for(TINY, prompts), tokenize(prompts)):
        assert torch.equal(got, want)
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    assert [training_phrase(TINY, LABELS, rng_a) for _ in range(20)] == [
        training_prompt(LABELS, rng_b) for _ in range(20)
    ]


def test_shipped_transformer_still_loads_as_labels():
    model, _ = load_transformer(SHIPPED_TRANSFORMER)
    assert model.cfg.text == "labels" and type(model.text) is TextEncoder


def test_phrases_read_heldout_phrasings_without_unknown_words():
    cfg = replace(TINY, text="phrases")
    rng = np.random.default_rng(0)
    prompts = [describe(LABELS, rng, "heldout") for _ in range(30)]
    assert all(unknown_words_for(cfg, p) == [] for p in prompts)
    ids, mask = tokenize_for(cfg, prompts)
    assert not (ids[mask] == PHRASE_ID["<unk>"]).any()
    assert unknown_words_for(TINY, "sombre violin") == ["sombre"]  # the label vocabulary lacks synonyms
    out = LatentTransformer(cfg).text(ids)
    assert out.shape == (30, ids.shape[1], 32)


def test_an_unknown_word_is_refused_naming_what_this_kind_of_model_reads():
    for cfg, knows, not_listed in (
        (TINY, "instruments (piano", "cheerful"),
        (replace(TINY, text="phrases"), "miniCLAP's phrasing words (happy, cheerful", "slow, medium, fast or"),
    ):
        with pytest.raises(ValueError, match="unknown word") as err:
            sample_latents(LatentTransformer(cfg), ["happy kazoo"], 4, steps=1)
        message = str(err.value)
        assert "['kazoo']" in message and knows in message and not_listed not in message, message


def test_clap_condition_is_the_towers_word_states_through_a_linear():
    model, clap = clap_transformer()
    prompts = ["cheerful piano, fast, with drums", "sad violin", ""]
    ids, _ = tokenize(prompts, PHRASE_ID, 16)
    states, mask = clap.text_tokens(prompts)  # miniCLAP's own path from the strings
    want = model.text.proj(states)
    assert torch.allclose(model.text(ids)[mask], want[mask], atol=1e-6)


def test_clap_tower_is_frozen_and_only_the_linear_learns():
    model, clap = clap_transformer()
    with torch.no_grad():  # leave the zero start (zero output layers pass no gradient back)
        for p in filter(lambda p: p.requires_grad, model.parameters()):
            p.add_(0.05 * torch.randn_like(p))
    ids, mask = tokenize(["gloomy flute, slow", "bright bass"], PHRASE_ID, 16)
    x = torch.randn(2, 2, 3, 5)
    model(x, 0.5, ids, mask).square().sum().backward()
    assert all(p.grad is None for p in model.text.clap.parameters())
    assert model.text.proj.weight.grad is not None and model.text.proj.weight.grad.abs().sum() > 0
    assert not hasattr(model.text.clap, "audio_features")  # the audio tower is not carried


def test_clap_transformer_checkpoint_is_self_contained(tmp_path):
    model, _ = clap_transformer()
    path = save_model(tmp_path / "t", model, "transformer", model.cfg)
    loaded, _ = load_transformer(path)
    a = sample_latents(model, ["joyful piano, quick"], 4, steps=2)
    b = sample_latents(loaded, ["joyful piano, quick"], 4, steps=2)
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="zebra"):
        sample_latents(loaded, ["zebra piano"], 4, steps=2)


def test_a_tower_of_other_sizes_is_refused_in_one_line():
    model, _ = clap_transformer()
    with pytest.raises(MinidcaeError, match="clap_text_width"):
        load_clap_tower(model, MiniClap(ClapConfig()), "other.safetensors")
