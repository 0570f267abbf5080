"""The prompt's path into the latent transformer: which words it reads, and which encoder turns them into tokens.

    TEXT_KINDS          the options of TransformerConfig.text: labels, phrases, clap
    word_ids_for        the word -> id table cfg.text reads, with the words an adapter added (cfg.new_words) after it
    tokenize_for        prompts -> ids (B, L) and a mask (B, L), in that vocabulary
    unknown_words_for   the words of a prompt outside that vocabulary
    training_phrase     a clip's labels as a training prompt: text.training_prompt, or a phrasings.describe phrasing
    ClapTextCondition   ids -> miniCLAP's frozen per-word states -> a trained Linear -> tokens (B, L, dim)
    text_encoder_for    the condition encoder cfg.text asks for
    load_clap_tower     copy a trained miniCLAP's text tower into a transformer built with text "clap"

"labels" is the course's word encoder (notebook 08): a few dozen label words, trained with the transformer.
"phrases" is the same encoder over miniCLAP's larger vocabulary (synonyms, word orders), so it can read the
phrasings miniCLAP was trained on. "clap" reads them with miniCLAP's text tower, frozen: the seed article's
claim is that a contrastively aligned text encoder closes the gap between a description and its sound.
The tower's audio half is dropped: the transformer only needs the words. Its checkpoint holds the tower,
so it loads with nothing else.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn as nn

from minidcae.core.config import ClapConfig, TransformerConfig
from minidcae.core.errors import MinidcaeError
from minidcae.models.clap import MiniClap
from minidcae.models.phrasings import PHRASE_ID, PHRASE_VOCAB, describe
from minidcae.models.text import PAD, WORD_ID, TextEncoder, tokenize, training_prompt, unknown_words
from minidcae.sound.synth import INSTRUMENTS, ClipLabels

TEXT_KINDS = ("labels", "phrases", "clap")
PHRASE_WORDS = 16  # the longest phrasing a "phrases" or "clap" model reads (miniCLAP's max_words)


def _kind(cfg) -> str:
    kind = getattr(cfg, "text", "labels")  # configs from before the option read labels
    if kind not in TEXT_KINDS:
        raise ValueError(f"text must be one of {', '.join(TEXT_KINDS)}, got {kind!r}")
    return kind


def word_ids_for(cfg) -> dict[str, int]:
    """{word: id} of the vocabulary cfg.text reads (text.WORD_ID or phrasings.PHRASE_ID), and after it the words a
    LoRA adapter taught the model (cfg.new_words, minidcae.models.lora): ids len(vocabulary), len(vocabulary) + 1..."""
    base = WORD_ID if _kind(cfg) == "labels" else PHRASE_ID
    added = getattr(cfg, "new_words", ())  # configs from before the option have none
    return {**base, **{word: len(base) + k for k, word in enumerate(added)}} if added else base


def tokenize_for(cfg, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """(ids (B, L), mask (B, L)) in the vocabulary cfg.text reads; "" is one <empty> token in both."""
    if _kind(cfg) == "labels":
        return tokenize(prompts, word_ids_for(cfg))
    return tokenize(prompts, word_ids_for(cfg), PHRASE_WORDS)


def unknown_words_for(cfg, prompt: str) -> list[str]:
    return unknown_words(prompt, word_ids_for(cfg))


def known_words(cfg) -> str:
    """What a model of this cfg.text reads, for the one-line refusal of an unknown word."""
    added = getattr(cfg, "new_words", ())
    taught = f", and from its adapters {', '.join(added)}" if added else ""
    if _kind(cfg) == "labels":
        return (
            f"moods (happy, sad), instruments ({', '.join(INSTRUMENTS)}), tempo (slow, medium, fast or 60-180 bpm) "
            f"and drums{taught}"
        )
    words = [w for w in PHRASE_VOCAB if w.isalpha()]  # (the special tokens are <...>, the tempos digits)
    tempos = [int(w) for w in PHRASE_VOCAB if w.isdigit()]
    return f"miniCLAP's phrasing words ({', '.join(words)}) and tempos {min(tempos)}-{max(tempos)} bpm{taught}"


def training_phrase(cfg, labels: ClipLabels, rng: np.random.Generator) -> str:
    """A training prompt for a clip: the label phrasings for "labels", miniCLAP's training templates otherwise."""
    return training_prompt(labels, rng) if _kind(cfg) == "labels" else describe(labels, rng, "train")


def clap_config_of(cfg: TransformerConfig) -> ClapConfig:
    """The miniCLAP config whose text tower a "clap" transformer holds (audio sizes are left at defaults, unused)."""
    return ClapConfig(
        text_width=cfg.clap_text_width,
        text_layers=cfg.clap_text_layers,
        text_heads=cfg.clap_text_heads,
        max_words=PHRASE_WORDS,
    )


class ClapTextCondition(nn.Module):
    """ids (B, L) -> tokens (B, L, dim): miniCLAP's text tower (frozen, no gradient) then a trained Linear."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.clap = MiniClap(clap_config_of(cfg)).requires_grad_(False)
        # only the words are needed: the audio tower, the projection to the joint space and the temperature go
        del self.clap.audio_features, self.clap.audio_time, self.clap.audio_proj, self.clap.text_proj
        del self.clap.logit_scale
        self.proj = nn.Linear(cfg.clap_text_width, cfg.dim)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        mask = ids != PHRASE_ID[PAD]  # (B, L)
        with torch.no_grad():
            states = self.clap.word_states(ids, mask)  # (B, L, text_width): frozen
        return self.proj(states)  # (B, L, dim)


def text_encoder_for(cfg: TransformerConfig) -> nn.Module:
    """The module LatentTransformer calls self.text: ids (B, L) -> condition tokens (B, L, dim)."""
    kind = _kind(cfg)
    if kind == "labels":
        return TextEncoder(cfg.dim)  # exactly as before the option existed
    if kind == "phrases":
        return TextEncoder(cfg.dim, PHRASE_WORDS, len(PHRASE_VOCAB))
    return ClapTextCondition(cfg)


def load_clap_tower(model: nn.Module, clap: MiniClap, path="miniCLAP") -> None:
    """Copy clap's text tower into model.text.clap (a transformer built with text "clap"), refused in one line
    when the sizes differ."""
    tower = model.text.clap
    want = {k: v for k, v in clap.state_dict().items() if k in tower.state_dict()}
    mine = tower.state_dict()
    if set(want) != set(mine) or any(want[k].shape != mine[k].shape for k in mine):
        raise MinidcaeError(
            f"{path}: its text tower does not fit this transformer's clap_text_* sizes; "
            f"set clap_text_width / clap_text_layers / clap_text_heads to the checkpoint's"
        )
    tower.load_state_dict(want, strict=True)
