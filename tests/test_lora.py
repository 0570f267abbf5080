"""LoRA (minidcae.models.lora): the update against its formula written out, merged against kept apart, the base
frozen, a new word after the vocabulary, the file round trip and its hash check; peft's LoRA when peft is there."""

import copy
import math
from dataclasses import replace

import numpy as np
import pytest
import torch
import torch.nn as nn

from minidcae.core.config import TransformerConfig
from minidcae.core.errors import MinidcaeError
from minidcae.models import lora
from minidcae.models.condition import tokenize_for, unknown_words_for
from minidcae.models.text import VOCAB, WORD_ID
from minidcae.models.transformer import LatentTransformer
from minidcae.recipes.lora import clip_prompts, lora_batches, read_clips
from minidcae.sound.synth import ClipLabels, write_dataset

TINY = TransformerConfig(latent_channels=2, latent_rows=3, dim=32, depth=2, heads=2)


def tiny_model(seed=0) -> LatentTransformer:
    """A tiny transformer with every weight moved off its (partly zero) initial value, so outputs are not zero."""
    torch.manual_seed(seed)
    model = LatentTransformer(TINY)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.2 * torch.randn_like(p))
    return model.eval()


def inputs(prompts=("happy piano", "sad violin"), frames=5):
    x = torch.randn(
        len(prompts), TINY.latent_channels, TINY.latent_rows, frames, generator=torch.Generator().manual_seed(1)
    )
    return x, torch.tensor([0.3, 0.7])


def run(model, prompts=("happy piano", "sad violin")):
    x, t = inputs(prompts)
    ids, mask = tokenize_for(model.cfg, list(prompts))
    with torch.no_grad():
        return model(x, t, ids, mask)


def randomize_adapters(model, seed=2):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, lora.LoraLinear):
                m.B.copy_(torch.randn(m.B.shape, generator=g))


def test_lora_linear_matches_the_formula_written_out():
    torch.manual_seed(0)
    base = nn.Linear(6, 5)
    layer = lora.LoraLinear(copy.deepcopy(base), rank=3, alpha=6.0)
    with torch.no_grad():
        layer.B.normal_()
    x = torch.randn(4, 7, 6)
    # y_i = sum_j W_ij x_j + b_i + (alpha / r) sum_k B_ik sum_j A_kj x_j, written with loops' einsum
    want = torch.einsum("ij,btj->bti", base.weight, x) + base.bias
    want = want + (6.0 / 3) * torch.einsum("ik,kj,btj->bti", layer.B, layer.A, x)
    assert torch.allclose(layer(x), want, atol=1e-5)
    delta = lora.low_rank_update(layer.A, layer.B, 6.0)
    assert delta.shape == (5, 6) and torch.linalg.matrix_rank(delta) <= 3
    assert torch.allclose(delta, 2.0 * sum(torch.outer(layer.B[:, k], layer.A[k]) for k in range(3)), atol=1e-6)


def test_b_starts_at_zero_so_an_adapted_model_starts_as_the_base_exactly():
    model = tiny_model()
    before = run(model)
    wrapped = lora.add_lora(model, rank=2)
    assert len(wrapped) == 2 * len(lora.DEFAULT_LAYERS)  # two blocks
    assert all(torch.count_nonzero(m.B) == 0 for m in wrapped.values())
    assert torch.equal(run(model), before)


def test_merged_gives_the_outputs_kept_apart_gives_and_unmerge_restores_the_weights():
    model = tiny_model()
    weights = {k: v.clone() for k, v in model.state_dict().items()}
    lora.add_lora(model, rank=3, alpha=1.5, layers=lora.LORA_LAYERS)
    randomize_adapters(model)
    apart = run(model)
    assert not torch.allclose(apart, run(tiny_model()), atol=1e-3)  # the adapters do change the outputs
    lora.merge(model)
    assert torch.allclose(run(model), apart, atol=1e-5)
    lora.unmerge(model)
    for name, m in model.named_modules():
        if isinstance(m, lora.LoraLinear):
            assert torch.allclose(m.base.weight, weights[f"{name}.weight"], atol=1e-6)
    lora.merge(model, unload=True)  # plain nn.Linear again, the update inside
    assert not any(isinstance(m, lora.LoraLinear) for m in model.modules())
    assert torch.allclose(run(model), apart, atol=1e-5)


def test_training_moves_only_the_adapters_and_the_new_row_the_base_stays_frozen():
    model = tiny_model()
    frozen = {k: v.clone() for k, v in model.state_dict().items()}
    lora.add_lora(model, rank=2)
    lora.add_words(model, ["bell"])
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {n for n in trainable if n.endswith((".A", ".B"))} | {"text.word.rows"}
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-2)
    for _ in range(3):
        x, t = inputs(("happy bell", "sad piano"))
        ids, mask = tokenize_for(model.cfg, ["happy bell", "sad piano"])
        opt.zero_grad()
        model(x, t, ids, mask).square().mean().backward()
        opt.step()
    state = model.state_dict()
    for name, value in frozen.items():  # every base weight, the vocabulary's rows included, bit for bit
        key = name.replace("text.word.weight", "text.word.base.weight")
        key = next(
            k for k in (key, key.replace(".weight", ".base.weight"), key.replace(".bias", ".base.bias")) if k in state
        )
        assert torch.equal(state[key], value), name
    assert all(torch.count_nonzero(m.B) > 0 for m in model.modules() if isinstance(m, lora.LoraLinear))


def test_a_new_word_reads_as_the_id_after_the_vocabulary_and_a_known_word_is_refused():
    model = tiny_model()
    assert unknown_words_for(model.cfg, "happy bell") == ["bell"]
    lora.add_words(model, ["bell"])
    ids, _ = tokenize_for(model.cfg, ["happy bell"])
    assert ids.tolist() == [[WORD_ID["happy"], len(VOCAB)]] and unknown_words_for(model.cfg, "happy bell") == []
    assert tokenize_for(TINY, ["happy piano"])[0].tolist() == tokenize_for(model.cfg, ["happy piano"])[0].tolist()
    start = model.text.word.base.weight[[WORD_ID[w] for w in ("piano", "violin", "guitar", "flute", "organ", "bass")]]
    assert torch.allclose(model.text.word.rows[0], start.mean(0))  # "some instrument" to begin with
    for word in ("piano", "bell", "Kazoo", "two words"):
        with pytest.raises(MinidcaeError, match="new word"):
            lora.add_words(model, [word])


def test_rank_zero_and_unknown_layers_are_refused():
    for rank in (0, -1):
        with pytest.raises(MinidcaeError, match="rank"):
            lora.add_lora(tiny_model(), rank=rank)
    with pytest.raises(MinidcaeError, match="layers attn.key"):
        lora.add_lora(tiny_model(), layers=("attn.key",))


def test_an_adapter_saved_and_loaded_gives_the_same_outputs_kept_apart_or_merged(tmp_path):
    model = tiny_model()
    lora.add_lora(model, rank=2, alpha=4.0, layers=("attn.qkv", "ff.down"))
    lora.add_words(model, ["bell"])
    randomize_adapters(model)
    with torch.no_grad():
        model.text.word.rows.normal_()
    prompts = ("happy bell", "sad piano")
    want = run(model, prompts)
    path = lora.save_adapter(tmp_path / "lora_bell", model, {"base": {"name": "tiny"}})
    tensors, card = lora.read_adapter(path)
    assert card["rank"] == 2 and card["alpha"] == 4.0 and card["layers"] == ["attn.qkv", "ff.down"]
    assert card["words"] == ["bell"] and card["base"]["sha256"] == lora.base_hash(tiny_model())
    assert card["trainable_parameters"] == sum(t.numel() for t in tensors.values())
    assert card["base_parameters"] == sum(p.numel() for p in tiny_model().parameters())
    for merged in (False, True):
        fresh = tiny_model()
        lora.apply_adapter(fresh, path, merged=merged)
        assert torch.allclose(run(fresh, prompts), want, atol=1e-5), merged


def test_an_adapter_made_for_other_weights_is_refused_by_its_hash(tmp_path):
    model = tiny_model()
    lora.add_lora(model, rank=1)
    path = lora.save_adapter(tmp_path / "a", model, {})
    other = tiny_model(seed=1)
    with pytest.raises(MinidcaeError, match="made for another model"):
        lora.apply_adapter(other, path)
    nudged = tiny_model()
    with torch.no_grad():
        nudged.proj_in.bias[0] += 1e-7  # one number of 1.2 k moved by a hair: another base
    with pytest.raises(MinidcaeError, match="made for another model"):
        lora.apply_adapter(nudged, path)


def test_two_adapters_merged_add_their_updates():
    paths, deltas = [], []
    for seed, word in ((3, "bell"), (4, "gong")):
        model = tiny_model()
        lora.add_lora(model, rank=2, layers=("cross.kv",))
        lora.add_words(model, [word])
        randomize_adapters(model, seed)
        deltas.append(
            {
                n: lora.low_rank_update(m.A, m.B, m.alpha)
                for n, m in model.named_modules()
                if isinstance(m, lora.LoraLinear)
            }
        )
        paths.append(lora.save_adapter(f"/tmp/_lora_test_{word}", model, {}))
    both = tiny_model()
    for p in paths:
        lora.apply_adapter(both, p, merged=True)
    base = tiny_model().state_dict()
    for name, delta in deltas[0].items():
        want = base[f"{name}.weight"] + delta + deltas[1][name]
        assert torch.allclose(both.state_dict()[f"{name}.weight"], want, atol=1e-5)
    assert both.cfg.new_words == ("bell", "gong") and tokenize_for(both.cfg, ["gong"])[0].item() == len(VOCAB) + 1


def test_peft_lora_gives_the_same_outputs_for_the_same_weights():
    """Where peft is installed (the GPU machine has it; the course does not depend on it: it brings transformers,
    accelerate and 17 more packages, about 190 MB), its LoRA layer with our A and B gives our outputs."""
    peft = pytest.importorskip("peft")
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(8, 16), nn.SiLU(), nn.Linear(16, 4))
    ours = copy.deepcopy(net)
    lora.add_lora(ours, rank=3, alpha=6.0, layers=("0", "2"))
    randomize_adapters(ours)
    theirs = peft.get_peft_model(
        copy.deepcopy(net), peft.LoraConfig(r=3, lora_alpha=6.0, target_modules=["0", "2"], lora_dropout=0.0)
    )
    with torch.no_grad():
        for name in ("0", "2"):
            layer = theirs.base_model.model.get_submodule(name)
            layer.lora_A["default"].weight.copy_(ours.get_submodule(name).A)
            layer.lora_B["default"].weight.copy_(ours.get_submodule(name).B)
    x = torch.randn(5, 8)
    assert torch.allclose(theirs(x), ours(x), atol=1e-5)
    assert math.isclose(theirs.base_model.model.get_submodule("0").scaling["default"], 6.0 / 3)


def test_read_clips_refuses_empty_too_few_and_too_short_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(MinidcaeError, match="no audio files"):
        read_clips(tmp_path / "empty", 22050, 3.0)
    write_dataset(tmp_path / "two", 2, 3.0, 0, instrument="bell")
    with pytest.raises(MinidcaeError, match="2 clip"):
        read_clips(tmp_path / "two", 22050, 3.0)
    write_dataset(tmp_path / "short", 4, 1.0, 0, instrument="bell")
    with pytest.raises(MinidcaeError, match="clip_00000.wav: 1.00 s"):
        read_clips(tmp_path / "short", 22050, 3.0)
    paths, wavs, labels = read_clips(tmp_path / "short", 22050, 1.0)
    assert len(paths) == 4 and wavs[0].shape == (1, 22050) and labels[0].mode in ("major", "minor")


def test_prompts_put_the_word_in_the_instruments_place_and_half_of_each_batch_is_the_prior():
    labels = ClipLabels(0, "", "minor", "A", 92.0, True, (), ())
    rng = np.random.default_rng(0)
    said = {clip_prompts("bell", labels, rng) for _ in range(50)}
    assert all(p.startswith("sad bell") for p in said) and len(said) > 2 and clip_prompts("bell", None, rng) == "bell"
    from minidcae.core.config import TrainConfig

    latents = [torch.randn(2, 3, 10), torch.randn(2, 3, 12)]
    prior = torch.randn(6, 2, 3, 4)
    batches = lora_batches(
        latents, [None, None], "bell", prior, [f"p{i}" for i in range(6)], replace(TrainConfig(), batch_size=8), 4, 0.5
    )
    batch = batches(3)
    assert batch["latent"].shape == (8, 2, 3, 4) and batch["prompt"][:4] == ["bell"] * 4
    assert all(p.startswith("p") for p in batch["prompt"][4:])
    assert torch.equal(batches(3)["latent"], batch["latent"])  # a function of the step
