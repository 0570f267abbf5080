"""The models the article's claims compare, trained at one budget, and the held-out mels they are measured on.

    CLAIMS_DIR          data_samples/checkpoints/claims: the JSON of each claim (and the checkpoints notebook 13 loads)
    variant_config      the DCAEConfig of a variant: plain, kl or skips (perceptual is plain's with another loss)
    train_variant       a DCAE from scratch at a given budget: plain, KL, U-Net skips, or with a perceptual loss
    heldout_mel_set     held-out synthetic and bundled clips as log-mels of one length (so skips can be swapped)
    mel_l1_db           mel L1 in dB between two normalised log-mels, the figure every claim reports

Every variant trains with the same data, steps, batch and seed (recipe.fit, the autoencoder's own losses);
the claims themselves are minidcae.claims.article and minidcae.claims.restoration. `tools/measure_claims.py`
trains them. Taught in notebook 13 (the article's remaining claims).
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

from minidcae.core.checkpoint import save_model
from minidcae.core.config import DATA_SAMPLES, DCAEConfig, MelConfig, TrainConfig
from minidcae.core.profiles import pick_device
from minidcae.measure.spectral import mel_db_from_log_mel, mel_l1_db_from_mels
from minidcae.models.dcae import DCAE, compute_latent_stats, count_parameters
from minidcae.sound.audio import log_mel
from minidcae.sound.data import heldout_clips
from minidcae.training.recipe import fit, hardware
from minidcae.training.trainer import infinite_batches

CLAIMS_DIR = DATA_SAMPLES / "checkpoints" / "claims"


def train_variant(
    out_path,
    ae_cfg: DCAEConfig,
    cfg: TrainConfig,
    mel: MelConfig,
    judge=None,
    judge_weight: float = 0.0,
    device=None,
    quiet: bool = True,
    info: dict | None = None,
) -> Path:
    """Train a DCAE from scratch for cfg.steps (phase one only) on train_autoencoder.training_data, set its
    latent stats, save it at float16 to out_path (.safetensors + .json) and return that path.
    judge: a frozen network with .feature_maps for a perceptual loss of weight judge_weight."""
    from minidcae.recipes.autoencoder import autoencoder_losses, training_data

    device = pick_device(device)
    torch.manual_seed(cfg.seed)
    model = DCAE(ae_cfg)
    batches = infinite_batches(training_data(cfg, mel), cfg.batch_size, cfg.seed)
    if judge is not None:
        judge = judge.to(device).eval().requires_grad_(False)
    start = time.perf_counter()
    losses = autoencoder_losses(cfg, judge, judge_weight)
    crop_seconds = cfg.crop_frames * mel.hop_length / mel.sample_rate
    trainer = fit("autoencoder", model, losses, cfg, batches, device=device, seconds_per_item=crop_seconds, quiet=quiet)
    seconds = time.perf_counter() - start
    model.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})  # the shipped precision
    model.eval()
    compute_latent_stats(model, (batches(i)["mel"].to(device) for i in range(8)))
    card = {
        "train": asdict(cfg),
        "mel": asdict(mel),
        "hardware": hardware(device),
        "train_seconds": round(seconds, 1),
        "parameters": count_parameters(model),
        "perceptual_weight": judge_weight if judge is not None else 0.0,
        "last_losses": trainer.history[-1] if trainer.history else {},
        **(info or {}),
    }
    return save_model(out_path, model.cpu(), "dcae", ae_cfg, card, dtype=torch.float16)


def mel_l1_db(x: torch.Tensor, x_hat: torch.Tensor, mel: MelConfig) -> float:
    """Mel L1 in dB between two normalised log-mels (80 dB floor under the first's peak)."""
    return mel_l1_db_from_mels(mel_db_from_log_mel(x, mel), mel_db_from_log_mel(x_hat, mel))


def heldout_mel_set(mel: MelConfig, frames: int = 256, n_synth: int = 8) -> tuple[torch.Tensor, list[str]]:
    """(log-mels (N, 1, n_mels, frames), clip names): data.heldout_clips' clips, each cut to its first
    `frames` frames (shorter ones left out), so that any two have the same shape."""
    mels, names = [], []
    for clips in heldout_clips(mel, n_synth).values():
        for name, wav in clips.items():
            x = log_mel(wav[:1], mel)  # (1, n_mels, T)
            if x.shape[-1] >= frames:
                mels.append(x[..., :frames])
                names.append(name)
    return torch.stack(mels), names


def variant_config(base: DCAEConfig, kind: str) -> DCAEConfig:
    """The DCAEConfig of a variant: plain, kl or skips (perceptual is plain's with another loss)."""
    return {
        "plain": base,
        "perceptual": base,
        "kl": replace(base, bottleneck="kl"),
        "skips": replace(base, skips=True),
    }[kind]
