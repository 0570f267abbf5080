"""LoRA: teach the latent transformer a new sound with low-rank adapters, and a new prompt word for it.

Fine-tuning a linear layer y = W x + b changes W (out, in). LoRA (Hu et al., arXiv 2106.09685) learns only a
low-rank change of it, and keeps W frozen:

    W' = W + (alpha / r) B A,    A (r, in), B (out, r), r much smaller than in and out

r (in + out) numbers train instead of in * out. B starts at zero, so the adapted model starts as the base model,
exactly; A starts random, as nn.Linear's weights do, so the first gradient of B is not zero. alpha / r scales the
update, so a change of rank keeps the size of the first steps about the same. After training, the update can be
merged into W (inference then costs what the base costs) or kept apart (switched off, swapped, taken out again).

The new word is textual inversion (Gal et al., arXiv 2208.01618): one new row of the prompt embedding, trained
with the adapter; the base vocabulary's rows do not change. The adapter holds both, and names the base it adapts
by a hash of its weights: on another model its updates would be noise.

    LORA_LAYERS         the linear layers of a block an adapter may wrap, by name
    low_rank_update     (alpha / r) B A: the (out, in) change an adapter makes to one weight
    LoraLinear          a frozen nn.Linear beside its adapter: y = W x + b + (alpha / r) B (A x), or merged into W
    add_lora            wrap the named layers of a model in LoraLinear and freeze everything else
    merge / unmerge     fold every update into its weight and take it out again; merge(unload=True) leaves nn.Linear
    NewWords            the prompt's word embedding with trainable rows after the base vocabulary's, base rows frozen
    add_words           give a model new prompt words: ids after its vocabulary's, rows started at known words' mean
    base_hash           sha256 of a model's base weights: which checkpoint an adapter adapts
    adapter_tensors     what an adapter file holds: every A and B, and the new words' rows
    save_adapter / read_adapter / apply_adapter     an adapter to and from safetensors with its JSON card

Taught in notebook 14 (LoRA); its recipe is minidcae.recipes.lora, `minidcae train-lora`.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from minidcae.core.checkpoint import load_tensors, save_tensors, write_json
from minidcae.core.errors import MinidcaeError
from minidcae.models.condition import word_ids_for
from minidcae.sound.synth import INSTRUMENTS

# The linear layers of each transformer block (models/transformer.py's Block), by their names inside it.
LORA_LAYERS = ("attn.qkv", "attn.out", "cross.q", "cross.kv", "cross.out", "ff.up", "ff.down")
DEFAULT_LAYERS = ("attn.qkv", "attn.out", "cross.kv", "cross.out")  # self- and cross-attention, as ACE-Step's LoRA


def low_rank_update(A: torch.Tensor, B: torch.Tensor, alpha: float) -> torch.Tensor:
    """A (r, in), B (out, r) -> the (out, in) change (alpha / r) B A that the adapter adds to a weight."""
    r = A.shape[0]
    # delta W = (alpha / r) B A
    return (alpha / r) * (B @ A)  # (out, in)


class LoraLinear(nn.Module):
    """A frozen nn.Linear `base` and its adapter: A (r, in) and B (out, r) train, W and b do not."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float):
        super().__init__()
        if rank < 1:
            raise MinidcaeError(f"rank {rank}: a LoRA rank is 1 or more")
        self.base, self.rank, self.alpha, self.merged = base.requires_grad_(False), rank, float(alpha), False
        self.A = nn.Parameter(torch.empty(rank, base.in_features, device=base.weight.device))  # (r, in)
        nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))  # as nn.Linear starts its weights (and peft its lora_A)
        self.B = nn.Parameter(torch.zeros(base.out_features, rank, device=base.weight.device))  # (out, r): starts at 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.base(x)  # (..., out): W x + b, with the update inside W once merged
        if self.merged:
            return y
        # y = W x + b + (alpha / r) B (A x): two thin products, never the (out, in) matrix
        return y + (self.alpha / self.rank) * F.linear(F.linear(x, self.A), self.B)  # (..., out)

    @torch.no_grad()
    def merge(self) -> None:
        """W <- W + (alpha / r) B A: the same outputs at the base layer's cost."""
        if not self.merged:
            self.base.weight += low_rank_update(self.A, self.B, self.alpha).to(self.base.weight.dtype)
            self.merged = True

    @torch.no_grad()
    def unmerge(self) -> None:
        """W <- W - (alpha / r) B A: the base weight back, up to float rounding."""
        if self.merged:
            self.base.weight -= low_rank_update(self.A, self.B, self.alpha).to(self.base.weight.dtype)
            self.merged = False


def _wrapped(model: nn.Module) -> dict[str, LoraLinear]:
    return {name: m for name, m in model.named_modules() if isinstance(m, LoraLinear)}


def add_lora(model: nn.Module, rank: int = 4, alpha: float | None = None, layers=DEFAULT_LAYERS) -> dict:
    """Wrap every nn.Linear of `model` whose name ends in one of `layers` (LORA_LAYERS' names, e.g. "attn.qkv"; a
    full name such as "proj_out" works too) in a LoraLinear of this rank and alpha (default alpha = rank, a scale
    of 1), and freeze every other parameter but new words' rows. Returns {name: LoraLinear}. The base hash is taken
    first (base_hash). A model holding an adapter kept apart takes another only once that one is merged."""
    if rank < 1:
        raise MinidcaeError(f"rank {rank}: a LoRA rank is 1 or more")
    if _wrapped(model):
        raise MinidcaeError("this model already holds an adapter kept apart: merge(model, unload=True) it first")
    base_hash(model)  # remembered before any weight can move
    found = {
        name: m
        for name, m in model.named_modules()
        if isinstance(m, nn.Linear) and any(name == k or name.endswith("." + k) for k in layers)
    }
    missing = [k for k in layers if not any(n == k or n.endswith("." + k) for n in found)]
    if missing:
        raise MinidcaeError(f"layers {', '.join(missing)}: no linear layer of that name; choose from {LORA_LAYERS}")
    model.requires_grad_(False)
    for m in model.modules():
        if isinstance(m, NewWords):
            m.rows.requires_grad_(True)  # a word taught with the adapter trains beside it
    for name, linear in found.items():
        parent, _, child = name.rpartition(".")
        setattr(model.get_submodule(parent) if parent else model, child, LoraLinear(linear, rank, alpha or rank))
    return _wrapped(model)


def merge(model: nn.Module, unload: bool = False) -> None:
    """Fold every adapter into its weight. unload=True then puts the plain nn.Linear back (peft's merge_and_unload):
    the model is a base model again, with the update in its weights, and another adapter can be added on top."""
    for name, m in _wrapped(model).items():
        m.merge()
        if unload:
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, child, m.base)


def unmerge(model: nn.Module) -> None:
    """Take every merged adapter's update out of its weight again (adapters kept apart)."""
    for m in _wrapped(model).values():
        m.unmerge()


class NewWords(nn.Module):
    """ids (B, L) -> word vectors (B, L, dim): the base table (V, dim), frozen, for ids below V, and the new rows
    (K, dim), trained, for ids V to V + K - 1. In the model's place of its nn.Embedding."""

    def __init__(self, base: nn.Embedding, rows: torch.Tensor):
        super().__init__()
        self.base, self.rows = base.requires_grad_(False), nn.Parameter(rows.clone())  # (V, dim), (K, dim)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        table = torch.cat([self.base.weight, self.rows])  # (V + K, dim)
        return F.embedding(ids, table)  # (B, L, dim)


def add_words(model: nn.Module, words, rows: torch.Tensor | None = None) -> NewWords:
    """Teach `model` (a LatentTransformer) the prompt words `words`, each a new row after its vocabulary, started
    at `rows` (K, dim) or else at the mean of the instrument words' rows ("some instrument"). A word the model
    already reads is refused: its meaning would be silently replaced."""
    words, known = tuple(words), word_ids_for(model.cfg)
    clash = [w for w in words if w in known]
    if clash or len(set(words)) < len(words) or not all(w.isalpha() and w.islower() for w in words):
        bad = ", ".join(clash) or ", ".join(words)
        raise MinidcaeError(
            f"word {bad}: a new word is one lower-case word the model does not know yet (not in its vocabulary)"
        )
    if model.cfg.text == "clap":
        raise MinidcaeError("a 'clap' transformer reads words through miniCLAP's frozen tower: it cannot learn one")
    base_hash(model)
    old = model.text.word
    table, kept = (old.base, old.rows.detach()) if isinstance(old, NewWords) else (old, old.weight[:0].detach())
    if rows is None:
        start = table.weight[[known[i] for i in INSTRUMENTS if i in known]].detach().mean(0)  # (dim,)
        rows = start.expand(len(words), -1)  # (K, dim)
    model.text.word = NewWords(table, torch.cat([kept, rows.to(kept)]))  # (K_old + K, dim)
    model.cfg = replace(model.cfg, new_words=model.cfg.new_words + words)
    return model.text.word


def base_hash(model: nn.Module) -> str:
    """sha256 of the model's weights (names, shapes, dtypes and bytes, in name order), taken before its first
    adapter and remembered: an adapter names its base by this hash, so loading it on another model is refused."""
    if not hasattr(model, "_lora_base_hash"):
        h = hashlib.sha256()
        for name, t in sorted(model.state_dict().items()):
            t = t.detach().cpu().contiguous()
            h.update(f"{name} {tuple(t.shape)} {t.dtype}\n".encode())
            h.update(t.view(torch.uint8).numpy().tobytes() if t.numel() else b"")
        model._lora_base_hash = h.hexdigest()
    return model._lora_base_hash


def adapter_tensors(model: nn.Module) -> dict[str, torch.Tensor]:
    """{"<layer>.A": (r, in), "<layer>.B": (out, r) for every adapter, "words": (K, dim)}: what an adapter file holds."""
    out = {}
    for name, m in _wrapped(model).items():
        out[f"{name}.A"], out[f"{name}.B"] = m.A.detach(), m.B.detach()
    if isinstance(model.text.word, NewWords):
        out["words"] = model.text.word.rows.detach()
    return out


def save_adapter(path, model: nn.Module, card: dict) -> Path:
    """path.safetensors (the adapter's tensors, the card in its metadata) and path.json (the card, to read). The
    card is completed with what the model says: the base hash, rank, alpha, layers, words, parameter counts."""
    path = Path(path).with_suffix("")
    layers = _wrapped(model)
    first = next(iter(layers.values()), None)
    trained = sum(t.numel() for t in adapter_tensors(model).values())
    card = {
        "kind": "lora",
        **card,
        "base": {**card.get("base", {}), "sha256": base_hash(model)},
        "rank": first.rank if first else 0,
        "alpha": first.alpha if first else 0.0,
        "layers": sorted({n.split(".", 2)[-1] for n in layers}),
        "words": list(model.cfg.new_words),
        "trainable_parameters": trained,
        "base_parameters": sum(
            p.numel() for n, p in model.state_dict().items() if not n.endswith((".A", ".B", "rows"))
        ),
    }
    save_tensors(path.with_suffix(".safetensors"), adapter_tensors(model), card)
    write_json(path.with_suffix(".json"), card)
    return path.with_suffix(".safetensors")


def read_adapter(path) -> tuple[dict, dict]:
    """(tensors, card) of an adapter file, refused in one line when it is not one."""
    tensors, card = load_tensors(path)
    if card.get("kind") != "lora":
        raise MinidcaeError(f"{path}: not a LoRA adapter (it holds a {card.get('kind')!r} checkpoint)")
    return tensors, card


def apply_adapter(model: nn.Module, path, merged: bool = False) -> dict:
    """Load the adapter at `path` onto `model`, refused in one line when it was made for other base weights (the
    hash differs) or teaches a word the model already reads. merged=True folds it into the weights and unloads the
    wrappers, so several adapters can be applied one after another (their updates add). Returns its card."""
    tensors, card = read_adapter(path)
    want, have = card["base"]["sha256"], base_hash(model)
    if want != have:
        raise MinidcaeError(
            f"{path}: made for another model (base weights sha256 {want[:12]}, this one's {have[:12]}); load it on "
            f"{card['base'].get('name', 'the checkpoint it was trained on')}"
        )
    known = word_ids_for(model.cfg)
    if taught := [w for w in card["words"] if w in known]:
        raise MinidcaeError(
            f"{path}: teaches {', '.join(taught)}, which the model reads already (its vocabulary, or an adapter "
            "loaded before this one); load one adapter per word"
        )
    if card["words"]:
        add_words(model, card["words"], tensors["words"])
    wrapped = add_lora(model, card["rank"], card["alpha"], card["layers"])
    with torch.no_grad():
        for name, m in wrapped.items():
            m.A.copy_(tensors[f"{name}.A"])
            m.B.copy_(tensors[f"{name}.B"])
    if merged:
        merge(model, unload=True)
    return card
