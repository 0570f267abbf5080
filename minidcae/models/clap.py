"""miniCLAP: one embedding space for clips and prompts, learned contrastively, for search and for judging.

    MiniClap            log-mel (B, 1, n_mels, T) -> (B, E) and prompts -> (B, E), unit vectors; a learned temperature.
                        Its audio tower starts with the label classifier's CNN (classifier.mel_cnn); its text tower
                        reads the phrasings of minidcae.models.phrasings, tokenized by text.tokenize
    info_nce            the symmetric contrastive loss of CLIP / CLAP
    clap_score          cosine of each clip's embedding with its prompt's: the CLAP score of generated clips
    search_folder       the audio files of a folder ranked by a prompt (`minidcae search`)
    load_clap           a checkpoint back into a MiniClap

Its recipe, `minidcae train-clap`, is minidcae.recipes.clap; `minidcae search` ranks a folder's files by a prompt;
retrieval's figures (R@k, mAP@10, LAION-CLAP's definitions) are minidcae.measure.retrieval.
Taught in notebook 11 (contrastive text and audio).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from einops import rearrange

from minidcae.core.checkpoint import load_model
from minidcae.core.config import ClapConfig, MelConfig
from minidcae.core.errors import MinidcaeError
from minidcae.models.attention import softmax_attention
from minidcae.models.classifier import mel_cnn
from minidcae.models.phrasings import PHRASE_ID, PHRASE_VOCAB
from minidcae.models.text import tokenize


class _AttentionBlock(nn.Module):
    """Pre-norm self-attention over the words (pads masked out), then a feed-forward; both residual."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(width), nn.LayerNorm(width)
        self.qkv, self.out = nn.Linear(width, 3 * width), nn.Linear(width, width)
        self.ff = nn.Sequential(nn.Linear(width, 2 * width), nn.GELU(), nn.Linear(2 * width, width))

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        qkv = rearrange(self.qkv(self.norm1(x)), "b l (three h d) -> three b h l d", three=3, h=self.heads)
        o = softmax_attention(qkv[0], qkv[1], qkv[2], key_padding_mask=mask)  # (B, H, L, d)
        x = x + self.out(rearrange(o, "b h l d -> b l (h d)"))  # (B, L, width)
        return x + self.ff(self.norm2(x))  # (B, L, width)


class MiniClap(nn.Module):
    """Two towers into one space: log-mel (B, 1, n_mels, T) -> (B, E) and prompts -> (B, E), unit length."""

    def __init__(self, cfg: ClapConfig):
        super().__init__()
        self.cfg = cfg
        self.audio_features = mel_cnn(cfg.audio_widths)  # (B, 1, n_mels, T) -> (B, c, n_mels / 2^L, T / 2^L)
        c, rows = cfg.audio_widths[-1], cfg.n_mels // 2 ** len(cfg.audio_widths)
        # a wide convolution over the pooled frames hears rhythm (tempo, drums) across about a second
        self.audio_time = nn.Sequential(
            nn.Conv1d(c * rows, cfg.audio_width, 5, padding=2),
            nn.SiLU(),
            nn.Conv1d(cfg.audio_width, cfg.audio_width, 5, padding=4, dilation=2),
            nn.SiLU(),
        )
        self.audio_proj = nn.Linear(cfg.audio_width, cfg.embed_dim)
        self.word = nn.Embedding(len(PHRASE_VOCAB), cfg.text_width)
        self.position = nn.Embedding(cfg.max_words, cfg.text_width)
        self.blocks = nn.ModuleList(_AttentionBlock(cfg.text_width, cfg.text_heads) for _ in range(cfg.text_layers))
        self.text_norm = nn.LayerNorm(cfg.text_width)
        self.text_proj = nn.Linear(cfg.text_width, cfg.embed_dim)
        # CLIP's learned temperature: logits = exp(s) * cos, s starts at log(1 / 0.07)
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1 / 0.07)))

    def scale(self) -> torch.Tensor:
        # exp(s), s clamped at log(100) as CLIP does, so the logits cannot grow without bound
        return self.logit_scale.clamp(max=math.log(100)).exp()

    def embed_audio(self, mels: torch.Tensor) -> torch.Tensor:
        h = self.audio_features(mels)  # (B, c, n_mels / 2^L, T / 2^L)
        h = self.audio_time(rearrange(h, "b c f t -> b (c f) t"))  # (B, audio_width, T / 2^L)
        return F.normalize(self.audio_proj(h.mean(dim=-1)), dim=-1)  # (B, E)

    def _device(self) -> torch.device:
        return self.logit_scale.device

    def text_tokens(self, prompts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """(per-word states (B, L, text_width), mask (B, L)): the text tower before pooling, for condition tokens."""
        ids, mask = tokenize(prompts, PHRASE_ID, self.cfg.max_words)  # (B, L), (B, L)
        ids, mask = ids.to(self._device()), mask.to(self._device())
        return self.word_states(ids, mask), mask

    def word_states(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """ids (B, L) of text.tokenize over PHRASE_ID and their mask (B, L) -> per-word states (B, L, text_width)."""
        x = self.word(ids) + self.position(torch.arange(ids.shape[1], device=ids.device))  # (B, L, width)
        for block in self.blocks:
            x = block(x, mask)  # (B, L, width)
        return self.text_norm(x)  # (B, L, width)

    def embed_text(self, prompts: list[str]) -> torch.Tensor:
        x, mask = self.text_tokens(prompts)  # (B, L, width), (B, L)
        # masked mean over the real words: sum_l m_l x_l / sum_l m_l
        m = mask.unsqueeze(-1).float()  # (B, L, 1)
        pooled = (x * m).sum(1) / m.sum(1)  # (B, width)
        return F.normalize(self.text_proj(pooled), dim=-1)  # (B, E)


def info_nce(audio_emb: torch.Tensor, text_emb: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Symmetric InfoNCE for N matching pairs (row i of each is one pair); logit_scale is the multiplier
    exp(s) (MiniClap.scale()), as in open_clip's ClipLoss."""
    # l_ij = scale * a_i . t_j;  loss = (CE over rows (audio -> text) + CE over columns (text -> audio)) / 2
    logits = logit_scale * audio_emb @ text_emb.T  # (N, N)
    target = torch.arange(len(logits), device=logits.device)  # (N,)
    return (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target)) / 2


@torch.no_grad()
def embed_mels(model: MiniClap, mels: torch.Tensor, batch: int = 64) -> torch.Tensor:
    """(N, E) on the CPU for mels (N, 1, n_mels, T) on any device."""
    model.eval()
    dev = model._device()
    return torch.cat([model.embed_audio(mels[i : i + batch].to(dev).float()).cpu() for i in range(0, len(mels), batch)])


@torch.no_grad()
def clap_score(model: MiniClap, mels: torch.Tensor, prompts: list[str]) -> torch.Tensor:
    """(N,) cosine of each clip's audio embedding with its prompt's text embedding, in [-1, 1]."""
    model.eval()
    audio = embed_mels(model, mels)  # (N, E)
    text = model.embed_text(list(prompts)).cpu()  # (N, E)
    return (audio * text).sum(-1)  # (N,)


SEARCH_SUFFIXES = (".wav", ".flac", ".ogg")


@torch.no_grad()
def search_folder(checkpoint, prompt: str, folder, top: int = 10, device=None) -> list[tuple[float, Path]]:
    """[(cosine, path)] of the `top` audio files under `folder` closest to `prompt`, best first."""
    from minidcae.sound.audio import log_mel
    from minidcae.sound.audio_files import load_audio

    root = Path(folder)
    if not root.is_dir():
        raise MinidcaeError(f"{root}: no such folder; --data must be a folder of audio files")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in SEARCH_SUFFIXES)
    if not files:
        raise MinidcaeError(f"{root}: no audio files ({', '.join(SEARCH_SUFFIXES)}) in this folder")
    model, meta = load_clap(checkpoint, device or "cpu")
    mel = MelConfig(**meta["info"]["mel"])
    text = model.embed_text([prompt])  # (1, E)
    scores = []
    for path in files:
        x = log_mel(load_audio(path, mel.sample_rate, 1), mel, path)  # (1, n_mels, T)
        # a clip shorter than the audio tower's pooling is padded with its quietest value
        x = F.pad(x, (0, max(0, 2 ** len(model.cfg.audio_widths) - x.shape[-1])), value=float(x.min()))
        audio = model.embed_audio(x[None].to(text.device))  # (1, E)
        scores.append(float(audio @ text[0]))
    order = np.argsort(-np.asarray(scores), kind="stable")[:top]
    return [(scores[i], files[i]) for i in order]


def load_clap(path, device="cpu") -> tuple[MiniClap, dict]:
    """(model, meta) from a checkpoint `minidcae train-clap` wrote."""
    return load_model(path, {"clap": (ClapConfig, MiniClap)}, device)
