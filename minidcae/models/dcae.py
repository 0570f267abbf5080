"""The deep compressed autoencoder (DCAE): a fully convolutional encoder and decoder over log-mels.

DC-AE's idea, residual autoencoding: every down block adds a parameter-free shortcut that moves
space into channels (pixel-unshuffle, then average channel groups to the new width), and every
up block adds the reverse (repeat channels, pixel-shuffle). The convolutions only learn what the
shortcut misses, so a deep, strongly compressing network still trains quickly.

    x (B, 1, 64, T) -> encoder -> h (B, C_lat * k, 64 / ff, T / tf) -> bottleneck -> z -> decoder -> x_hat

With DCAEConfig(skips=True) the decoder also adds each level's encoder feature map (U-Net skips):
DCAE.encode_with_skips returns them beside z, and DCAE.decode takes them. Notebook 13 measures why no
generative autoencoder has them: the decoder leans on the skips and the latent alone no longer decodes.

Loading a trained one:

    load_autoencoder          a checkpoint back into a DCAE (safetensors + JSON, never pickle)
    load_latent_autoencoder   the same, refusing a U-Net-skip DCAE where latents are decoded alone
    mel_config_of             the front end a checkpoint was trained on

Running one on audio and files (reconstruct, encode_audio, decode_latent) is minidcae.generation.autoencoding;
its losses, data, measurement and the `minidcae train-ae` recipe are in minidcae.recipes.autoencoder.
Taught in notebook 02 (deep compression); the files in notebook 04 (latent space).
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F
from einops import rearrange

from minidcae.core.checkpoint import load_model
from minidcae.core.config import DEFAULT_DCAE, DCAEConfig, MelConfig
from minidcae.core.errors import MinidcaeError
from minidcae.models.bottleneck import make_bottleneck
from minidcae.models.norms import GroupNorm


def match_channels(h: torch.Tensor, channels: int, what: str = "match_channels") -> torch.Tensor:
    """Average neighbouring channel groups down to `channels`, or repeat each channel up to it.

    Whole groups only: one count must divide the other (DC-AE's shortcuts assert the same)."""
    c = h.shape[1]
    if c == channels:
        return h
    if max(c, channels) % min(c, channels):
        raise ValueError(
            f"{what}: cannot turn {c} channels into {channels}; one must divide the other, "
            "so that whole groups of channels are averaged or repeated"
        )
    if c > channels:
        return rearrange(h, "b (o g) f t -> b o g f t", o=channels).mean(dim=2)  # (B, channels, F, T)
    return h.repeat_interleave(channels // c, dim=1)  # (B, channels, F, T)


def space_to_channel(x: torch.Tensor, sf: int, st: int, channels: int) -> torch.Tensor:
    """DC-AE's down shortcut: (B, C, F, T) -> (B, channels, F / sf, T / st), no parameters."""
    h = rearrange(x, "b c (f sf) (t st) -> b (c sf st) f t", sf=sf, st=st)  # (B, C sf st, F/sf, T/st)
    return match_channels(
        h,
        channels,
        f"space_to_channel(sf={sf}, st={st}, channels={channels}) "
        f"on {x.shape[1]} channels ({x.shape[1]} x {sf} x {st} after unshuffling)",
    )


def channel_to_space(x: torch.Tensor, sf: int, st: int, channels: int) -> torch.Tensor:
    """DC-AE's up shortcut: (B, C, F, T) -> (B, channels, F sf, T st), no parameters."""
    what = f"channel_to_space(sf={sf}, st={st}, channels={channels}) needs {channels} x {sf} x {st} channels"
    h = match_channels(x, channels * sf * st, what)  # (B, channels sf st, F, T)
    return rearrange(h, "b (c sf st) f t -> b c (f sf) (t st)", sf=sf, st=st)


def norm(channels: int) -> nn.GroupNorm:
    return GroupNorm(min(8, channels), channels)


class ResBlock(nn.Module):
    """x + conv(silu(norm(conv(silu(norm(x))))))"""

    def __init__(self, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            norm(channels),
            nn.SiLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
            norm(channels),
            nn.SiLU(),
            nn.Conv2d(channels, channels, 3, padding=1),
        )

    def forward(self, x):
        return x + self.body(x)


class Down(nn.Module):
    """Strided conv to the next width, plus the space-to-channel shortcut."""

    def __init__(self, c_in: int, c_out: int, sf: int, st: int, shortcut: bool):
        super().__init__()
        self.sf, self.st, self.c_out, self.shortcut = sf, st, c_out, shortcut
        self.conv = nn.Conv2d(c_in, c_out, 3, stride=(sf, st), padding=1)

    def forward(self, x):  # (B, c_in, F, T) -> (B, c_out, F / sf, T / st)
        y = self.conv(x)
        return y + space_to_channel(x, self.sf, self.st, self.c_out) if self.shortcut else y


class Up(nn.Module):
    """Conv to c_out * sf * st channels, pixel-shuffle, plus the channel-to-space shortcut."""

    def __init__(self, c_in: int, c_out: int, sf: int, st: int, shortcut: bool):
        super().__init__()
        self.sf, self.st, self.c_out, self.shortcut = sf, st, c_out, shortcut
        self.conv = nn.Conv2d(c_in, c_out * sf * st, 3, padding=1)

    def forward(self, x):  # (B, c_in, F, T) -> (B, c_out, F sf, T st)
        y = rearrange(self.conv(x), "b (c sf st) f t -> b c (f sf) (t st)", sf=self.sf, st=self.st)
        return y + channel_to_space(x, self.sf, self.st, self.c_out) if self.shortcut else y


def level_factors(cfg: DCAEConfig) -> list[tuple[int, int]]:
    """(freq, time) downsampling between level i and i + 1: 2 while the factor allows, else 1."""
    for name, factor in (("time_factor", cfg.time_factor), ("freq_factor", cfg.freq_factor)):
        if factor not in (1, 2, 4, 8, 16):
            raise ValueError(f"{name} must be 1, 2, 4, 8 or 16, got {factor}")
        if factor > 2 ** (len(cfg.widths) - 1):
            raise ValueError(
                f"{name}={factor} needs at least {int(math.log2(factor)) + 1} widths, "
                f"got {len(cfg.widths)}: {cfg.widths}"
            )
    n_t, n_f = int(math.log2(cfg.time_factor)), int(math.log2(cfg.freq_factor))
    return [(2 if i < n_f else 1, 2 if i < n_t else 1) for i in range(len(cfg.widths) - 1)]


class Encoder(nn.Module):
    def __init__(self, cfg: DCAEConfig, out_channels: int):
        super().__init__()
        w, self.shortcuts, self.out_channels = cfg.widths, cfg.shortcuts, out_channels
        self.conv_in = nn.Conv2d(cfg.in_channels, w[0], 3, padding=1)
        self.levels = nn.Sequential(
            *[
                nn.Sequential(
                    *[ResBlock(w[i]) for _ in range(cfg.blocks_per_level)], Down(w[i], w[i + 1], sf, st, cfg.shortcuts)
                )
                for i, (sf, st) in enumerate(level_factors(cfg))
            ]
        )
        self.last = nn.Sequential(*[ResBlock(w[-1]) for _ in range(cfg.blocks_per_level)], norm(w[-1]), nn.SiLU())
        self.conv_out = nn.Conv2d(w[-1], out_channels, 3, padding=1)

    def forward(self, x, skips: list | None = None):  # (B, in_channels, F, T) -> (B, out_channels, F / ff, T / tf)
        """skips: a list to which each level's feature map is appended before it is downsampled (U-Net)."""
        h = self.conv_in(x)  # (B, w[0], F, T)
        for level in self.levels:
            h = level[:-1](h)  # the level's ResBlocks: (B, w[i], F / 2^i, T / 2^i)
            if skips is not None:
                skips.append(h)
            h = level[-1](h)  # Down: (B, w[i + 1], F / 2^(i + 1), T / 2^(i + 1)) where the factors allow
        h = self.last(h)  # (B, w[-1], F / ff, T / tf)
        y = self.conv_out(h)
        return y + match_channels(h, self.out_channels) if self.shortcuts else y


class Decoder(nn.Module):
    def __init__(self, cfg: DCAEConfig):
        super().__init__()
        w, self.shortcuts, self.width = cfg.widths, cfg.shortcuts, cfg.widths[-1]
        self.conv_in = nn.Conv2d(cfg.latent_channels, w[-1], 3, padding=1)
        self.first = nn.Sequential(*[ResBlock(w[-1]) for _ in range(cfg.blocks_per_level)])
        self.levels = nn.Sequential(
            *[
                nn.Sequential(
                    Up(w[i + 1], w[i], sf, st, cfg.shortcuts), *[ResBlock(w[i]) for _ in range(cfg.blocks_per_level)]
                )
                for i, (sf, st) in reversed(list(enumerate(level_factors(cfg))))
            ]
        )
        self.head = nn.Sequential(norm(w[0]), nn.SiLU(), nn.Conv2d(w[0], cfg.in_channels, 3, padding=1))
        if cfg.skips:  # U-Net: a 1x1 conv of the encoder's level-i map, added where the decoder reaches level i
            self.skip_in = nn.ModuleList([nn.Conv2d(w[i], w[i], 1) for i in reversed(range(len(w) - 1))])

    def forward(self, z, skips: list | None = None):  # (B, latent_channels, F / ff, T / tf) -> (B, in_channels, F, T)
        """skips: the encoder's feature maps, finest first (Encoder.forward's list); only with cfg.skips."""
        h = self.conv_in(z)
        h = h + match_channels(z, self.width) if self.shortcuts else h  # (B, w[-1], F / ff, T / tf)
        h = self.first(h)
        for k, level in enumerate(self.levels):  # coarsest level first
            h = level[0](h)  # Up: (B, w[i], F / 2^i, T / 2^i)
            if skips is not None:
                # h = h + W_i * e_i, e_i the encoder's feature map at the same level
                h = h + self.skip_in[k](skips[-1 - k])  # (B, w[i], F / 2^i, T / 2^i)
            h = level[1:](h)  # the level's ResBlocks
        return self.head(h)  # (B, in_channels, F, T)


class DCAE(nn.Module):
    """Encoder, bottleneck, decoder; any number of frames (padded to a multiple, cropped back)."""

    def __init__(self, cfg: DCAEConfig = DEFAULT_DCAE):
        super().__init__()
        self.cfg = cfg
        self.bottleneck = make_bottleneck(cfg.bottleneck, cfg.latent_channels, cfg.kl_weight, cfg.codebook_size)
        self.encoder = Encoder(cfg, cfg.latent_channels * self.bottleneck.in_factor)
        self.decoder = Decoder(cfg)
        # Per-channel mean and std of the latents, computed from the training data after training
        # (compute_latent_stats), so a diffusion model works on z_norm = (z - mean) / std, each
        # channel near N(0, 1). ACE-Step instead uses one global pair for every channel, fixed
        # for its released autoencoder: see ace_step_normalize_latent.
        self.register_buffer("latent_mean", torch.zeros(cfg.latent_channels))
        self.register_buffer("latent_std", torch.ones(cfg.latent_channels))

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """Pad mels and frames up to multiples of the factors with -1 (about silence)."""
        f_pad, t_pad = -x.shape[-2] % self.cfg.freq_factor, -x.shape[-1] % self.cfg.time_factor
        return F.pad(x, (0, t_pad, 0, f_pad), value=-1.0)  # (B, C, F', T')

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, C, F, T) -> the deterministic latent (B, latent_channels, F' / ff, T' / tf)."""
        return self.bottleneck.mode(self.encoder(self.pad(x)))

    def encode_with_skips(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(the deterministic latent, the encoder's feature map of each level, finest first): what a
        U-Net decoder (cfg.skips) reads."""
        skips = []
        h = self.encoder(self.pad(x), skips)  # (B, C_lat * k, F' / ff, T' / tf)
        return self.bottleneck.mode(h), skips

    def decode(self, z: torch.Tensor, shape: tuple[int, int] | None = None, skips: list | None = None) -> torch.Tensor:
        """Latent -> log-mel; `shape` = (mels, frames) crops the padding away. skips: the encoder's feature
        maps (encode_with_skips), for a DCAE built with cfg.skips; without them such a decoder sees the latent only."""
        if skips is not None and not self.cfg.skips:
            raise ValueError("decode(skips=...): this DCAE was built without U-Net skips (DCAEConfig.skips=False)")
        x = self.decoder(z, skips)  # (B, C, F', T')
        return x[..., : shape[0], : shape[1]] if shape else x

    def forward(self, x: torch.Tensor):
        """Reconstruct x; returns (x_hat, aux) where aux holds the bottleneck's loss and figures."""
        skips = [] if self.cfg.skips else None
        h = self.encoder(self.pad(x), skips)  # (B, C_lat * k, F' / ff, T' / tf)
        z, aux = self.bottleneck(h)  # (B, C_lat, F' / ff, T' / tf)
        return self.decode(z, x.shape[-2:], skips), aux

    def normalize_latent(self, z: torch.Tensor) -> torch.Tensor:
        return (z - self.latent_mean[:, None, None]) / self.latent_std[:, None, None]

    def denormalize_latent(self, z: torch.Tensor) -> torch.Tensor:
        return z * self.latent_std[:, None, None] + self.latent_mean[:, None, None]


# ACE-Step v1's latent normalisation (MusicDCAE's shift_factor and scale_factor): one pair for
# all 8 channels, z = (z_raw - shift) * scale, where ours keeps a mean and a std per channel.
ACE_STEP_LATENT_SHIFT = -1.9091
ACE_STEP_LATENT_SCALE = 0.1786


def ace_step_normalize_latent(z: torch.Tensor) -> torch.Tensor:
    """ACE-Step's global latent normalisation: z = (z_raw - shift) * scale = (z_raw + 1.9091) * 0.1786."""
    return (z - ACE_STEP_LATENT_SHIFT) * ACE_STEP_LATENT_SCALE


def ace_step_denormalize_latent(z: torch.Tensor) -> torch.Tensor:
    """Its exact inverse, as ACE-Step decodes: z_raw = z / scale + shift."""
    return z / ACE_STEP_LATENT_SCALE + ACE_STEP_LATENT_SHIFT


@torch.no_grad()
def compute_latent_stats(model: DCAE, mels) -> None:
    """Set the model's per-channel latent mean and std from an iterable of (B, C, F, T) batches."""
    zs = [rearrange(model.encode(x), "b c f t -> c (b f t)") for x in mels]
    z = torch.cat(zs, dim=1)  # (C, N)
    model.latent_mean.copy_(z.mean(dim=1))
    model.latent_std.copy_(z.std(dim=1).clamp(min=1e-5))


def count_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# ----------------------------------------------------------------------------- loading a trained DCAE

BUILDERS = {"dcae": (DCAEConfig, DCAE)}


def load_autoencoder(path, device="cpu") -> tuple[DCAE, dict]:
    """(model, meta) from a checkpoint; meta["info"]["mel"] is the front end it was trained on."""
    model, meta = load_model(path, BUILDERS, device)
    return model, meta


def load_latent_autoencoder(path, device="cpu") -> tuple[DCAE, dict]:
    """load_autoencoder for every command that decodes (or trains on) latents alone: a U-Net-skip DCAE
    (notebook 13's) is refused in one line that names its file."""
    model, meta = load_autoencoder(path, device)
    refuse_skips(model, str(path))
    return model, meta


def refuse_skips(model: DCAE, what: str) -> None:
    """One line for a user who hands a U-Net-skip DCAE to a command that decodes latents alone."""
    if model.cfg.skips:
        raise MinidcaeError(
            f"{what}: this autoencoder has U-Net skips (DCAEConfig.skips), so its decoder needs the encoder's "
            "feature maps and cannot decode a latent alone; use one trained without skips (e.g. the shipped dcae_t8)"
        )


def mel_config_of(meta: dict) -> MelConfig:
    return MelConfig(**meta["info"]["mel"]) if "mel" in meta.get("info", {}) else MelConfig()
