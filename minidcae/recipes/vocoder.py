"""The vocoder's recipe: its data, its losses, its measurement, and `minidcae train-vocoder`.

    WaveMelDataset     aligned pairs: a waveform crop and the log-mel of exactly that crop
    training_waves     synthetic training clips, the bundled real train clips, and any extra folders
                       (never a held-out clip, nor a file one was cut from: data.heldout_sources)
    vocoder_losses     mel L1 + multi-resolution STFT (spectral convergence + log magnitude), and in a
                       second phase hinge GAN + feature matching with a multi-resolution STFT discriminator
    evaluate_vocoder   held-out clips, the vocoder against Griffin-Lim from the same true log-mel
    train_vocoder      `minidcae train-vocoder`: data, training, held-out measurement, checkpoint

The network itself is minidcae.models.vocoder. Taught in notebook 05 (evaluating reconstructions).
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from minidcae.core.checkpoint import save_model
from minidcae.core.config import DATA_SAMPLES, MelConfig, TrainConfig, VocoderConfig
from minidcae.core.profiles import Profile, pick_device
from minidcae.measure.spectral import multi_resolution_stft_distance, multi_resolution_stft_loss
from minidcae.measure.speech import pesq_available, pesq_score, stoi
from minidcae.models.dcae import count_parameters
from minidcae.models.discriminators import MultiResolutionDiscriminator
from minidcae.models.vocoder import Vocoder, vocode
from minidcae.sound.audio import griffin_lim, log_mel
from minidcae.sound.audio_files import load_audio
from minidcae.sound.data import find_audio_files, heldout_clips, heldout_sources
from minidcae.sound.synth import first_seed, synth_clip
from minidcae.training.losses import discriminator_hinge_loss, feature_matching_loss, generator_hinge_loss
from minidcae.training.recipe import Run, card_fields, fit, measure_sets, split_overrides
from minidcae.training.trainer import infinite_batches

REAL_SHARE = 0.5  # about half of the training crops come from the bundled real (train) clips
SIZES = ("dim", "blocks", "kernel", "expansion", "frame_clock", "consistency_steps")  # what key=value may set


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
        crop = wav[:, start : start + n] * 10 ** (rng.uniform(-12, 0) / 20)  # (1, n)
        return {"mel": log_mel(crop, self.cfg), "wav": crop, "index": index}  # (1, n_mels, crop), (1, n)


def extra_waves(folders, mel: MelConfig, seconds: float, samples_dir=DATA_SAMPLES) -> list[torch.Tensor]:
    """Every audio file under each folder, resampled, cut into pieces of `seconds` (silent pieces
    dropped), so a long track counts as many clips. Files a held-out clip came from are skipped."""
    skip, piece, waves = heldout_sources(samples_dir), int(seconds * mel.sample_rate), []
    for folder in folders:
        files = [p for p in find_audio_files(folder) if p.resolve() not in skip]
        for path in files:
            wav = load_audio(path, mel.sample_rate)  # (1, samples)
            for start in range(0, wav.shape[-1], piece):
                chunk = wav[:, start : start + piece]  # (1, <= piece)
                if chunk.abs().max() > 1e-3 and chunk.shape[-1] >= piece // 4:
                    waves.append(chunk)
    return waves


def training_waves(cfg: TrainConfig, mel: MelConfig, samples_dir=DATA_SAMPLES, extra=()) -> list[torch.Tensor]:
    """Synthetic clips (training seeds only) plus the bundled real train clips, repeated so they
    make about REAL_SHARE of the list, plus the pieces of any `extra` folders (extra_waves).
    Never reads data_samples/audio/heldout nor the files its clips were cut from."""
    base = first_seed(cfg.seed, cfg.n_clips)
    waves = [
        torch.from_numpy(synth_clip(base + i, cfg.clip_seconds, mel.sample_rate)[0])[None] for i in range(cfg.n_clips)
    ]  # each (1, samples)
    real_dir = Path(samples_dir) / "audio" / "train"
    if real_dir.is_dir():
        real = [load_audio(p, mel.sample_rate) for p in find_audio_files(real_dir)]  # each (1, samples)
        repeats = max(1, round(REAL_SHARE * len(waves) / ((1 - REAL_SHARE) * len(real))))
        waves += real * repeats
    return waves + extra_waves(extra, mel, cfg.clip_seconds, samples_dir)


# ----------------------------------------------------------------------------- losses


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
            out["d_loss"] = sum(discriminator_hinge_loss(r, f) for r, f in zip(real_logits, fake_detached)) / len(
                real_logits
            )
        return {"loss": loss, **out}

    return losses


# ----------------------------------------------------------------------------- measuring it


def heldout_sets(mel: MelConfig, n_synth: int = 8, seconds: float = 4.0, samples_dir=DATA_SAMPLES) -> dict:
    """{"synthetic music" | "real music" | "speech": {clip name: waveform (1, samples)}}, all held out."""
    return heldout_clips(
        mel,
        n_synth,
        seconds,
        samples_dir,
        synthetic="synthetic music",
        real=lambda kind: "speech" if kind == "speech" else "real music",
    )


@torch.no_grad()
def evaluate_vocoder(model: Vocoder, mel: MelConfig, sets: dict, gl_iters: int = 32) -> dict:
    """Per clip and per set, the vocoder against Griffin-Lim, both from the true log-mel:
    MR-STFT distance to the original (both), STOI and PESQ on the speech set, seconds per clip."""
    model.eval()

    def measure(set_name, wav):
        x = log_mel(wav, mel)  # (1, n_mels, T)
        start = time.perf_counter()
        gl = griffin_lim(x, mel, gl_iters)  # (1, T * hop)
        gl_seconds = time.perf_counter() - start
        start = time.perf_counter()
        neural = vocode(model, x, mel)  # (1, T * hop)
        neural_seconds = time.perf_counter() - start
        row = {
            "mr_stft_vocoder": multi_resolution_stft_distance(wav, neural),
            "mr_stft_griffin_lim": multi_resolution_stft_distance(wav, gl),
            "seconds_vocoder": neural_seconds,
            "seconds_griffin_lim": gl_seconds,
            "audio_seconds": wav.shape[-1] / mel.sample_rate,
        }
        if set_name == "speech":
            row.update(stoi_vocoder=stoi(wav, neural, mel.sample_rate), stoi_griffin_lim=stoi(wav, gl, mel.sample_rate))
            if pesq_available():
                row.update(
                    pesq_vocoder=pesq_score(wav, neural, mel.sample_rate),
                    pesq_griffin_lim=pesq_score(wav, gl, mel.sample_rate),
                )
        return row

    return measure_sets(sets, measure)


# ----------------------------------------------------------------------------- the recipe


def train_vocoder(
    out_dir,
    profile: Profile,
    run: Run = Run(),
    gl_iters: int = 32,
    extra_audio=(),
) -> Path:
    """The whole recipe; returns out_dir/vocoder.safetensors (and vocoder_phase1.* when adv_steps > 0).

    run: settings, device, resume, quiet, command and evaluate (recipe.Run).
    Phase one: mel L1 + multi-resolution STFT. Phase two (adv_steps > 0): the same plus a
    multi-resolution STFT discriminator. Each finished phase is measured on held-out clips against
    Griffin-Lim (gl_iters iterations) from the same true log-mel. extra_audio: folders of more
    training audio (say the Debian packages data_samples/make_samples.py cuts its clips from).
    """
    train_over, model_over = split_overrides(
        run.overrides or {},
        {"TrainConfig": TrainConfig(), "vocoder size": VocoderConfig()},
        only={"vocoder size": SIZES},
    )
    cfg = replace(profile.vocoder_train, **train_over)
    mel = profile.mel
    if mel.channels != 1:
        raise ValueError("train the vocoder on a mono front end; it vocodes each channel of a stereo mel alone")
    voc_cfg = VocoderConfig.for_mel(mel, **model_over)
    out, device = Path(out_dir), pick_device(run.device)
    torch.manual_seed(cfg.seed)
    model = Vocoder(voc_cfg)
    waves = training_waves(cfg, mel, extra=extra_audio)
    batches = infinite_batches(WaveMelDataset(waves, cfg.crop_frames, mel, cfg.seed), cfg.batch_size, cfg.seed)
    crop_seconds = cfg.crop_frames * mel.hop_length / mel.sample_rate
    start = time.perf_counter()
    history = {}

    def finish(name: str) -> Path:
        """Round the weights to float16 (the stored precision), measure, save."""
        seconds = time.perf_counter() - start
        model.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
        model.cpu().eval()
        report = evaluate_vocoder(model, mel, heldout_sets(mel), gl_iters) if run.evaluate else {}
        info = {
            **card_fields(run.command, "minidcae train-vocoder", profile, cfg, mel, device, seconds),
            "phases": {k: len(v) and v[-1]["step"] for k, v in history.items()},
            "parameters": count_parameters(model),
            "griffin_lim_iters": gl_iters,
            "extra_audio": [str(f) for f in extra_audio],
            "training_clips": len(waves),
            "heldout": {k: v["mean"] for k, v in report.items()},
        }
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}_heldout.json").write_text(json.dumps(report, indent=2) + "\n")
        path = save_model(out / name, model, "vocoder", voc_cfg, info, dtype=torch.float16)
        model.to(device)
        return path

    setup = dict(device=device, seconds_per_item=crop_seconds, resume=run.resume, quiet=run.quiet)
    phase1 = fit("vocoder", model, vocoder_losses(cfg, mel), cfg, batches, out_dir=out / "phase1", **setup)
    history["phase1"] = phase1.history
    path = finish("vocoder_phase1" if cfg.adv_steps > 0 else "vocoder")

    if cfg.adv_steps > 0:
        # adv_weight = fm_weight = 0 gives the control: phase two's steps and schedule, no discriminator
        adv = replace(cfg, lr=cfg.adv_lr)
        critic = MultiResolutionDiscriminator() if cfg.adv_weight > 0 or cfg.fm_weight > 0 else None
        phase2 = fit(
            "vocoder",
            model,
            vocoder_losses(adv, mel),
            adv,
            lambda step: batches(cfg.steps + step),
            cfg.adv_steps,
            out_dir=out / "phase2",
            critic=critic,
            **setup,
        )
        history["phase2"] = phase2.history
        path = finish("vocoder")
    return path
