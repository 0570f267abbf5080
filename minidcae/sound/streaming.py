"""Long audio in bounded memory: encode, decode and vocode window by window, and join with crossfades.

    crossfade_weights    per-window weights that rise, hold 1 and fall, summing to 1 wherever windows overlap
    windowed             apply f to overlapping windows of (..., T) and overlap-add with those weights
    encode_long          log-mel (C, n_mels, T) -> latent, windows of the mel (the encoder sees context)
    decode_long          latent (C, F, T') -> log-mel, windows of the latent (as ACE-Step decodes)
    griffin_lim_long     log-mel -> waveform, windows of frames joined by a crossfade in the waveform
    stream_decode        latent -> audio chunks as they are ready (time to first audio, notebook 09)

A window sees `context` frames beyond its part on each side, so its edges are computed as they
would be in the whole file; the overlap is then crossfaded, so any small difference is blended
rather than cut. Memory depends on the window, not on the file's length.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import torch

from minidcae.core.config import MelConfig
from minidcae.sound.audio import griffin_lim


def crossfade_weights(length: int, fade: int, first: bool, last: bool) -> torch.Tensor:
    """(length,) weights: a linear rise over `fade` frames (unless first), 1, a linear fall (unless last).
    Two neighbours overlapping by `fade` frames have weights summing to exactly 1 there."""
    w = torch.ones(length)
    ramp = (torch.arange(fade) + 0.5) / fade  # (fade,): 1/(2 fade) ... 1 - 1/(2 fade); ramp + reversed = 1
    if not first:
        w[:fade] = ramp
    if not last:
        w[-fade:] = ramp.flip(0)
    return w


def windowed(
    f: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    window: int,
    fade: int,
    context: int = 0,
    scale: float = 1.0,
) -> torch.Tensor:
    """Overlap-add f over windows of x's last axis.

    Window k covers input frames [k (window - fade), k (window - fade) + window); f also sees
    `context` frames on each side (clipped at the ends) and its output, `scale` output frames per
    input frame, is cropped back to the window. Outputs are joined with crossfade_weights."""
    n = x.shape[-1]
    if n <= window:
        return f(x)
    if not 0 < fade < window:
        raise ValueError(f"fade must be between 0 and the window ({window}), got {fade}")
    hop = window - fade
    starts = list(range(0, n - fade, hop))  # each window starts hop frames after the last
    out = None
    for i, start in enumerate(starts):
        end = min(start + window, n)
        lo, hi = max(0, start - context), min(n, end + context)
        y = f(x[..., lo:hi])  # (..., (hi - lo) * scale)
        a, b = round((start - lo) * scale), round((end - lo) * scale)
        piece = y[..., a:b]  # (..., (end - start) * scale)
        if out is None:
            out = torch.zeros(*piece.shape[:-1], round(n * scale), dtype=piece.dtype)
        w = crossfade_weights(piece.shape[-1], round(fade * scale), i == 0, end == n)  # (L,)
        out[..., round(start * scale) : round(start * scale) + piece.shape[-1]] += piece * w
        if end == n:
            break
    return out


@torch.no_grad()
def encode_long(model, x: torch.Tensor, window: int = 1024, fade: int = 128, context: int = 64) -> torch.Tensor:
    """Log-mel (C, n_mels, T) -> latent (C', F', ceil(T / tf)), encoded `window` mel frames at a time.
    window, fade and context are in mel frames and must be multiples of the time factor."""
    tf = model.cfg.time_factor
    for name, v in (("window", window), ("fade", fade), ("context", context)):
        if v % tf:
            raise ValueError(f"{name}={v} must be a multiple of the time factor {tf}")
    pad = -x.shape[-1] % tf
    x = torch.nn.functional.pad(x, (0, pad), value=-1.0)  # (C, n_mels, T'): whole latent frames
    device = next(model.parameters()).device
    enc = lambda piece: model.encode(piece[None].to(device))[0].float().cpu()  # noqa: E731
    return windowed(enc, x, window, fade, context, scale=1 / tf)


DECODE_WINDOW = 128  # latent frames the decoder takes at once (about 12 s at the shipped DCAE's rate)


@torch.no_grad()
def decode_long(
    model,
    z: torch.Tensor,
    n_mels: int,
    frames: int | None = None,
    window: int = DECODE_WINDOW,
    fade: int = 16,
    context: int = 8,
) -> torch.Tensor:
    """Latent (C', F', T') -> log-mel (C, n_mels, frames or T' tf), decoded `window` latent frames at a time."""
    tf = model.cfg.time_factor
    device = next(model.parameters()).device
    dec = lambda piece: model.decode(piece[None].to(device), (n_mels, piece.shape[-1] * tf))[0].float().cpu()  # noqa: E731
    x = windowed(dec, z, window, fade, context, scale=tf)
    return x if frames is None else x[..., :frames]


def griffin_lim_long(
    x: torch.Tensor, cfg: MelConfig, n_iter: int = 32, window: int = 1024, fade: int = 32, context: int = 16
) -> torch.Tensor:
    """Log-mel (C, n_mels, T) -> waveform (C, T hop), Griffin-Lim on windows of frames joined in the waveform."""
    return windowed(lambda piece: griffin_lim(piece, cfg, n_iter), x, window, fade, context, scale=cfg.hop_length)


@torch.no_grad()
def stream_decode(
    model, z: torch.Tensor, cfg: MelConfig, chunk: int = 16, context: int = 8, n_iter: int = 32
) -> Iterator[torch.Tensor]:
    """Yield waveform chunks (C, chunk tf hop) of the decoded latent, in order, each as soon as it is made.

    Each chunk is decoded with `context` latent frames of lookahead and lookbehind and voiced by
    Griffin-Lim on its own: the first audio is ready after one chunk's work, not the whole file's."""
    tf, n = model.cfg.time_factor, z.shape[-1]
    device = next(model.parameters()).device
    for start in range(0, n, chunk):
        end = min(n, start + chunk)
        lo, hi = max(0, start - context), min(n, end + context)
        x = model.decode(z[None, ..., lo:hi].to(device), (cfg.n_mels, (hi - lo) * tf))[0].float().cpu()
        x = x[..., (start - lo) * tf : (end - lo) * tf]  # (C, n_mels, (end - start) tf)
        yield griffin_lim(x, cfg, n_iter)
