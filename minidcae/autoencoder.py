"""A DCAE end to end: the training recipe, the quality measure, and running it on audio files.

    train_ae                  `minidcae train-ae`: data, phase one, phase two, latent stats, checkpoint
    evaluate_autoencoder      mel L1 in dB and Griffin-Lim MR-STFT against the oracle, per clip set
    load_autoencoder          a checkpoint back into a DCAE (safetensors + JSON, never pickle)
    reconstruct / encode_audio / decode_latent   what the command line runs on files
"""

from __future__ import annotations

import json
import platform
import time
from dataclasses import asdict, fields, replace
from pathlib import Path

import torch
from torch.utils.data import ConcatDataset

from . import distributed
from .audio import griffin_lim, load_audio, log_mel
from .checkpoint import CheckpointError, load_model, load_tensors, save_model, save_tensors
from .config import DATA_SAMPLES, DCAEConfig, MelConfig, Profile, TrainConfig, parse_setting, pick_device
from .data import FolderMelDataset, SynthMelDataset, bundled_clips
from .dcae import DCAE, compute_latent_stats, count_parameters
from .losses import PatchGAN
from .metrics import mel_db_from_log_mel, mel_l1_db_from_mels, multi_resolution_stft_distance
from .streaming import decode_long, encode_long, griffin_lim_long
from .synth import HELDOUT_SEED_BASE, synth_clip
from .train import autoencoder_trainer, infinite_batches

BUILDERS = {"dcae": (DCAEConfig, DCAE)}
REAL_SHARE = 0.4  # about 40% of training crops come from the bundled real (train) clips


def split_overrides(overrides: dict) -> tuple[dict, dict]:
    """key=value pairs from the command line -> (TrainConfig fields, DCAEConfig fields), typed."""
    train_fields = {f.name: f for f in fields(TrainConfig)}
    model_fields = {f.name: f for f in fields(DCAEConfig)}
    train, model = {}, {}
    for key, text in overrides.items():
        if key in train_fields:
            target, default = train, getattr(TrainConfig(), key)
        elif key in model_fields:
            target, default = model, getattr(DCAEConfig(), key)
        else:
            raise ValueError(f"unknown setting {key!r}; settings are TrainConfig fields "
                             f"({', '.join(train_fields)}) or DCAEConfig fields ({', '.join(model_fields)})")
        target[key] = parse_setting(key, text, default)
    return train, model


def training_data(cfg: TrainConfig, mel: MelConfig, samples_dir=DATA_SAMPLES):
    """Synthetic clips (training seeds only) plus the bundled real clips of the train split."""
    synth = SynthMelDataset(cfg.n_clips, cfg.clip_seconds, cfg.crop_frames, mel, seed=cfg.seed)
    real_dir = Path(samples_dir) / "audio" / "train"
    if not real_dir.is_dir():
        return synth
    real = FolderMelDataset(real_dir, cfg.crop_frames, mel, seed=cfg.seed)
    repeats = max(1, round(REAL_SHARE * len(synth) / ((1 - REAL_SHARE) * len(real))))
    return ConcatDataset([synth] + [real] * repeats)


def heldout_clips(mel: MelConfig, n_synth: int = 8, seconds: float = 4.0, samples_dir=DATA_SAMPLES) -> dict:
    """{set name: {clip name: waveform (1, samples)}} for clips no training run reads."""
    synth = {f"seed{HELDOUT_SEED_BASE + i}": torch.from_numpy(synth_clip(HELDOUT_SEED_BASE + i, seconds, mel.sample_rate)[0])[None]
             for i in range(n_synth)}
    sets = {"synthetic held-out": synth}
    try:
        rows = bundled_clips("heldout", root=samples_dir)
    except FileNotFoundError:
        rows = []
    if rows:
        sets["real held-out"] = {row["path"].stem: load_audio(row["path"], mel.sample_rate) for row in rows}
    return sets


@torch.no_grad()
def reconstruct(model: DCAE, wav: torch.Tensor, mel: MelConfig, gl_iters: int = 32):
    """waveform (C, samples) -> (reconstructed waveform, original log-mel, reconstructed log-mel).

    Clips longer than one window (1024 frames, about 12 s) go window by window (minidcae.streaming),
    so memory stays bounded; shorter ones are done whole, with identical results."""
    x = log_mel(wav, mel)  # (C, n_mels, frames)
    x_hat = decode_long(model, encode_long(model, x), x.shape[-2], x.shape[-1])  # (C, n_mels, frames)
    return griffin_lim_long(x_hat, mel, gl_iters), x, x_hat


@torch.no_grad()
def evaluate_autoencoder(model: DCAE, mel: MelConfig, sets: dict, gl_iters: int = 32) -> dict:
    """Per clip and per set: mel L1 in dB (decoded mel against the true one, 80 dB floor), and
    MR-STFT distance to the original of Griffin-Lim from the reconstruction and from the true mel."""
    model.eval()
    report = {}
    for set_name, clips in sets.items():
        rows = {}
        for name, wav in clips.items():
            recon, x, x_hat = reconstruct(model, wav, mel, gl_iters)
            oracle = griffin_lim(x, mel, gl_iters)
            mr_recon = multi_resolution_stft_distance(wav, recon)
            mr_oracle = multi_resolution_stft_distance(wav, oracle)
            rows[name] = {"mel_l1_db": mel_l1_db_from_mels(mel_db_from_log_mel(x, mel), mel_db_from_log_mel(x_hat, mel)),
                          "mr_stft_dcae": mr_recon, "mr_stft_oracle": mr_oracle,
                          "mr_stft_excess": mr_recon / mr_oracle - 1}
        mean = {k: sum(r[k] for r in rows.values()) / len(rows) for k in next(iter(rows.values()))}
        report[set_name] = {"mean": mean, "clips": rows}
    return report


def hardware() -> str:
    if torch.cuda.is_available():
        return torch.cuda.get_device_name(0)
    threads = torch.get_num_threads()
    return f"{platform.machine()} CPU, {threads} thread{'s' if threads > 1 else ''}"


def train_ae(out_dir, profile: Profile, overrides: dict | None = None, device=None, resume: bool = False,
             quiet: bool = False, command: str | None = None, evaluate: bool = True) -> Path:
    """The whole recipe; returns the path of the finished checkpoint (out_dir/autoencoder.safetensors).

    evaluate=False skips the held-out measurement (quick experiments; the card then has no figures).
    """
    train_over, model_over = split_overrides(overrides or {})
    cfg, ae_cfg, mel = replace(profile.ae_train, **train_over), replace(profile.ae, **model_over), profile.mel
    if distributed.world() > 1 and cfg.adv_steps > 0:
        raise ValueError(f"adv_steps={cfg.adv_steps}: the adversarial phase does not run under torchrun; "
                         "add adv_steps=0 (and run phase two on one process if you want it)")
    out = Path(out_dir)
    device = pick_device(distributed.device_for_rank(device))
    torch.manual_seed(cfg.seed)
    model = DCAE(ae_cfg)
    data = training_data(cfg, mel)
    batches = infinite_batches(data, cfg.batch_size, cfg.seed)
    crop_seconds = cfg.crop_frames * mel.hop_length / mel.sample_rate
    start = time.perf_counter()

    def finish(name: str, history: dict, seconds: float) -> Path:
        """Round the weights to float16 (the shipped precision), set latent stats, measure, save."""
        model.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})
        model.eval()
        compute_latent_stats(model, (batches(i)["mel"].to(device) for i in range(8)))
        report = evaluate_autoencoder(model, mel, heldout_clips(mel), profile.griffin_lim_iters) if evaluate else {}
        rates = [r["audio_s_per_s"] for h in history.values() for r in h]
        info = {"command": command or "minidcae train-ae", "profile": profile.name, "train": asdict(cfg),
                "griffin_lim_iters": profile.griffin_lim_iters,
                "phases": list(history), "mel": asdict(mel), "parameters": count_parameters(model),
                "hardware": hardware(), "device": str(device), "world_size": distributed.world(),
                "replicas_identical": agree, "train_seconds": round(seconds, 1),
                "audio_seconds_per_second": round(sum(rates) / max(1, len(rates)), 2),
                "heldout": {k: v["mean"] for k, v in report.items()}}
        (out / f"{name}_heldout.json").write_text(json.dumps(report, indent=2) + "\n")
        path = save_model(out / name, model, "dcae", ae_cfg, info, dtype=torch.float16)
        model.to(device)
        return path

    # Phase one: encoder and decoder learn to reconstruct.
    phase1 = autoencoder_trainer(model, replace(cfg, adv_steps=0), out / "phase1", device, None,
                                 crop_seconds, resume, quiet)
    phase1.fit(batches, cfg.steps)
    if phase1.emas:
        model.load_state_dict(phase1.emas["autoencoder"].state_dict())
    agree = distributed.replicas_agree(model)  # every rank takes part; then only rank 0 measures and writes
    if not distributed.is_main():
        return None
    history = {"phase1": phase1.history}
    path = finish("autoencoder_phase1" if cfg.adv_steps > 0 else "autoencoder", history,
                  time.perf_counter() - start)

    # Phase two (as ACE-Step): the encoder frozen, the decoder trained with a PatchGAN added.
    if cfg.adv_steps > 0:
        phase2 = autoencoder_trainer(model, replace(cfg, lr=cfg.adv_lr), out / "phase2", device, PatchGAN(ae_cfg.in_channels),
                                     crop_seconds, resume, quiet)
        phase2.fit(lambda step: batches(cfg.steps + step), cfg.adv_steps)
        if phase2.emas:
            model.load_state_dict(phase2.emas["autoencoder"].state_dict())
        history["phase2"] = phase2.history
        path = finish("autoencoder", history, time.perf_counter() - start)
    return path


def load_autoencoder(path, device="cpu") -> tuple[DCAE, dict]:
    """(model, meta) from a checkpoint; meta["info"]["mel"] is the front end it was trained on."""
    model, meta = load_model(path, BUILDERS, device)
    return model, meta


def mel_config_of(meta: dict) -> MelConfig:
    return MelConfig(**meta["info"]["mel"]) if "mel" in meta.get("info", {}) else MelConfig()


@torch.no_grad()
def encode_audio(model: DCAE, meta: dict, audio_path, out_path) -> Path:
    """Audio file -> latent (1, C, F', T') in a safetensors file, with what decode needs to know."""
    mel = mel_config_of(meta)
    wav = load_audio(audio_path, mel.sample_rate, mel.channels)  # (C, samples)
    x = log_mel(wav, mel, str(audio_path))[None]  # (1, C, n_mels, frames)
    z = encode_long(model, x[0])[None]  # (1, latent_channels, F', T'): window by window for a long file
    info = {"frames": x.shape[-1], "n_mels": x.shape[-2], "latent_channels": z.shape[1],
            "sample_rate": mel.sample_rate, "source": Path(audio_path).name}
    return save_tensors(out_path, {"latent": z}, info)


@torch.no_grad()
def decode_latent(model: DCAE, meta: dict, latent_path, gl_iters: int = 32) -> tuple[torch.Tensor, int]:
    """A latent file from encode_audio -> (waveform (C, samples), sample rate)."""
    tensors, info = load_tensors(latent_path)
    if "latent" not in tensors:
        raise CheckpointError(f"{latent_path}: holds no 'latent' tensor; make one with `minidcae encode`")
    z = tensors["latent"]
    if z.ndim != 4 or z.shape[1] != model.cfg.latent_channels:
        raise CheckpointError(f"{latent_path}: latent of shape {tuple(z.shape)} does not fit this autoencoder "
                              f"({model.cfg.latent_channels} latent channels); use the checkpoint that encoded it")
    mel = mel_config_of(meta)
    shape = (info.get("n_mels", mel.n_mels), info.get("frames", z.shape[-1] * model.cfg.time_factor))
    x_hat = decode_long(model, z[0], shape[0], shape[1])  # (C, n_mels, frames)
    return griffin_lim_long(x_hat, mel, gl_iters), mel.sample_rate
