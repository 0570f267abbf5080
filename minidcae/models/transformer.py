"""The latent transformer: predicts the flow-matching velocity of a latent, given t and a prompt.

    rotate               rotary position embedding (RoPE) on queries and keys
    TimestepEmbedding    t -> sinusoids -> MLP -> six modulation vectors shared by all blocks (adaLN-single)
    SelfAttention        linear (ReLU) or softmax attention over the latent frames, with RoPE; softmax runs
                         through torch's fused SDPA unless .fused is False (the written-out reference)
    CrossAttention       softmax attention from the latent frames to the prompt tokens
    MelodyEncoder        piano rolls (B, PITCHES + 1, T) -> melody tokens (B, T, dim)
    MelodyAttention      softmax attention from the latent frames to the melody tokens, RoPE on both sides
    GatedFeedForward     up -> depthwise conv over neighbouring frames -> GLU gate -> down
    Block                norm, modulate, self-attend, cross-attend, norm, modulate, feed forward
    LatentTransformer    latent (B, C, F, T) -> tokens (B, T, C F) -> blocks -> velocity (B, C, F, T)

With cfg.melody "cross" or "add" the model also reads a piano roll (minidcae.sound.melody): its tokens are
attended to in every block (cross), or added to the frame tokens before the first (add, ControlNet-style).
Either way the new layers start at zero, so a text model fine-tuned with a melody starts as itself.
With cfg.text "phrases" or "clap" the prompt is read by another encoder (minidcae.models.condition).

The block is ACE-Step's, in small: RMSNorm, adaLN-single, ReLU linear self-attention with RoPE,
softmax cross-attention to the condition, and a gated feed-forward with a depthwise 1D convolution.
Nothing depends on the number of frames, so one model handles any length.

    load_transformer     a checkpoint back into a LatentTransformer (safetensors + JSON, never pickle)

Its recipe is minidcae.recipes.transformer; sampling from it is minidcae.generation.pipeline.
Taught in notebook 07 (latent diffusion); the prompt's path in notebook 08 (conditioning); the melody's
in notebook 10.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from einops import rearrange

from minidcae.core.checkpoint import load_model
from minidcae.core.config import TransformerConfig
from minidcae.models.attention import linear_attention, sdpa_attention, softmax_attention
from minidcae.models.condition import text_encoder_for
from minidcae.models.norms import RMSNorm
from minidcae.sound.melody import PITCHES

MELODY_KINDS = ("none", "cross", "add")


def rotate(x: torch.Tensor, base: float = 10000.0) -> torch.Tensor:
    """RoPE on (B, H, N, d): rotate each pair (x_2i, x_2i+1) of token n by the angle n theta_i,
    theta_i = base^(-2i/d). Then q_n . k_m depends on n - m only: positions become relative."""
    n, d = x.shape[-2], x.shape[-1]
    theta = base ** (-torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d)  # (d/2,)
    angle = torch.arange(n, device=x.device, dtype=torch.float32)[:, None] * theta  # (N, d/2)
    cos, sin = angle.cos(), angle.sin()  # (N, d/2)
    even, odd = x.float()[..., 0::2], x.float()[..., 1::2]  # (B, H, N, d/2)
    # [x_2i, x_2i+1] -> [x_2i cos - x_2i+1 sin, x_2i sin + x_2i+1 cos]
    out = torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1)  # (B, H, N, d/2, 2)
    return out.flatten(-2).to(x.dtype)  # (B, H, N, d)


def sinusoids(t: torch.Tensor, dim: int) -> torch.Tensor:
    """(B,) times in [0, 1] -> (B, dim): cos and sin of 1000 t at frequencies from 1 to 1/10000."""
    freqs = torch.exp(-math.log(10000) * torch.arange(dim // 2, device=t.device) / (dim // 2))  # (dim/2,)
    angle = 1000 * t.float()[:, None] * freqs  # (B, dim/2)
    return torch.cat((angle.cos(), angle.sin()), dim=-1)  # (B, dim)


class TimestepEmbedding(nn.Module):
    """t -> (embedding (B, dim), modulation (B, 6, dim)). adaLN-single (PixArt-alpha): one MLP
    makes the shift, scale and gate of both sub-layers for all blocks; each block adds its own
    learned offset. Far fewer parameters than an MLP per block, as ACE-Step does."""

    def __init__(self, dim: int):
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(dim, dim), nn.SiLU(), nn.Linear(dim, dim))
        self.to_modulation = nn.Sequential(nn.SiLU(), nn.Linear(dim, 6 * dim))

    def forward(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        e = self.mlp(sinusoids(t, self.mlp[0].in_features))  # (B, dim)
        return e, rearrange(self.to_modulation(e), "b (six d) -> b six d", six=6)  # (B, dim), (B, 6, dim)


class SelfAttention(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.heads, self.kind, self.base = cfg.heads, cfg.attention, cfg.rope_base
        if cfg.attention not in ("linear", "softmax"):
            raise ValueError(f"attention must be 'linear' or 'softmax', got {cfg.attention!r}")
        self.qkv = nn.Linear(cfg.dim, 3 * cfg.dim)
        self.out = nn.Linear(cfg.dim, cfg.dim)
        self.fused = True  # softmax through torch's SDPA (fast); False: attention.softmax_attention, written out

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        q, k, v = rearrange(self.qkv(x), "b n (three h d) -> three b h n d", three=3, h=self.heads)  # each (B, H, N, d)
        q, k = rotate(q, self.base), rotate(k, self.base)  # positions enter through the rotation
        softmax = sdpa_attention if self.fused else softmax_attention  # the same numbers (tests/test_attention.py)
        attend = linear_attention if self.kind == "linear" else softmax
        o = attend(q, k, v, key_padding_mask=mask, query_padding_mask=mask)  # (B, H, N, d): 0 at padding
        return self.out(rearrange(o, "b h n d -> b n (h d)"))  # (B, N, dim)


class CrossAttention(nn.Module):
    """Each latent frame asks the prompt tokens what to be: softmax attention (the prompt is short)."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.heads = cfg.heads
        self.q, self.kv, self.out = (
            nn.Linear(cfg.dim, cfg.dim),
            nn.Linear(cfg.dim, 2 * cfg.dim),
            nn.Linear(cfg.dim, cfg.dim),
        )

    def forward(self, x: torch.Tensor, cond: torch.Tensor, cond_mask: torch.Tensor) -> torch.Tensor:
        q = rearrange(self.q(x), "b n (h d) -> b h n d", h=self.heads)  # (B, H, N, d)
        k, v = rearrange(self.kv(cond), "b l (two h d) -> two b h l d", two=2, h=self.heads)  # (B, H, L, d) each
        o = softmax_attention(q, k, v, key_padding_mask=cond_mask)  # (B, H, N, d)
        return self.out(rearrange(o, "b h n d -> b n (h d)"))  # (B, N, dim)


class MelodyEncoder(nn.Module):
    """Piano rolls (B, PITCHES + 1, T) -> melody tokens (B, T, dim): a linear map of each frame's pitches,
    then two convolutions over neighbouring frames (a note's start and end matter, not only its pitch)."""

    def __init__(self, dim: int, kernel: int = 3):
        super().__init__()
        self.frame = nn.Conv1d(PITCHES + 1, dim, 1)  # each frame on its own: which pitch, and is one given
        self.context = nn.Sequential(
            nn.SiLU(), nn.Conv1d(dim, dim, kernel, padding=kernel // 2), nn.SiLU(), nn.Conv1d(dim, dim, 1)
        )

    def forward(self, roll: torch.Tensor) -> torch.Tensor:
        h = self.frame(roll)  # (B, dim, T)
        return rearrange(h + self.context(h), "b d t -> b t d")  # (B, T, dim)


class MelodyAttention(nn.Module):
    """Each latent frame asks the melody what to play. Unlike a prompt, a melody has an order in time, so
    queries (frame n) and keys (melody frame m) are both rotated (RoPE): q_n . k_m depends on n - m, and a
    frame can find the melody frame at its own time. Its output layer starts at zero (no say at first)."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.heads, self.base = cfg.heads, cfg.rope_base
        self.q, self.kv, self.out = (
            nn.Linear(cfg.dim, cfg.dim),
            nn.Linear(cfg.dim, 2 * cfg.dim),
            nn.Linear(cfg.dim, cfg.dim),
        )
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor, melody: torch.Tensor) -> torch.Tensor:
        q = rotate(rearrange(self.q(x), "b n (h d) -> b h n d", h=self.heads), self.base)  # (B, H, N, d)
        k, v = rearrange(self.kv(melody), "b m (two h d) -> two b h m d", two=2, h=self.heads)  # (B, H, M, d) each
        o = softmax_attention(q, rotate(k, self.base), v)  # (B, H, N, d)
        return self.out(rearrange(o, "b h n d -> b n (h d)"))  # (B, N, dim)


class GatedFeedForward(nn.Module):
    """x -> W_up x = [a | g] -> depthwise conv over tokens -> a * SiLU(g) -> W_down. The convolution
    lets each frame see its neighbours, which attention over a whole clip does only coarsely."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        hidden = cfg.ff_mult * cfg.dim
        self.up = nn.Linear(cfg.dim, 2 * hidden)
        self.conv = nn.Conv1d(2 * hidden, 2 * hidden, cfg.conv_kernel, padding=cfg.conv_kernel // 2, groups=2 * hidden)
        self.down = nn.Linear(hidden, cfg.dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = rearrange(self.conv(rearrange(self.up(x), "b n c -> b c n")), "b c n -> b n c")  # (B, N, 2 hidden)
        a, g = h.chunk(2, dim=-1)  # (B, N, hidden) each
        return self.down(a * F.silu(g))  # (B, N, dim)


class Block(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.norm1, self.norm_cross, self.norm2 = RMSNorm(cfg.dim), RMSNorm(cfg.dim), RMSNorm(cfg.dim)
        self.attn, self.cross, self.ff = SelfAttention(cfg), CrossAttention(cfg), GatedFeedForward(cfg)
        self.modulation = nn.Parameter(torch.zeros(6, cfg.dim))  # this block's offset to the shared modulation
        if cfg.melody == "cross":
            self.norm_melody, self.melody = RMSNorm(cfg.dim), MelodyAttention(cfg)

    def forward(self, x, modulation, cond, cond_mask, mask=None, melody=None):
        shift1, scale1, gate1, shift2, scale2, gate2 = (modulation + self.modulation).unbind(dim=1)  # (B, dim) each
        # h = RMSNorm(x) (1 + scale) + shift: the timestep sets each channel's level and offset
        h = self.norm1(x) * (1 + scale1[:, None]) + shift1[:, None]  # (B, N, dim)
        x = x + gate1[:, None] * self.attn(h, mask)  # (B, N, dim)
        x = x + self.cross(self.norm_cross(x), cond, cond_mask)  # (B, N, dim)
        if hasattr(self, "melody"):
            x = x + self.melody(self.norm_melody(x), melody)  # (B, N, dim)
        h = self.norm2(x) * (1 + scale2[:, None]) + shift2[:, None]  # (B, N, dim)
        return x + gate2[:, None] * self.ff(h)  # (B, N, dim)


class LatentTransformer(nn.Module):
    """velocity = model(x_t (B, C, F, T), t (B,) or a float, prompt ids (B, L), prompt mask (B, L))."""

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.cfg = cfg
        self.text = text_encoder_for(cfg)  # cfg.text: labels (the default), phrases or clap (minidcae.models.condition)
        self.time = TimestepEmbedding(cfg.dim)
        self.proj_in = nn.Linear(cfg.token_size, cfg.dim)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.depth))
        self.norm_out = RMSNorm(cfg.dim)
        self.final_modulation = nn.Linear(cfg.dim, 2 * cfg.dim)  # shift and scale before the output layer
        self.proj_out = nn.Linear(cfg.dim, cfg.token_size)
        if cfg.melody not in MELODY_KINDS:
            raise ValueError(f"melody must be one of {', '.join(MELODY_KINDS)}, got {cfg.melody!r}")
        if cfg.melody != "none":
            self.melody_encoder = MelodyEncoder(cfg.dim)
        if cfg.melody == "add":
            self.melody_in = nn.Linear(cfg.dim, cfg.dim)  # a "zero convolution", as ControlNet starts its branch
        for layer in (
            self.proj_out,
            self.final_modulation,
            self.time.to_modulation[1],
            getattr(self, "melody_in", None),
        ):
            if layer is not None:
                nn.init.zeros_(layer.weight)  # start as "predict 0, every block an identity": a calm start
                nn.init.zeros_(layer.bias)

    def forward(
        self,
        x: torch.Tensor,
        t,
        ids: torch.Tensor,
        ids_mask: torch.Tensor,
        mask: torch.Tensor | None = None,
        melody: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """melody: piano rolls (B, PITCHES + 1, N) at the latent frame rate, or None for no melody (a model
        without melody layers ignores it)."""
        b, c, f, n = x.shape
        t = torch.as_tensor(t, dtype=torch.float32, device=x.device).expand(b)  # (B,): a float for all, or one each
        tokens = self.proj_in(rearrange(x, "b c f n -> b n (c f)"))  # (B, N, dim): one token per latent frame
        cond = self.text(ids)  # (B, L, dim)
        emb, modulation = self.time(t)  # (B, dim), (B, 6, dim)
        tune = None
        if self.cfg.melody != "none":
            melody = x.new_zeros(b, PITCHES + 1, n) if melody is None else melody  # zeros: no melody anywhere
            tune = self.melody_encoder(melody.to(x.dtype))  # (B, N, dim)
        if self.cfg.melody == "add":
            tokens = tokens + self.melody_in(tune)  # (B, N, dim): each frame gets its own time's melody
        for block in self.blocks:
            tokens = block(tokens, modulation, cond, ids_mask, mask, tune)  # (B, N, dim)
        shift, scale = self.final_modulation(F.silu(emb)).chunk(2, dim=-1)  # (B, dim) each
        tokens = self.norm_out(tokens) * (1 + scale[:, None]) + shift[:, None]  # (B, N, dim)
        return rearrange(self.proj_out(tokens), "b n (c f) -> b c f n", c=c, f=f)  # (B, C, F, N)


# Checkpoints written before the latent transformer had one name say kind "dit"; they load the same.
BUILDERS = {"transformer": (TransformerConfig, LatentTransformer), "dit": (TransformerConfig, LatentTransformer)}


def load_transformer(path, device="cpu") -> tuple[LatentTransformer, dict]:
    """(model, meta) from a checkpoint `minidcae train-transformer` wrote."""
    return load_model(path, BUILDERS, device)
