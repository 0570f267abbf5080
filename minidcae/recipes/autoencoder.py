"""The autoencoder's recipe: its losses, its two phases, its data, its measurement, `minidcae train-ae`.

    autoencoder_losses        reconstruction (+ multi-resolution, + spectral convergence) + bottleneck,
                              and in phase two hinge GAN + feature matching against a PatchGAN
    phase_two                 phase two's set-up for recipe.fit: the encoder frozen, the decoder against a PatchGAN
    autoencoder_trainer       the Trainer of phase one or phase two, to step through by hand (notebooks 01-03)
    training_data             synthetic training clips and the bundled real train clips
    evaluate_autoencoder      mel L1 in dB and Griffin-Lim MR-STFT against the oracle, per clip set
    train_ae                  `minidcae train-ae`: data, phase one, phase two, latent stats, checkpoint

The network and what runs a trained one on files are minidcae.models.dcae. Taught in notebook 03
(training for real); notebook 01 trains the article's autoencoder with the same trainer.
"""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn as nn
from torch.utils.data import ConcatDataset

from minidcae.core.checkpoint import save_model
from minidcae.core.config import DATA_SAMPLES, DCAEConfig, MelConfig, TrainConfig
from minidcae.core.profiles import Profile, pick_device
from minidcae.generation.autoencoding import reconstruct
from minidcae.measure.spectral import mel_db_from_log_mel, mel_l1_db_from_mels, multi_resolution_stft_distance
from minidcae.models.dcae import DCAE, compute_latent_stats, count_parameters
from minidcae.models.discriminators import PatchGAN
from minidcae.sound.audio import griffin_lim
from minidcae.sound.data import FolderMelDataset, SynthMelDataset, heldout_clips
from minidcae.training import distributed
from minidcae.training.losses import (
    discriminator_hinge_loss,
    feature_matching_loss,
    generator_hinge_loss,
    mel_spectral_convergence,
    multi_resolution_mel_loss,
    reconstruction_loss,
)
from minidcae.training.recipe import Run, card_fields, fit, measure_sets, model_trainer, split_overrides
from minidcae.training.trainer import Trainer, infinite_batches

REAL_SHARE = 0.4  # about 40% of training crops come from the bundled real (train) clips


def autoencoder_losses(cfg: TrainConfig, judge: nn.Module | None = None, judge_weight: float = 0.0):
    """The loss function for Trainer: reconstruction (+ multi-resolution) + bottleneck, and in
    phase two (a "disc" module present) hinge GAN and feature matching for the decoder.
    judge: a frozen network with .feature_maps (the label classifier) for a perceptual loss,
    judge_weight * L1 between its features of x_hat and of x (notebook 13). A batch with an "input"
    (a damaged mel, minidcae.claims.restoration) is encoded from it; the target stays batch["mel"]."""

    def losses(m: dict, batch: dict) -> dict:
        x = batch["mel"]  # (B, C, F, T)
        x_hat, aux = m["autoencoder"](batch.get("input", x))
        rec = reconstruction_loss(x_hat.float(), x, cfg.recon_loss)
        mr = multi_resolution_mel_loss(x_hat.float(), x)
        sc = mel_spectral_convergence(x_hat.float(), x)
        loss = rec + cfg.mr_weight * mr + cfg.sc_weight * sc + aux.get("loss", 0.0)
        out = {
            "rec": rec.detach(),
            "mr": mr.detach(),
            "sc": sc.detach(),
            **{k: v for k, v in aux.items() if k != "loss"},
        }
        if judge is not None:
            # L_P = mean over the judge's layers l of | phi_l(x_hat) - phi_l(x) |
            perceptual = feature_matching_loss(judge.feature_maps(x), judge.feature_maps(x_hat.float()))
            loss = loss + judge_weight * perceptual
            out["perceptual"] = perceptual.detach()
        if "disc" in m:
            real_features, real_logits = m["disc"](x)
            fake_features, fake_logits = m["disc"](x_hat)
            g_adv = generator_hinge_loss(fake_logits)
            fm = feature_matching_loss(real_features, fake_features)
            loss = loss + cfg.adv_weight * g_adv + cfg.fm_weight * fm
            out.update(g_adv=g_adv.detach(), fm=fm.detach())
            out["d_loss"] = discriminator_hinge_loss(real_logits, m["disc"](x_hat.detach())[1])
        return {"loss": loss, **out}

    return losses


def phase_two(model: DCAE, disc: nn.Module | None = None) -> dict:
    """Phase two's set-up (as ACE-Step): the encoder frozen, the decoder trained against a PatchGAN (or `disc`).
    The keywords of recipe.fit and recipe.model_trainer that say so: fit("autoencoder", model, ..., **phase_two(model))."""
    model.encoder.requires_grad_(False)
    return {"critic": PatchGAN(model.cfg.in_channels) if disc is None else disc, "trained": model.decoder}


def autoencoder_trainer(
    model: nn.Module,
    cfg: TrainConfig,
    out_dir=None,
    device=None,
    disc: nn.Module | None = None,
    seconds_per_item: float = 0.0,
    resume: bool = False,
    quiet: bool = False,
) -> Trainer:
    """recipe.model_trainer for an autoencoder, to step through by hand (notebooks 01-03): phase one (disc None)
    trains encoder and decoder for cfg.steps; phase two (disc, a PatchGAN) the decoder against it for
    cfg.adv_steps, the encoder frozen."""
    phase = {} if disc is None else {**phase_two(model, disc), "horizon": cfg.adv_steps}
    losses = autoencoder_losses(cfg)
    return model_trainer(
        "autoencoder", model, losses, cfg, out_dir, device, seconds_per_item, **phase, resume=resume, quiet=quiet
    )


def training_data(cfg: TrainConfig, mel: MelConfig, samples_dir=DATA_SAMPLES):
    """Synthetic clips (training seeds only) plus the bundled real clips of the train split."""
    synth = SynthMelDataset(cfg.n_clips, cfg.clip_seconds, cfg.crop_frames, mel, seed=cfg.seed)
    real_dir = Path(samples_dir) / "audio" / "train"
    if not real_dir.is_dir():
        return synth
    real = FolderMelDataset(real_dir, cfg.crop_frames, mel, seed=cfg.seed)
    repeats = max(1, round(REAL_SHARE * len(synth) / ((1 - REAL_SHARE) * len(real))))
    return ConcatDataset([synth] + [real] * repeats)


@torch.no_grad()
def evaluate_autoencoder(model: DCAE, mel: MelConfig, sets: dict, gl_iters: int = 32) -> dict:
    """Per clip and per set: mel L1 in dB (decoded mel against the true one, 80 dB floor), and
    MR-STFT distance to the original of Griffin-Lim from the reconstruction and from the true mel."""
    model.eval()

    def measure(set_name, wav):
        recon, x, x_hat = reconstruct(model, wav, mel, gl_iters)
        oracle = griffin_lim(x, mel, gl_iters)
        mr_recon = multi_resolution_stft_distance(wav, recon)
        mr_oracle = multi_resolution_stft_distance(wav, oracle)
        return {
            "mel_l1_db": mel_l1_db_from_mels(mel_db_from_log_mel(x, mel), mel_db_from_log_mel(x_hat, mel)),
            "mr_stft_dcae": mr_recon,
            "mr_stft_oracle": mr_oracle,
            "mr_stft_excess": mr_recon / mr_oracle - 1,
        }

    return measure_sets(sets, measure)


def train_ae(
    out_dir,
    profile: Profile,
    run: Run = Run(),
) -> Path:
    """The whole recipe; returns the path of the finished checkpoint (out_dir/autoencoder.safetensors).

    run: settings, device, resume, quiet, command and evaluate (recipe.Run); run.evaluate=False skips
    the held-out measurement (quick experiments; the card then has no figures).
    """
    train_over, model_over = split_overrides(
        run.overrides or {}, {"TrainConfig": TrainConfig(), "DCAEConfig": DCAEConfig()}
    )
    cfg, ae_cfg, mel = replace(profile.ae_train, **train_over), replace(profile.ae, **model_over), profile.mel
    if distributed.world() > 1 and cfg.adv_steps > 0:
        raise ValueError(
            f"adv_steps={cfg.adv_steps}: the adversarial phase does not run under torchrun; "
            "add adv_steps=0 (and run phase two on one process if you want it)"
        )
    out = Path(out_dir)
    device = pick_device(distributed.device_for_rank(run.device))
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
        report = evaluate_autoencoder(model, mel, heldout_clips(mel), profile.griffin_lim_iters) if run.evaluate else {}
        rates = [r["audio_s_per_s"] for h in history.values() for r in h]
        info = {
            **card_fields(run.command, "minidcae train-ae", profile, cfg, mel, device, seconds),
            "griffin_lim_iters": profile.griffin_lim_iters,
            "phases": list(history),
            "parameters": count_parameters(model),
            "world_size": distributed.world(),
            "replicas_identical": agree,
            "audio_seconds_per_second": round(sum(rates) / max(1, len(rates)), 2),
            "heldout": {k: v["mean"] for k, v in report.items()},
        }
        (out / f"{name}_heldout.json").write_text(json.dumps(report, indent=2) + "\n")
        path = save_model(out / name, model, "dcae", ae_cfg, info, dtype=torch.float16)
        model.to(device)
        return path

    # Phase one: encoder and decoder learn to reconstruct.
    setup = dict(device=device, seconds_per_item=crop_seconds, resume=run.resume, quiet=run.quiet)
    phase1 = fit("autoencoder", model, autoencoder_losses(cfg), cfg, batches, out_dir=out / "phase1", **setup)
    agree = distributed.replicas_agree(model)  # every rank takes part; then only rank 0 measures and writes
    if not distributed.is_main():
        return None
    history = {"phase1": phase1.history}
    path = finish("autoencoder_phase1" if cfg.adv_steps > 0 else "autoencoder", history, time.perf_counter() - start)

    # Phase two (as ACE-Step): the encoder frozen, the decoder trained with a PatchGAN added.
    if cfg.adv_steps > 0:
        adv = replace(cfg, lr=cfg.adv_lr)
        phase2 = fit(
            "autoencoder",
            model,
            autoencoder_losses(adv),
            adv,
            lambda step: batches(cfg.steps + step),
            cfg.adv_steps,
            out_dir=out / "phase2",
            **phase_two(model),
            **setup,
        )
        history["phase2"] = phase2.history
        path = finish("autoencoder", history, time.perf_counter() - start)
    return path
