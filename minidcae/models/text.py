"""Prompts as tokens: the synthesizer's labels in words, a fixed word-level vocabulary, an encoder.

    VOCAB            every word a prompt can use, after three special tokens
    training_prompt  a clip's labels as one of several phrasings ("sad violin, slow", "happy piano, 120 bpm, drums")
    tokenize         prompts -> ids (B, L) and a mask (B, L); "" is the empty prompt, one <empty> token.
                     The one tokenizer of the course: miniCLAP's larger vocabulary (phrasings.PHRASE_ID) goes
                     through it too
    unknown_words    the words of a prompt outside a vocabulary
    TextEncoder      ids -> condition tokens (B, L, dim): word embedding + position embedding + a residual MLP

ACE-Step encodes its tags with a frozen pretrained text encoder. Our prompts only ever hold these
few dozen words, so a small encoder trained with the transformer is enough, and the course
downloads nothing.

Taught in notebook 08 (conditioning).
"""

from __future__ import annotations

import re

import numpy as np
import torch
import torch.nn as nn

from minidcae.models.norms import RMSNorm
from minidcae.sound.synth import INSTRUMENTS, TEMPO_RANGE, ClipLabels

PAD, UNKNOWN, EMPTY = "<pad>", "<unk>", "<empty>"
MOODS = {"major": "happy", "minor": "sad"}
TEMPO_WORDS = ((0, 90, "slow"), (90, 140, "medium"), (140, 1000, "fast"))  # [low, high) BPM
VOCAB = (
    PAD,
    UNKNOWN,
    EMPTY,
    *MOODS.values(),
    *INSTRUMENTS,
    "drums",
    "bpm",
    *(word for _, _, word in TEMPO_WORDS),
    *(str(b) for b in range(TEMPO_RANGE[0], TEMPO_RANGE[1] + 1)),
)
WORD_ID = {word: i for i, word in enumerate(VOCAB)}
MAX_TOKENS = 8  # the longest phrasing, "happy piano, 120 bpm, drums", is 5 words


def tempo_word(bpm: float) -> str:
    return next(word for low, high, word in TEMPO_WORDS if low <= bpm < high)


def training_prompt(labels: ClipLabels, rng: np.random.Generator) -> str:
    """Mood and instrument always; the tempo as a number (40%), a word (40%) or not at all;
    "drums" when there are drums, 4 times in 5. Varied phrasings teach the model that each word
    means something on its own, and that a prompt can leave a label out."""
    words = f"{MOODS[labels.mode]} {labels.instrument}"
    r = rng.random()
    if r < 0.4:
        words += f", {labels.tempo:g} bpm"
    elif r < 0.8:
        words += f", {tempo_word(labels.tempo)}"
    if labels.drums and rng.random() < 0.8:
        words += ", drums"
    return words


def words_of(prompt: str) -> list[str]:
    """A prompt's words, lower case; commas, full stops and semicolons split words like spaces."""
    return re.sub(r"[,.;]", " ", prompt.lower()).split()


def tokenize(
    prompts: list[str], word_id: dict = WORD_ID, max_words: int = MAX_TOKENS
) -> tuple[torch.Tensor, torch.Tensor]:
    """Prompts -> (ids (B, L), mask (B, L), True = a real token), ids from word_id (the label VOCAB's, or
    phrasings.PHRASE_ID). Words outside it become <unk>; "" becomes the single <empty> token (the
    unconditional branch of guidance)."""
    rows = []
    for prompt in prompts:
        words = words_of(prompt) or [EMPTY]
        if len(words) > max_words:
            raise ValueError(f"prompt {prompt!r} has {len(words)} words; at most {max_words} are read")
        rows.append([word_id.get(w, word_id[UNKNOWN]) for w in words])
    length = max(len(r) for r in rows)
    ids = torch.tensor([r + [word_id[PAD]] * (length - len(r)) for r in rows])  # (B, L)
    return ids, ids != word_id[PAD]


def unknown_words(prompt: str, word_id: dict = WORD_ID) -> list[str]:
    """The words of `prompt` outside word_id's vocabulary (the model has no embedding for them)."""
    return [w for w in words_of(prompt) if w not in word_id]


class TextEncoder(nn.Module):
    """ids (B, L) -> condition tokens (B, L, dim): e = word(id) + position(l); e + MLP(norm(e))."""

    def __init__(self, dim: int, max_tokens: int = MAX_TOKENS, vocab_size: int = len(VOCAB)):
        super().__init__()
        self.word = nn.Embedding(vocab_size, dim)  # another vocabulary (phrasings.PHRASE_VOCAB) may be passed by size
        self.position = nn.Embedding(max_tokens, dim)
        self.norm = RMSNorm(dim)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.SiLU(), nn.Linear(2 * dim, dim))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        e = self.word(ids) + self.position(torch.arange(ids.shape[1], device=ids.device))  # (B, L, dim)
        return e + self.mlp(self.norm(e))  # (B, L, dim)
