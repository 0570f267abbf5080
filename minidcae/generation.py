"""Text to music in the latent space: the `train-dit` recipe, sampling, and measuring obedience.

    encode_training_set   synthetic clips -> normalised latents (N, C, F, T) + their labels, encoded once
    dit_losses            flow matching; each prompt is replaced by "" with probability drop_prompt
    train_dit             `minidcae train-dit`: data, training, and the measurement the model card reports
    load_dit              a checkpoint back into a LatentTransformer (with its GenerationConfig)
    sample_latents        prompts -> normalised latents: noise, then Euler or Heun steps with guidance
    latents_to_mels       normalised latents -> log-mels through the autoencoder's decoder
    obedience             conditional accuracy and Frechet distance of generated clips, judged by the classifier

Latents are normalised per channel with the autoencoder's stored mean and std before training,
(z - mean) / std, so every channel has about unit variance, like the noise they start from.
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from . import distributed
from .audio import log_mel
from .checkpoint import load_model, save_model
from .config import (DIT_GENERATION, DIT_MODEL, DIT_TRAIN, DiTConfig, GenerationConfig, MelConfig, Profile,
                     TrainConfig, parse_setting, pick_device)
from .diffusion import euler_sample, flow_matching_loss, heun_sample
from .streaming import decode_long
from .synth import HELDOUT_SEED_BASE, INSTRUMENTS, MODES, ClipLabels, synth_clip
from .text import tokenize, training_prompt, unknown_words
from .train import Trainer
from .transformer import LatentTransformer


@torch.no_grad()
def encode_training_set(autoencoder, mel: MelConfig, n: int, seconds: float, seed: int = 0,
                        heldout: bool = False, batch: int = 32) -> tuple[torch.Tensor, list[ClipLabels]]:
    """(normalised latents (n, C, F, T), labels) for synthetic clips from seed (training) or the held-out range."""
    base = HELDOUT_SEED_BASE + seed if heldout else seed
    if not heldout and base + n > HELDOUT_SEED_BASE:
        raise ValueError(f"training seeds reach the held-out range (from {HELDOUT_SEED_BASE})")
    autoencoder.eval()
    device = next(autoencoder.parameters()).device
    latents, labels = [], []
    for start in range(0, n, batch):
        wavs = []
        for i in range(start, min(n, start + batch)):
            wav, lab = synth_clip(base + i, seconds, mel.sample_rate)
            wavs.append(torch.from_numpy(wav)[None])  # (1, samples)
            labels.append(lab)
        x = log_mel(torch.stack(wavs), mel).to(device)  # (b, 1, n_mels, T)
        latents.append(autoencoder.normalize_latent(autoencoder.encode(x)).float().cpu())  # (b, C, F, T')
    return torch.cat(latents), labels


def dit_batches(latents: torch.Tensor, labels: list[ClipLabels], cfg: TrainConfig, gen: GenerationConfig):
    """step -> {"latent": (B, C, F, T), "prompt": B strings}, drawn from (seed, step): a run repeats.
    Under torchrun each rank draws batch_size / ranks items from (seed, step, rank)."""
    ranks, me = distributed.world(), distributed.rank()
    if cfg.batch_size % ranks:
        raise ValueError(f"batch_size={cfg.batch_size} does not split evenly between {ranks} ranks")

    def next_batch(step: int) -> dict:
        rng = np.random.default_rng([cfg.seed, step] + ([me] if ranks > 1 else []))
        idx = rng.integers(0, len(latents), cfg.batch_size // ranks)
        prompts = ["" if rng.random() < gen.drop_prompt else training_prompt(labels[i], rng) for i in idx]
        return {"latent": latents[idx], "prompt": prompts}
    return next_batch


def dit_losses(gen: GenerationConfig, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)  # noise and times: reproducible on CPU

    def losses(m: dict, batch: dict) -> dict:
        x1 = batch["latent"]  # (B, C, F, T)
        ids, mask = (t.to(x1.device) for t in tokenize(batch["prompt"]))
        noise_gen = generator if x1.device.type == "cpu" else None

        def velocity(x, t):
            return m["dit"](x, t, ids, mask)

        return {"loss": flow_matching_loss(velocity, x1, gen.time_shift, noise_gen)}

    return losses


def split_overrides(overrides: dict) -> tuple[dict, dict, dict]:
    """key=value -> (TrainConfig, GenerationConfig, DiTConfig) fields, typed like the defaults."""
    groups = (TrainConfig(), GenerationConfig(), DiTConfig())
    out = ({}, {}, {})
    for key, text in overrides.items():
        for target, default in zip(out, groups):
            if hasattr(default, key):
                target[key] = parse_setting(key, text, getattr(default, key))
                break
        else:
            raise ValueError(f"unknown setting {key!r}; settings are fields of TrainConfig, GenerationConfig or DiTConfig")
    return out


def train_dit(out_dir, profile: Profile, autoencoder_path, overrides: dict | None = None, device=None,
              quiet: bool = False, command: str | None = None, classifier_path=None, evaluate: bool = True) -> Path:
    """The recipe; returns out_dir/dit.safetensors. With a classifier, measures obedience for the card."""
    from .autoencoder import hardware, load_autoencoder, mel_config_of

    train_over, gen_over, model_over = split_overrides(overrides or {})
    cfg = replace(DIT_TRAIN[profile.name], **train_over)
    gen = replace(DIT_GENERATION[profile.name], **gen_over)
    out, device = Path(out_dir), pick_device(distributed.device_for_rank(device))
    autoencoder, ae_meta = load_autoencoder(autoencoder_path, device)
    mel = mel_config_of(ae_meta)
    ae = autoencoder.cfg
    model_cfg = replace(DIT_MODEL[profile.name], latent_channels=ae.latent_channels,
                        latent_rows=mel.n_mels // ae.freq_factor, **model_over)
    torch.manual_seed(cfg.seed)
    model = LatentTransformer(model_cfg)
    start = time.perf_counter()
    latents, labels = encode_training_set(autoencoder, mel, gen.n_clips, gen.clip_seconds, cfg.seed)
    encode_seconds = time.perf_counter() - start
    trainer = Trainer({"dit": model}, dit_losses(gen, cfg.seed), {"loss": model}, cfg, out / "train", device,
                      gen.clip_seconds, ema=("dit",), quiet=quiet)
    trainer.fit(dit_batches(latents, labels, cfg, gen), cfg.steps)
    if trainer.emas:
        model.load_state_dict(trainer.emas["dit"].state_dict())
    model.eval()
    agree = distributed.replicas_agree(model)  # every rank takes part; then only rank 0 goes on
    if not distributed.is_main():
        return None
    info = {"command": command or "minidcae train-dit", "profile": profile.name, "train": asdict(cfg),
            "generation": asdict(gen), "autoencoder": Path(autoencoder_path).name,
            "latent_shape": list(latents.shape[1:]), "parameters": sum(p.numel() for p in model.parameters()),
            "hardware": hardware(), "device": str(device), "world_size": distributed.world(),
            "replicas_identical": agree, "encode_seconds": round(encode_seconds, 1),
            "train_seconds": round(time.perf_counter() - start - encode_seconds, 1)}
    if evaluate and classifier_path is not None:
        from .classifier import load_classifier

        classifier, _ = load_classifier(classifier_path, device)
        info["obedience"] = obedience(model, autoencoder, classifier, mel, gen, per_label=8 if profile.name == "ci" else 16)
    return save_model(out / "dit", model.cpu(), "dit", model_cfg, info)


def load_dit(path, device="cpu") -> tuple[LatentTransformer, dict]:
    return load_model(path, {"dit": (DiTConfig, LatentTransformer)}, device)


def generation_config_of(meta: dict) -> GenerationConfig:
    return GenerationConfig(**meta["info"].get("generation", {}))


@torch.no_grad()
def sample_latents(model, prompts: list[str], frames: int, steps: int = 30, cfg_scale: float = 3.0,
                   sampler: str = "euler", shift: float = 3.0, seed: int = 0) -> torch.Tensor:
    """Prompts -> normalised latents (B, C, F, frames): start from seeded noise (t = 0), integrate to t = 1.

    Guidance runs the conditional and the empty prompt side by side in one batch of 2B."""
    for p in prompts:
        if unknown_words(p):
            raise ValueError(f"prompt {p!r}: unknown word(s) {unknown_words(p)}; the model knows moods (happy, sad), "
                             f"instruments ({', '.join(INSTRUMENTS)}), tempo (slow, medium, fast or 60-180 bpm) and drums")
    if sampler not in ("euler", "heun"):
        raise ValueError(f"sampler must be euler or heun, got {sampler!r}")
    model.eval()
    device = next(model.parameters()).device
    c = model.cfg
    ids, mask = (t.to(device) for t in tokenize(list(prompts) + [""] * len(prompts)))  # (2B, L): conditional, then empty
    g = torch.Generator().manual_seed(seed)
    x0 = torch.randn(len(prompts), c.latent_channels, c.latent_rows, frames, generator=g).to(device)  # (B, C, F, T)

    def velocity(x, t):
        v = model(torch.cat([x, x]), t, ids, mask)  # (2B, C, F, T)
        v_cond, v_uncond = v.chunk(2)
        return v_uncond + cfg_scale * (v_cond - v_uncond)  # = guided(...) evaluated in one batch

    integrate = euler_sample if sampler == "euler" else heun_sample
    return integrate(velocity, x0, steps, shift).float().cpu()


@torch.no_grad()
def latents_to_mels(autoencoder, z: torch.Tensor, mel_frames: int | None = None) -> torch.Tensor:
    """Normalised latents (B, C, F, T) -> log-mels (B, in_channels, n_mels, T * time_factor or mel_frames)."""
    z = autoencoder.denormalize_latent(z.to(next(autoencoder.parameters()).device)).cpu()
    t = mel_frames or z.shape[-1] * autoencoder.cfg.time_factor
    n_mels = z.shape[-2] * autoencoder.cfg.freq_factor
    return torch.stack([decode_long(autoencoder, one, n_mels, t) for one in z])  # window by window when long


def prompt_for(instrument: str, mode: str) -> str:
    return f"{'happy' if mode == 'major' else 'sad'} {instrument}"


def prompt_grid(per_label: int) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    """per_label copies of each "mood instrument" prompt (12 of them), with the instrument and mode
    indices each one asks for: (prompts, instruments (N,), modes (N,))."""
    prompts, instruments, modes = [], [], []
    for instrument in INSTRUMENTS:
        for mode in MODES:
            prompts += [prompt_for(instrument, mode)] * per_label
            instruments += [INSTRUMENTS.index(instrument)] * per_label
            modes += [MODES.index(mode)] * per_label
    return prompts, torch.tensor(instruments), torch.tensor(modes)


def generate_mels(model, autoencoder, prompts: list[str], frames: int, steps: int = 30, cfg_scale: float = 3.0,
                  sampler: str = "euler", shift: float = 3.0, seed: int = 0, chunk: int = 48) -> torch.Tensor:
    """Prompts -> log-mels (N, in_channels, n_mels, frames * time_factor), sampled `chunk` at a time
    (chunk k uses seed + k, so the result does not depend on how many prompts come after)."""
    z = torch.cat([sample_latents(model, prompts[i:i + chunk], frames, steps, cfg_scale, sampler, shift, seed + i)
                   for i in range(0, len(prompts), chunk)])
    return latents_to_mels(autoencoder, z)


@torch.no_grad()
def obedience(model, autoencoder, classifier, mel: MelConfig, gen: GenerationConfig, per_label: int = 16,
              steps: int | None = None, cfg_scale: float | None = None, seed: int = 0) -> dict:
    """Generate per_label clips for each "mood instrument" prompt (12 prompts) and let the classifier judge:
    instrument and mode accuracy against the prompt (chance 1/6 and 1/2), and the Frechet distance of
    their embeddings to held-out real clips. For scale: the same measures for the autoencoder's
    reconstructions of the held-out clips, and the distance between two halves of the real set."""
    from .classifier import frechet_distance, labelled_mels, predict

    prompts, want_i, want_m = prompt_grid(per_label)
    frames = round(gen.clip_seconds * mel.frame_rate / autoencoder.cfg.time_factor)
    generated = generate_mels(model, autoencoder, prompts, frames, steps or gen.steps, cfg_scale or gen.cfg_scale,
                              gen.sampler, gen.time_shift, seed)[:, :1]  # (N, 1, n_mels, T)
    e_gen, pi, pm = predict(classifier, generated)
    real, real_i, real_m = labelled_mels(len(prompts), gen.clip_seconds, mel, heldout=True)  # (N, 1, n_mels, T)
    device = next(autoencoder.parameters()).device
    recon = torch.cat([autoencoder.decode(autoencoder.encode(x.to(device)), x.shape[-2:]).float().cpu()
                       for x in real.split(48)])[:, :1]  # the autoencoder's reconstructions of the same clips
    e_real, ri, rm = predict(classifier, real)
    e_recon, ci_, cm = predict(classifier, recon)
    half = len(e_real) // 2
    return {"clips": len(prompts), "steps": steps or gen.steps, "cfg_scale": cfg_scale or gen.cfg_scale,
            "instrument_accuracy": float((pi == want_i).float().mean()), "mode_accuracy": float((pm == want_m).float().mean()),
            "chance": {"instrument": 1 / len(INSTRUMENTS), "mode": 1 / len(MODES)},
            "frechet_generated_vs_real": frechet_distance(e_gen, e_real),
            "reference": {"real_instrument_accuracy": float((ri == real_i).float().mean()),
                          "real_mode_accuracy": float((rm == real_m).float().mean()),
                          "reconstruction_instrument_accuracy": float((ci_ == real_i).float().mean()),
                          "reconstruction_mode_accuracy": float((cm == real_m).float().mean()),
                          "frechet_reconstruction_vs_real": frechet_distance(e_recon, e_real),
                          "frechet_real_half_vs_half": frechet_distance(e_real[:half], e_real[half:])}}
