"""A small neural vocoder: normalised log-mel -> waveform in one forward pass (Vocos-style).

    Vocoder            ConvNeXt blocks over the frames -> per-frame log-magnitude and phase -> inverse STFT
    inverse_stft       overlap-add with audio.stft's own frames (frame k centred on sample k hop + hop / 2)
    make_consistent    one Griffin-Lim step: keep |S|, take the phase the overlapping frames agree on
    WaveMelDataset     aligned pairs: a waveform crop and the log-mel of exactly that crop
    vocoder_losses     mel L1 + multi-resolution STFT (spectral convergence + log magnitude), and in a
                       second phase hinge GAN + feature matching with a multi-resolution STFT discriminator
    train_vocoder      `minidcae train-vocoder`: data, training, held-out measurement against Griffin-Lim
    load_vocoder / vocode / resynthesize    a checkpoint back into a Vocoder; log-mel -> waveform; files

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

import json
import re
import time
from dataclasses import asdict, fields, replace
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from einops import rearrange
from torch.nn.utils import spectral_norm
from torch.utils.data import Dataset

from .audio import denormalize_log_mel, griffin_lim, load_audio, log_mel, mel_filterbank, stft
from .checkpoint import load_model, save_model
from .config import (DATA_SAMPLES, VOCODER_TRAIN, MelConfig, Profile, TrainConfig, VocoderConfig, parse_setting,
                     pick_device)
from .data import bundled_clips, find_audio_files
from .dcae import count_parameters
from .errors import MinidcaeError
from .losses import discriminator_hinge_loss, feature_matching_loss, generator_hinge_loss
from .metrics import (STFT_RESOLUTIONS, multi_resolution_stft_distance, multi_resolution_stft_loss, pesq_available,
                      pesq_score, stft_magnitude, stoi)
from .synth import HELDOUT_SEED_BASE, synth_clip
from .train import Trainer, infinite_batches

REAL_SHARE = 0.5       # about half of the training crops come from the bundled real (train) clips
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
    wav = y[:, side:side + frames * hop]  # (N, frames * hop)
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
        self.norm = nn.LayerNorm(dim)
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
        self.norm_in = nn.LayerNorm(cfg.dim)
        self.blocks = nn.ModuleList(ConvNeXtBlock(cfg.dim, cfg.kernel, cfg.expansion, 1 / cfg.blocks)
                                    for _ in range(cfg.blocks))
        self.norm_out = nn.LayerNorm(cfg.dim)
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
            self.head.bias[mel.n_freqs:] = torch.pi * torch.arange(mel.n_freqs)
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


# ----------------------------------------------------------------------------- data

class WaveMelDataset(Dataset):
    """Item i: a random crop of `crop` frames (crop * hop samples) of waveform i, at a random gain
    between -12 and 0 dB, with the log-mel of exactly that crop: {"mel": (1, n_mels, crop),
    "wav": (1, crop * hop)}. Mel frame k is centred on sample k hop + hop / 2 of the crop.
    The crop depends only on (seed, epoch, i), so a run repeats."""

    def __init__(self, waves: list[torch.Tensor], crop: int, cfg: MelConfig, seed: int = 0):
        self.waves, self.crop, self.cfg, self.seed, self.epoch = waves, crop, cfg, seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return len(self.waves)

    def __getitem__(self, index: int) -> dict:
        rng = np.random.default_rng([self.seed, self.epoch, index])
        wav, n = self.waves[index], self.crop * self.cfg.hop_length  # (1, L)
        if wav.shape[-1] < n:
            wav = F.pad(wav, (0, n - wav.shape[-1]))  # (1, n): silence after a short clip
        start = int(rng.integers(0, wav.shape[-1] - n + 1))
        # gain g = 10^(dB / 20), dB uniform in [-12, 0]: the vocoder should not learn one loudness
        crop = wav[:, start:start + n] * 10 ** (rng.uniform(-12, 0) / 20)  # (1, n)
        return {"mel": log_mel(crop, self.cfg), "wav": crop, "index": index}  # (1, n_mels, crop), (1, n)


def heldout_sources(samples_dir=DATA_SAMPLES) -> set[Path]:
    """The original files the held-out clips were cut from (the absolute paths in metadata.csv's
    source column). A held-out excerpt may be a few seconds of a longer file: the whole file
    is kept out of training."""
    try:
        rows = bundled_clips("heldout", root=samples_dir)
    except FileNotFoundError:
        return set()
    found = (re.search(r": (/[^;]+)", row["source"]) for row in rows)  # "Debian pkg: /usr/share/...; notes"
    return {Path(m.group(1)).resolve() for m in found if m}


def extra_waves(folders, mel: MelConfig, seconds: float, samples_dir=DATA_SAMPLES) -> list[torch.Tensor]:
    """Every audio file under each folder, resampled, cut into pieces of `seconds` (silent pieces
    dropped), so a long track counts as many clips. Files a held-out clip came from are skipped."""
    skip, piece, waves = heldout_sources(samples_dir), int(seconds * mel.sample_rate), []
    for folder in folders:
        files = [p for p in find_audio_files(folder) if p.resolve() not in skip]
        for path in files:
            wav = load_audio(path, mel.sample_rate)  # (1, samples)
            for start in range(0, wav.shape[-1], piece):
                chunk = wav[:, start:start + piece]  # (1, <= piece)
                if chunk.abs().max() > 1e-3 and chunk.shape[-1] >= piece // 4:
                    waves.append(chunk)
    return waves


def training_waves(cfg: TrainConfig, mel: MelConfig, samples_dir=DATA_SAMPLES, extra=()) -> list[torch.Tensor]:
    """Synthetic clips (training seeds only) plus the bundled real train clips, repeated so they
    make about REAL_SHARE of the list, plus the pieces of any `extra` folders (extra_waves).
    Never reads data_samples/audio/heldout nor the files its clips were cut from."""
    if cfg.seed + cfg.n_clips > HELDOUT_SEED_BASE:
        raise ValueError(f"training seeds reach the held-out range (from {HELDOUT_SEED_BASE}); use smaller seeds")
    waves = [torch.from_numpy(synth_clip(cfg.seed + i, cfg.clip_seconds, mel.sample_rate)[0])[None]
             for i in range(cfg.n_clips)]  # each (1, samples)
    real_dir = Path(samples_dir) / "audio" / "train"
    if real_dir.is_dir():
        real = [load_audio(p, mel.sample_rate) for p in find_audio_files(real_dir)]  # each (1, samples)
        repeats = max(1, round(REAL_SHARE * len(waves) / ((1 - REAL_SHARE) * len(real))))
        waves += real * repeats
    return waves + extra_waves(extra, mel, cfg.clip_seconds, samples_dir)


# ----------------------------------------------------------------------------- losses

class SpectrogramDiscriminator(nn.Module):
    """Scores the log-magnitude STFT of a waveform at one resolution, as a (B, 1, freqs, frames)
    image: strided convolutions along frequency; returns (features, logits map)."""

    def __init__(self, n_fft: int, hop: int, width: int = 8, layers: int = 4):
        super().__init__()
        self.n_fft, self.hop = n_fft, hop
        convs, c = [], 1
        for i in range(layers):
            convs.append(spectral_norm(nn.Conv2d(c, width, (9, 3), stride=(2, 1), padding=(4, 1))))
            c = width
        self.convs = nn.ModuleList(convs)
        self.logits = spectral_norm(nn.Conv2d(c, 1, 3, padding=1))

    def forward(self, wav: torch.Tensor):
        s = torch.log(stft_magnitude(wav, self.n_fft, self.hop, eps=1e-12).clamp(min=1e-5))  # (B, C, F, T)
        h = rearrange(s, "b c f t -> (b c) 1 f t")  # (B C, 1, F, T)
        features = []
        for conv in self.convs:
            h = F.leaky_relu(conv(h), 0.2)  # (B C, width, F / 2^(i+1), T)
            features.append(h)
        return features, self.logits(h)  # logits: (B C, 1, F / 2^layers, T)


class MultiResolutionDiscriminator(nn.Module):
    """One SpectrogramDiscriminator per STFT resolution; features and logits come back as lists."""

    def __init__(self, resolutions=STFT_RESOLUTIONS, width: int = 8):
        super().__init__()
        self.discs = nn.ModuleList(SpectrogramDiscriminator(n, h, width) for n, h in resolutions)

    def forward(self, wav: torch.Tensor):
        outs = [d(wav) for d in self.discs]
        return [f for feats, _ in outs for f in feats], [logits for _, logits in outs]


def vocoder_losses(cfg: TrainConfig, mel: MelConfig):
    """The loss function for Trainer: mel L1 + mr_weight * MR-STFT, and with a "disc" module
    (phase two) hinge GAN (adv_weight) and feature matching (fm_weight), plus the critic's d_loss."""

    def losses(m: dict, batch: dict) -> dict:
        x, wav = batch["mel"], batch["wav"]  # (B, 1, n_mels, T), (B, 1, T * hop)
        wav_hat = m["vocoder"](x)  # (B, 1, T * hop)
        mel_l1 = (log_mel(wav_hat, mel) - x).abs().mean()
        mr = multi_resolution_stft_loss(wav, wav_hat, eps=1e-12)  # the metric itself, as a loss
        loss = mel_l1 + cfg.mr_weight * mr
        out = {"mel_l1": mel_l1.detach(), "mr_stft": mr.detach()}
        if "disc" in m:
            real_features, real_logits = m["disc"](wav)
            fake_features, fake_logits = m["disc"](wav_hat)
            g_adv = sum(generator_hinge_loss(f) for f in fake_logits) / len(fake_logits)
            fm = feature_matching_loss(real_features, fake_features)
            loss = loss + cfg.adv_weight * g_adv + cfg.fm_weight * fm
            fake_detached = m["disc"](wav_hat.detach())[1]
            out.update(g_adv=g_adv.detach(), fm=fm.detach())
            out["d_loss"] = sum(discriminator_hinge_loss(r, f) for r, f in zip(real_logits, fake_detached)) / len(real_logits)
        return {"loss": loss, **out}

    return losses


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
        raise MinidcaeError(f"this vocoder inverts {model.cfg.n_mels}-band mels at {model.cfg.sample_rate} Hz, "
                            f"hop {model.cfg.hop_length}; the log-mel given has {cfg.n_mels} bands at "
                            f"{cfg.sample_rate} Hz, hop {cfg.hop_length}: use a vocoder trained on this front end")
    if x.shape[-2] != model.cfg.n_mels:
        raise MinidcaeError(f"log-mel has {x.shape[-2]} bands; this vocoder expects {model.cfg.n_mels}")
    model.eval()
    device = next(model.parameters()).device
    flat = x.reshape(-1, 1, *x.shape[-2:]).to(device)  # (N, 1, n_mels, T)
    wav = model(flat)  # (N, 1, T * hop)
    return wav.reshape(*x.shape[:-2], wav.shape[-1]).cpu()  # (..., T * hop)


@torch.no_grad()
def resynthesize(vocoder: Vocoder, wav: torch.Tensor, mel: MelConfig, autoencoder=None, name: str = "waveform"):
    """Waveform (C, samples) -> log-mel -> (through the DCAE, if given) -> vocoder -> (C, frames * hop)."""
    x = log_mel(wav, mel, name)  # (C, n_mels, T)
    if autoencoder is not None:
        from .streaming import decode_long, encode_long

        x = decode_long(autoencoder, encode_long(autoencoder, x), x.shape[-2], x.shape[-1])  # (C, n_mels, T), windowed
    return vocode(vocoder, x, mel)


def load_vocoder(path, device="cpu") -> tuple[Vocoder, dict]:
    """(model, meta) from a checkpoint train_vocoder wrote (safetensors + JSON, never pickle)."""
    return load_model(path, {"vocoder": (VocoderConfig, Vocoder)}, device)


# ----------------------------------------------------------------------------- measuring it

def heldout_sets(mel: MelConfig, n_synth: int = 8, seconds: float = 4.0, samples_dir=DATA_SAMPLES) -> dict:
    """{"synthetic music" | "real music" | "speech": {clip name: waveform (1, samples)}}, all held out."""
    sets = {"synthetic music": {f"seed{HELDOUT_SEED_BASE + i}":
                                torch.from_numpy(synth_clip(HELDOUT_SEED_BASE + i, seconds, mel.sample_rate)[0])[None]
                                for i in range(n_synth)}}
    try:
        rows = bundled_clips("heldout", root=samples_dir)
    except FileNotFoundError:
        rows = []
    for row in rows:
        group = "speech" if row["kind"] == "speech" else "real music"
        sets.setdefault(group, {})[row["path"].stem] = load_audio(row["path"], mel.sample_rate)
    return sets


@torch.no_grad()
def evaluate_vocoder(model: Vocoder, mel: MelConfig, sets: dict, gl_iters: int = 32) -> dict:
    """Per clip and per set, the vocoder against Griffin-Lim, both from the true log-mel:
    MR-STFT distance to the original (both), STOI and PESQ on the speech set, seconds per clip."""
    model.eval()
    report = {}
    for set_name, clips in sets.items():
        rows = {}
        for name, wav in clips.items():
            x = log_mel(wav, mel)  # (1, n_mels, T)
            start = time.perf_counter()
            gl = griffin_lim(x, mel, gl_iters)  # (1, T * hop)
            gl_seconds = time.perf_counter() - start
            start = time.perf_counter()
            neural = vocode(model, x, mel)  # (1, T * hop)
            neural_seconds = time.perf_counter() - start
            row = {"mr_stft_vocoder": multi_resolution_stft_distance(wav, neural),
                   "mr_stft_griffin_lim": multi_resolution_stft_distance(wav, gl),
                   "seconds_vocoder": neural_seconds, "seconds_griffin_lim": gl_seconds,
                   "audio_seconds": wav.shape[-1] / mel.sample_rate}
            if set_name == "speech":
                row.update(stoi_vocoder=stoi(wav, neural, mel.sample_rate), stoi_griffin_lim=stoi(wav, gl, mel.sample_rate))
                if pesq_available():
                    row.update(pesq_vocoder=pesq_score(wav, neural, mel.sample_rate),
                               pesq_griffin_lim=pesq_score(wav, gl, mel.sample_rate))
            rows[name] = row
        mean = {k: sum(r[k] for r in rows.values()) / len(rows) for k in next(iter(rows.values()))}
        report[set_name] = {"mean": mean, "clips": rows}
    return report


# ----------------------------------------------------------------------------- the recipe

def split_overrides(overrides: dict) -> tuple[dict, dict]:
    """key=value pairs -> (TrainConfig fields, VocoderConfig size fields), typed like the defaults."""
    sizes = ("dim", "blocks", "kernel", "expansion", "frame_clock", "consistency_steps")
    train_fields = {f.name for f in fields(TrainConfig)}
    train, model = {}, {}
    for key, text in overrides.items():
        if key in train_fields:
            train[key] = parse_setting(key, text, getattr(TrainConfig(), key))
        elif key in sizes:
            model[key] = parse_setting(key, text, getattr(VocoderConfig(), key))
        else:
            raise ValueError(f"unknown setting {key!r}; settings are TrainConfig fields ({', '.join(sorted(train_fields))}) "
                             f"or vocoder sizes ({', '.join(sizes)})")
    return train, model


def train_vocoder(out_dir, profile: Profile, overrides: dict | None = None, device=None, resume: bool = False,
                  quiet: bool = False, command: str | None = None, evaluate: bool = True,
                  gl_iters: int = 32, extra_audio=()) -> Path:
    """The whole recipe; returns out_dir/vocoder.safetensors (and vocoder_phase1.* when adv_steps > 0).

    Phase one: mel L1 + multi-resolution STFT. Phase two (adv_steps > 0): the same plus a
    multi-resolution STFT discriminator. Each finished phase is measured on held-out clips against
    Griffin-Lim (gl_iters iterations) from the same true log-mel. extra_audio: folders of more
    training audio (say the Debian packages data_samples/make_samples.py cuts its clips from).
    """
    from .autoencoder import hardware

    train_over, model_over = split_overrides(overrides or {})
    cfg = replace(VOCODER_TRAIN[profile.name], **train_over)
    mel = profile.mel
    if mel.channels != 1:
        raise ValueError("train the vocoder on a mono front end; it vocodes each channel of a stereo mel alone")
    voc_cfg = VocoderConfig.for_mel(mel, **model_over)
    out, device = Path(out_dir), pick_device(device)
    torch.manual_seed(cfg.seed)
    model = Vocoder(voc_cfg)
    waves = training_waves(cfg, mel, extra=extra_audio)
    batches = infinite_batches(WaveMelDataset(waves, cfg.crop_frames, mel, cfg.seed),
                               cfg.batch_size, cfg.seed)
    crop_seconds = cfg.crop_frames * mel.hop_length / mel.sample_rate
    start = time.perf_counter()
    history = {}

    def finish(name: str) -> Path:
        """Round the weights to float16 (the stored precision), measure, save."""
        seconds = time.perf_counter() - start
        model.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
        model.cpu().eval()
        report = evaluate_vocoder(model, mel, heldout_sets(mel), gl_iters) if evaluate else {}
        info = {"command": command or "minidcae train-vocoder", "profile": profile.name, "train": asdict(cfg),
                "phases": {k: len(v) and v[-1]["step"] for k, v in history.items()}, "mel": asdict(mel),
                "parameters": count_parameters(model), "hardware": hardware(), "device": str(device),
                "train_seconds": round(seconds, 1), "griffin_lim_iters": gl_iters,
                "extra_audio": [str(f) for f in extra_audio], "training_clips": len(waves),
                "heldout": {k: v["mean"] for k, v in report.items()}}
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}_heldout.json").write_text(json.dumps(report, indent=2) + "\n")
        path = save_model(out / name, model, "vocoder", voc_cfg, info, dtype=torch.float16)
        model.to(device)
        return path

    phase1 = Trainer({"vocoder": model}, vocoder_losses(cfg, mel), {"loss": model}, cfg, out / "phase1", device,
                     crop_seconds, ema=("vocoder",), resume=resume, quiet=quiet)
    phase1.fit(batches, cfg.steps)
    if phase1.emas:
        model.load_state_dict(phase1.emas["vocoder"].state_dict())
    history["phase1"] = phase1.history
    path = finish("vocoder_phase1" if cfg.adv_steps > 0 else "vocoder")

    if cfg.adv_steps > 0:
        # adv_weight = fm_weight = 0 gives the control: phase two's steps and schedule, no discriminator
        adv = replace(cfg, lr=cfg.adv_lr)
        modules, optimize = {"vocoder": model}, {"loss": model}
        if cfg.adv_weight > 0 or cfg.fm_weight > 0:
            modules["disc"] = optimize["d_loss"] = MultiResolutionDiscriminator()
        phase2 = Trainer(modules, vocoder_losses(adv, mel), optimize, adv, out / "phase2", device, crop_seconds,
                         ema=("vocoder",), resume=resume, quiet=quiet, horizon=cfg.adv_steps)
        phase2.fit(lambda step: batches(cfg.steps + step), cfg.adv_steps)
        if phase2.emas:
            model.load_state_dict(phase2.emas["vocoder"].state_dict())
        history["phase2"] = phase2.history
        path = finish("vocoder")
    return path
