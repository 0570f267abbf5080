"""A profile's models, each with its recipe's own loss and a batch of that profile's shapes: built, stepped, timed.

    PROFILED         the models a profile trains: dcae, dcae_adversarial, vocoder, vocoder_adversarial,
                     transformer, classifier, clap
    profiled_trainer (Trainer, next_batch, seconds of audio per item) for one of them under a profile
    measure          steps of a Trainer timed after warm-up: samples per second, audio seconds per second,
                     peak memory (CUDA: the allocator's peak; CPU: none)

The batches are random tensors of the shapes the recipe would feed (log-mels, waveforms, latents,
prompts): how fast a step runs does not depend on what the numbers are, and a batch costs nothing to
make, so the timing is the model's and not the data pipeline's. tests/test_gpu_profile.py runs one
step of each under the `gpu` profile on a CPU (batch 2), so a broken `gpu` setting is found without a
GPU; tools/gpu_check.py (`make gpu-check`) times a few hundred steps of each on a GPU in fp32 and bf16.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import torch

from minidcae.core.config import TransformerConfig, VocoderConfig
from minidcae.core.profiles import Profile
from minidcae.sound.audio import log_mel
from minidcae.training.recipe import model_trainer
from minidcae.training.trainer import Trainer

PROFILED = ("dcae", "dcae_adversarial", "vocoder", "vocoder_adversarial", "transformer", "classifier", "clap")


def profiled_trainer(
    name: str, profile: Profile, device="cpu", batch_size: int | None = None, bf16=None, seed=0, compile=None
):
    """(trainer, next_batch, seconds of audio per item) for model `name` with the profile's sizes and
    training settings; batch_size, bf16 and compile replace the profile's when given."""
    if name not in PROFILED:
        raise ValueError(f"unknown model {name!r}; one of {', '.join(PROFILED)}")
    mel = profile.mel
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed + 1)  # not the recipe's own noise seed: data unlike its noise

    def settings(cfg):
        cfg = replace(cfg, batch_size=batch_size or cfg.batch_size)
        cfg = cfg if bf16 is None else replace(cfg, bf16=bf16)
        return cfg if compile is None else replace(cfg, compile=compile)

    def mels(b, frames):
        return torch.randn(b, 1, mel.n_mels, frames, generator=g).clamp(-1, 1)  # (B, 1, n_mels, T)

    if name.startswith("dcae"):
        from minidcae.models.dcae import DCAE
        from minidcae.models.discriminators import PatchGAN
        from minidcae.recipes.autoencoder import autoencoder_trainer

        cfg = settings(profile.ae_train)
        disc = PatchGAN(profile.ae.in_channels) if name == "dcae_adversarial" else None
        trainer = autoencoder_trainer(DCAE(profile.ae), cfg, None, device, disc, quiet=True)
        return trainer, lambda step: {"mel": mels(cfg.batch_size, cfg.crop_frames)}, _seconds(cfg.crop_frames, mel)
    if name.startswith("vocoder"):
        from minidcae.models.discriminators import MultiResolutionDiscriminator
        from minidcae.models.vocoder import Vocoder
        from minidcae.recipes.vocoder import vocoder_losses

        cfg = settings(profile.vocoder_train)
        model = Vocoder(VocoderConfig.for_mel(mel))
        critic = MultiResolutionDiscriminator() if name == "vocoder_adversarial" else None
        trainer = model_trainer(
            "vocoder", model, vocoder_losses(cfg, mel), cfg, device=device, critic=critic, quiet=True
        )

        def wave_batch(step):
            # a quiet random waveform and its own log-mel: {"mel": (B, 1, n_mels, crop), "wav": (B, 1, crop * hop)}
            wav = 0.1 * torch.randn(cfg.batch_size, 1, cfg.crop_frames * mel.hop_length, generator=g)
            return {"mel": log_mel(wav, mel), "wav": wav}

        return trainer, wave_batch, _seconds(cfg.crop_frames, mel)
    if name == "transformer":
        from minidcae.generation.sampling import prompt_for
        from minidcae.models.condition import tokenize_for
        from minidcae.models.transformer import LatentTransformer
        from minidcae.recipes.transformer import transformer_losses
        from minidcae.sound.synth import INSTRUMENTS, MODES

        cfg, gen, ae = settings(profile.transformer_train), profile.generation, profile.ae
        model_cfg: TransformerConfig = replace(
            profile.transformer, latent_channels=ae.latent_channels, latent_rows=mel.n_mels // ae.freq_factor
        )
        frames = round(gen.clip_seconds * mel.frame_rate / ae.time_factor)  # latent frames of one clip
        model = LatentTransformer(model_cfg)
        trainer = model_trainer("transformer", model, transformer_losses(gen, seed), cfg, device=device, quiet=True)
        rng = np.random.default_rng(seed)

        def latent_batch(step):
            shape = (cfg.batch_size, model_cfg.latent_channels, model_cfg.latent_rows, frames)  # (B, C, F, T')
            prompts = [prompt_for(rng.choice(INSTRUMENTS), rng.choice(MODES)) for _ in range(cfg.batch_size)]
            ids, mask = tokenize_for(model_cfg, prompts)  # (B, L) each: tokenized here, not inside the step
            return {"latent": torch.randn(shape, generator=g), "prompt": prompts, "ids": ids, "mask": mask}

        return trainer, latent_batch, gen.clip_seconds
    if name == "classifier":
        from minidcae.core.config import ClassifierConfig
        from minidcae.models.classifier import LabelClassifier
        from minidcae.recipes.classifier import classifier_losses
        from minidcae.sound.synth import INSTRUMENTS, MODES

        cfg = settings(profile.classifier_train)
        model = LabelClassifier(ClassifierConfig(n_mels=mel.n_mels))
        trainer = model_trainer("classifier", model, classifier_losses, cfg, device=device, quiet=True)

        def labelled_batch(step):
            b = cfg.batch_size
            return {
                "mel": mels(b, cfg.crop_frames),
                "instrument": torch.randint(len(INSTRUMENTS), (b,), generator=g),
                "mode": torch.randint(len(MODES), (b,), generator=g),
            }

        return trainer, labelled_batch, _seconds(cfg.crop_frames, mel)
    from minidcae.models.clap import MiniClap
    from minidcae.recipes.clap import clap_losses

    cfg = settings(profile.clap_train)
    model = MiniClap(replace(profile.clap, n_mels=mel.n_mels))
    trainer = model_trainer("clap", model, clap_losses, cfg, device=device, quiet=True)
    words = ("happy piano", "sad violin, slow", "a bright flute at 120 bpm", "dark bass")
    return (
        trainer,
        lambda step: {
            "mel": mels(cfg.batch_size, cfg.crop_frames),
            "prompts": [words[i % 4] for i in range(cfg.batch_size)],
        },
        _seconds(cfg.crop_frames, mel),
    )


def _seconds(frames: int, mel) -> float:
    return frames * mel.hop_length / mel.sample_rate


def measure(trainer: Trainer, next_batch, steps: int, warmup: int = 5, seconds_per_item: float = 0.0) -> dict:
    """Run warmup steps, then `steps` timed ones. Returns samples/s, audio s/s, ms per step, the last
    losses and the peak memory allocated (bytes, CUDA only; None on a CPU)."""
    device = trainer.device
    cuda = device.type == "cuda"
    batches = [next_batch(i) for i in range(min(steps + warmup, 8))]  # made once: the timing is the model's
    moved = [{k: v.to(device) if torch.is_tensor(v) else v for k, v in b.items()} for b in batches]
    for i in range(warmup):
        trainer.train_step(moved[i % len(moved)])  # the first steps compile, if the config asks for it
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    for i in range(steps):
        losses = trainer.step_tensors(moved[i % len(moved)])  # no host sync inside the timed loop
    logs = {k: float(v) for k, v in losses.items()}  # waits for the last step
    if cuda:
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    items = steps * len(next(v for v in batches[0].values() if torch.is_tensor(v)))
    return {
        "samples_per_s": items / seconds,
        "audio_s_per_s": items * seconds_per_item / seconds,
        "ms_per_step": 1000 * seconds / steps,
        "peak_bytes": torch.cuda.max_memory_allocated(device) if cuda else None,
        "losses": logs,
    }
