"""A small neural vocoder: normalised log-mel -> waveform in one forward pass (Vocos-style).

    Vocoder            ConvNeXt blocks over the frames -> per-frame log-magnitude and phase -> inverse STFT
    inverse_stft       overlap-add with audio.stft's own frames (frame k centred on sample k hop + hop / 2)
    make_consistent    one Griffin-Lim step: keep |S|, take the phase the overlapping frames agree on
    load_vocoder / vocode    a checkpoint back into a Vocoder; log-mel -> waveform (a whole batch at once)

Its data, losses, measurement and the `minidcae train-vocoder` recipe are in minidcae.recipes.vocoder;
its discriminator in minidcae.models.discriminators; a file through it is minidcae.generation.autoencoding.
Taught in notebook 05 (evaluating reconstructions).

Griffin-Lim guesses a phase by iterating; a vocoder learns to predict one. Vocos's idea: do not
generate samples one upsampling layer at a time (HiFi-GAN), predict the STFT frame by frame at the
mel's own frame rate and let an inverse FFT make the samples; the network never leaves frame rate.

Two small additions help a CPU-sized network with the phase:
- frame_clock: a steady sinusoid at bin f's centre turns by 2 pi f hop / n_fft between frames, but a
  convolution sees the same input at every frame of a steady note and so predicts the same phase.
  The clock adds that turn, and the network is told k mod P (P frames bring every bin back round).
- consistency_steps: K Griffin-Lim steps inside the network, trained through, so the network learns
  a phase that K steps finish (each step is one STFT and one inverse STFT, as a Griffin-Lim iteration).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from einops import rearrange

from minidcae.core.checkpoint import load_model
from minidcae.core.config import MelConfig, VocoderConfig
from minidcae.core.errors import MinidcaeError
from minidcae.models.norms import LayerNorm
from minidcae.sound.audio import denormalize_log_mel, mel_filterbank, stft

MAX_LOG_MAGNITUDE = 4.6  # log(100): Vocos's cap on the predicted magnitude, so a young network cannot overflow


# ----------------------------------------------------------------------------- the inverse STFT


def inverse_stft(spec: torch.Tensor, cfg: MelConfig) -> torch.Tensor:
    """Complex STFT (..., n_freqs, frames) in audio.stft's convention -> waveform (..., frames * hop).

    audio.stft reflect-pads side = (n_fft - hop) / 2 samples at each end and cuts a Hann window
    every hop samples, not centred: frame k covers padded samples [k hop, k hop + n_fft), i.e.
    original samples [k hop - side, k hop - side + n_fft), centred on k hop + hop / 2. To undo it:
    inverse FFT each frame, window it again, add the frames at their places (overlap-add), divide
    by the sum of squared windows that covered each sample, then drop the `side` padded samples in
    front. (torch.istft would do the same, but with center=False it refuses the zero-valued first
    sample of the Hann window.) For an exact STFT this gives the waveform back.
    """
    frames, hop, n_fft = spec.shape[-1], cfg.hop_length, cfg.n_fft
    side = (n_fft - hop) // 2
    window = torch.hann_window(n_fft, device=spec.device)  # (n_fft,)
    flat = spec.reshape(-1, *spec.shape[-2:])  # (N, n_freqs, T)
    # x_k[n] = w[n] * irfft(S[:, k])[n]
    pieces = torch.fft.irfft(flat, n=n_fft, dim=1) * window[:, None]  # (N, n_fft, T)
    length = (frames - 1) * hop + n_fft

    def overlap_add(p):  # (N, n_fft, T) -> (N, length):  y[n] = sum_k p_k[n - k hop]
        return F.fold(p, output_size=(1, length), kernel_size=(1, n_fft), stride=(1, hop))[:, 0, 0]

    y = overlap_add(pieces)  # (N, length)
    # env[n] = sum_k w[n - k hop]^2: never zero between the first and the last frame's centres
    envelope = overlap_add(window.square()[None, :, None].expand(1, n_fft, frames))  # (1, length)
    y = y / envelope.clamp(min=1e-8)  # (N, length)
    wav = y[:, side : side + frames * hop]  # (N, frames * hop)
    return wav.reshape(*spec.shape[:-2], frames * hop)


def make_consistent(spec: torch.Tensor, cfg: MelConfig) -> torch.Tensor:
    """One Griffin-Lim step (..., n_freqs, frames) -> same shape: keep each bin's magnitude, take the
    phase the overlapping frames agree on, S <- |S| STFT(iSTFT(S)) / |STFT(iSTFT(S))|."""
    agreed = stft(inverse_stft(spec, cfg), cfg)  # (..., F, T): the nearest spectrogram a waveform can have
    return spec.abs() * agreed / agreed.abs().clamp(min=1e-8)  # (..., F, T)


# ----------------------------------------------------------------------------- the network


def spread_matrix(cfg: MelConfig) -> torch.Tensor:
    """(n_freqs, n_mels): a first guess of the linear magnitude from the mel, s ~= W @ mel.

    Band m's mel is mel_m = sum_f fb[f, m] s_f; if s is flat across the band, the band's mean
    magnitude is mel_m / c_m with c_m = sum_f fb[f, m]. Each bin then takes the fb-weighted mean of
    the bands covering it: s_f = sum_m fb[f, m] (mel_m / c_m) / sum_m fb[f, m].
    """
    fb = mel_filterbank(cfg, "cpu")  # (F, M)
    band_sum = fb.sum(dim=0, keepdim=True).clamp(min=1e-8)  # (1, M)
    bin_sum = fb.sum(dim=1, keepdim=True).clamp(min=1e-8)  # (F, 1)
    return (fb / band_sum / bin_sum).contiguous()  # (F, M)


class ConvNeXtBlock(nn.Module):
    """x + gamma * W2 GELU(W1 LayerNorm(depthwise_conv(x))), over (B, dim, T): a ConvNeXt block in 1D."""

    def __init__(self, dim: int, kernel: int, expansion: int, layer_scale: float):
        super().__init__()
        self.conv = nn.Conv1d(dim, dim, kernel, padding=kernel // 2, groups=dim)
        self.norm = LayerNorm(dim)
        self.up = nn.Linear(dim, expansion * dim)
        self.down = nn.Linear(expansion * dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), layer_scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = rearrange(self.conv(x), "b d t -> b t d")  # (B, T, dim): mixes neighbouring frames per channel
        h = self.down(F.gelu(self.up(self.norm(h))))  # (B, T, dim): mixes channels per frame
        return x + rearrange(self.gamma * h, "b t d -> b d t")  # (B, dim, T)


class Vocoder(nn.Module):
    """Normalised log-mel (B, C, n_mels, T) -> waveform (B, C, T * hop); channels are vocoded alone."""

    def __init__(self, cfg: VocoderConfig):
        super().__init__()
        self.cfg, mel = cfg, cfg.mel
        self.embed = nn.Conv1d(cfg.n_mels + cfg.clock_period, cfg.dim, cfg.kernel, padding=cfg.kernel // 2)
        self.norm_in = LayerNorm(cfg.dim)
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(cfg.dim, cfg.kernel, cfg.expansion, 1 / cfg.blocks) for _ in range(cfg.blocks)
        )
        self.norm_out = LayerNorm(cfg.dim)
        self.head = nn.Linear(cfg.dim, 2 * mel.n_freqs)  # per frame: log-magnitude correction and phase
        # Start from the mel spread over the bins, each frame a pulse at its own centre: phase
        # phi_f = pi f delays bin f by n_fft / 2 samples (e^{-i 2 pi f (n_fft/2) / n_fft} = e^{-i pi f}, and
        # cos, sin do not mind the sign). Zero phase would put the pulse at the window's edge, where
        # the Hann window is zero: silence. (With the frame clock, frame k's pulse moves back by k hop
        # samples, so every frame's pulse lands on the same sample: one pulse each n_fft samples.)
        # The network learns what differs from this start.
        nn.init.zeros_(self.head.weight)
        with torch.no_grad():
            self.head.bias.zero_()
            self.head.bias[mel.n_freqs :] = torch.pi * torch.arange(mel.n_freqs)
        self.register_buffer("spread", spread_matrix(mel), persistent=False)  # (n_freqs, n_mels)

    def spectrum(self, x: torch.Tensor) -> torch.Tensor:
        """(N, n_mels, T) normalised log-mel -> (N, n_freqs, T) complex STFT."""
        mel = self.cfg.mel
        # base = log(max(W exp(log_mel), floor)): the spread-out mel, in log magnitude
        base = torch.log((self.spread @ torch.exp(denormalize_log_mel(x, mel))).clamp(min=mel.log_floor))  # (N, F, T)
        frame = torch.arange(x.shape[-1], device=x.device)  # (T,)
        if self.cfg.frame_clock:
            # the network cannot tell frame k from frame k+1 in a steady note; give it k mod P as a one-hot
            position = F.one_hot(frame % self.cfg.clock_period, self.cfg.clock_period).T  # (P, T)
            x = torch.cat([x, position.float().expand(x.shape[0], -1, -1)], dim=1)  # (N, n_mels + P, T)
        h = rearrange(self.norm_in(rearrange(self.embed(x), "n d t -> n t d")), "n t d -> n d t")  # (N, dim, T)
        for block in self.blocks:
            h = block(h)  # (N, dim, T)
        out = rearrange(self.head(self.norm_out(rearrange(h, "n d t -> n t d"))), "n t f -> n f t")  # (N, 2F, T)
        correction, phase = out.chunk(2, dim=1)  # (N, F, T) each
        if self.cfg.frame_clock:
            # a steady sinusoid at bin f's centre turns by 2 pi f hop / n_fft from one frame to the next:
            # phi_{f,k} = network_{f,k} + 2 pi (f k hop mod n_fft) / n_fft, so a steady note needs a steady output
            turns = (torch.arange(mel.n_freqs, device=x.device)[:, None] * frame * mel.hop_length) % mel.n_fft  # (F, T)
            phase = phase + 2 * torch.pi * turns / mel.n_fft  # (N, F, T)
        # |S| = exp(base + correction), capped at 100
        magnitude = torch.exp((base + correction).clamp(max=MAX_LOG_MAGNITUDE))  # (N, F, T)
        # S = |S| (cos phi + i sin phi): the angle wraps by itself, no need to keep it in [-pi, pi)
        return torch.complex(magnitude * torch.cos(phase), magnitude * torch.sin(phase))  # (N, F, T)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        spec = self.spectrum(rearrange(x, "b c m t -> (b c) m t").float())  # (B C, F, T)
        for _ in range(self.cfg.consistency_steps):
            spec = make_consistent(spec, self.cfg.mel)  # (B C, F, T)
        wav = inverse_stft(spec, self.cfg.mel)  # (B C, T * hop)
        return rearrange(wav, "(b c) l -> b c l", b=b)  # (B, C, T * hop)


# ----------------------------------------------------------------------------- using a vocoder


def _same_front_end(a: MelConfig, b: MelConfig) -> bool:
    keys = ("sample_rate", "n_fft", "hop_length", "n_mels", "f_min", "f_max", "norm_offset", "norm_scale")
    return all(getattr(a, k) == getattr(b, k) for k in keys)


@torch.no_grad()
def vocode(model: Vocoder, x: torch.Tensor, cfg: MelConfig | None = None) -> torch.Tensor:
    """Normalised log-mel (..., n_mels, frames) -> waveform (..., frames * hop), as audio.griffin_lim.

    cfg, if given, is the front end x came from; it must be the one the vocoder was trained on.
    """
    if cfg is not None and not _same_front_end(cfg, model.cfg.mel):
        raise MinidcaeError(
            f"this vocoder inverts {model.cfg.n_mels}-band mels at {model.cfg.sample_rate} Hz, "
            f"hop {model.cfg.hop_length}; the log-mel given has {cfg.n_mels} bands at "
            f"{cfg.sample_rate} Hz, hop {cfg.hop_length}: use a vocoder trained on this front end"
        )
    if x.shape[-2] != model.cfg.n_mels:
        raise MinidcaeError(f"log-mel has {x.shape[-2]} bands; this vocoder expects {model.cfg.n_mels}")
    model.eval()
    device = next(model.parameters()).device
    flat = x.reshape(-1, 1, *x.shape[-2:]).to(device)  # (N, 1, n_mels, T)
    wav = model(flat)  # (N, 1, T * hop)
    return wav.reshape(*x.shape[:-2], wav.shape[-1]).cpu()  # (..., T * hop)


def load_vocoder(path, device="cpu") -> tuple[Vocoder, dict]:
    """(model, meta) from a checkpoint train_vocoder wrote (safetensors + JSON, never pickle)."""
    return load_model(path, {"vocoder": (VocoderConfig, Vocoder)}, device)
