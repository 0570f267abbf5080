"""The latent transformer's recipe: its data, its loss, and `minidcae train-transformer`.

    encode_training_set   synthetic clips -> normalised latents (N, C, F, T) + their labels, encoded once
    transformer_batches   step -> a batch of latents and prompts phrased at random from their labels
    transformer_losses    flow matching; each prompt is replaced by "" with probability drop_prompt (and a
                          batch's melodies condition it too, for recipes.melody)
    train_transformer     `minidcae train-transformer`: data, training, and the obedience the card reports

Latents are normalised per channel with the autoencoder's stored mean and std before training,
(z - mean) / std, so every channel has about unit variance, like the noise they start from.
The network is minidcae.models.transformer; sampling and measuring it are minidcae.generation.pipeline.
Taught in notebook 07 (latent diffusion) and notebook 08 (conditioning).
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from minidcae.core.checkpoint import save_model
from minidcae.core.config import SHIPPED_CLAP, GenerationConfig, MelConfig, TrainConfig, TransformerConfig
from minidcae.core.profiles import Profile, pick_device
from minidcae.measure.obedience import obedience
from minidcae.models.condition import load_clap_tower, tokenize_for, training_phrase
from minidcae.models.dcae import count_parameters, load_latent_autoencoder, mel_config_of
from minidcae.models.transformer import LatentTransformer
from minidcae.sound.audio import log_mel
from minidcae.sound.synth import ClipLabels, first_seed, synth_clip
from minidcae.training import distributed
from minidcae.training.flow_matching import flow_matching_loss
from minidcae.training.recipe import Run, card_fields, fields_but, fit, split_overrides


@torch.no_grad()
def encode_training_set(
    autoencoder, mel: MelConfig, n: int, seconds: float, seed: int = 0, heldout: bool = False, batch: int = 32
) -> tuple[torch.Tensor, list[ClipLabels]]:
    """(normalised latents (n, C, F, T), labels) for synthetic clips from seed (training) or the held-out range."""
    base = first_seed(seed, n, heldout)
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


def transformer_batches(
    latents: torch.Tensor,
    labels: list[ClipLabels],
    cfg: TrainConfig,
    gen: GenerationConfig,
    model_cfg: TransformerConfig | None = None,
):
    """step -> {"latent": (B, C, F, T), "prompt": B strings}, drawn from (seed, step): a run repeats.
    Under torchrun each rank draws batch_size / ranks items from (seed, step, rank). Prompts are phrased
    for model_cfg.text (condition.training_phrase; the label phrasings when model_cfg is None)."""
    ranks, me = distributed.world(), distributed.rank()
    if cfg.batch_size % ranks:
        raise ValueError(f"batch_size={cfg.batch_size} does not split evenly between {ranks} ranks")

    def next_batch(step: int) -> dict:
        rng = np.random.default_rng([cfg.seed, step] + ([me] if ranks > 1 else []))
        idx = rng.integers(0, len(latents), cfg.batch_size // ranks)
        prompts = ["" if rng.random() < gen.drop_prompt else training_phrase(model_cfg, labels[i], rng) for i in idx]
        batch = {"latent": latents[idx], "prompt": prompts}
        if model_cfg is not None:  # tokenized with the batch, so the step itself holds no Python string work
            batch["ids"], batch["mask"] = tokenize_for(model_cfg, prompts)  # (B, L) each
        return batch

    return next_batch


def transformer_losses(gen: GenerationConfig, seed: int = 0):
    """The loss function for Trainer: flow matching on the batch's latents, conditioned on its prompts, and on its
    melodies when the batch holds them ("melody": piano rolls (B, P + 1, T), recipes.melody's batches)."""
    generator = torch.Generator().manual_seed(seed)  # noise and times: reproducible on CPU

    def losses(m: dict, batch: dict) -> dict:
        x1 = batch["latent"]  # (B, C, F, T)
        if "ids" in batch:  # tokenized by the batch maker (transformer_batches)
            ids, mask = batch["ids"], batch["mask"]  # (B, L) each
        else:
            ids, mask = (t.to(x1.device) for t in tokenize_for(m["transformer"].cfg, batch["prompt"]))
        melody = batch.get("melody")  # (B, P + 1, T) or None
        noise_gen = generator if x1.device.type == "cpu" else None

        def velocity(x, t):
            return m["transformer"](x, t, ids, mask, melody=melody)

        return {"loss": flow_matching_loss(velocity, x1, gen.time_shift, noise_gen)}

    return losses


# key=value settings: the training clips are GenerationConfig's (n_clips, clip_seconds); this recipe never reads
# TrainConfig's fields of those names, so they are not settable here and `n_clips=4096` reaches GenerationConfig.
SETTINGS = {
    "TrainConfig": TrainConfig(),
    "GenerationConfig": GenerationConfig(),
    "TransformerConfig": TransformerConfig(),
}
SETTABLE = {"TrainConfig": fields_but(TrainConfig, "n_clips", "clip_seconds")}


def train_transformer(
    out_dir,
    profile: Profile,
    autoencoder_path,
    run: Run = Run(),
    classifier_path=None,
    clap_path=SHIPPED_CLAP,
) -> Path:
    """The recipe; returns out_dir/transformer.safetensors. With a classifier (and run.evaluate), measures
    obedience for the card. With model override text=phrases or text=clap, prompts are miniCLAP's training
    phrasings; text=clap copies the text tower of clap_path (frozen) into the model; and with a classifier the
    card gets minidcae.measure.prompts.evaluate_prompts on held-out phrasings (judged by clap_path's miniCLAP) instead.

    run: settings, device, quiet, command and evaluate (recipe.Run). It keeps no training state to
    resume from, so run.resume=True is refused."""
    if run.resume:
        raise ValueError("train_transformer cannot resume: it keeps no training state; leave run.resume False")
    train_over, gen_over, model_over = split_overrides(run.overrides or {}, SETTINGS, SETTABLE)
    cfg = replace(profile.transformer_train, **train_over)
    gen = replace(profile.generation, **gen_over)
    out, device = Path(out_dir), pick_device(distributed.device_for_rank(run.device))
    autoencoder, ae_meta = load_latent_autoencoder(autoencoder_path, device)
    mel = mel_config_of(ae_meta)
    ae = autoencoder.cfg
    model_cfg = replace(
        profile.transformer, latent_channels=ae.latent_channels, latent_rows=mel.n_mels // ae.freq_factor, **model_over
    )
    clap = None
    if model_cfg.text != "labels":
        from minidcae.models.clap import load_clap

        clap, _ = load_clap(clap_path, device)
        c = clap.cfg
        model_cfg = replace(
            model_cfg, clap_text_width=c.text_width, clap_text_layers=c.text_layers, clap_text_heads=c.text_heads
        )
    torch.manual_seed(cfg.seed)
    model = LatentTransformer(model_cfg)
    if model_cfg.text == "clap":
        load_clap_tower(model, clap, clap_path)
    start = time.perf_counter()
    latents, labels = encode_training_set(autoencoder, mel, gen.n_clips, gen.clip_seconds, cfg.seed)
    encode_seconds = time.perf_counter() - start
    batches = transformer_batches(latents, labels, cfg, gen, model_cfg)
    setup = dict(out_dir=out / "train", device=device, seconds_per_item=gen.clip_seconds, quiet=run.quiet)
    fit("transformer", model, transformer_losses(gen, cfg.seed), cfg, batches, **setup)
    model.eval()
    agree = distributed.replicas_agree(model)  # every rank takes part; then only rank 0 goes on
    if not distributed.is_main():
        return None
    seconds = time.perf_counter() - start - encode_seconds  # training alone
    info = {
        **card_fields(run.command, "minidcae train-transformer", profile, cfg, mel, device, seconds),
        "generation": asdict(gen),
        "autoencoder": Path(autoencoder_path).name,
        "latent_shape": list(latents.shape[1:]),
        "parameters": count_parameters(model),
        "world_size": distributed.world(),
        "replicas_identical": agree,
        "encode_seconds": round(encode_seconds, 1),
    }
    if run.evaluate and classifier_path is not None:
        from minidcae.models.classifier import load_classifier

        classifier, _ = load_classifier(classifier_path, device)
        if clap is None:
            info["obedience"] = obedience(
                model, autoencoder, classifier, mel, gen, per_label=8 if profile.name == "ci" else 16
            )
        else:
            from minidcae.measure.prompts import evaluate_prompts

            info["trainable_parameters"] = sum(p.numel() for p in model.parameters() if p.requires_grad)
            info["clap"] = Path(clap_path).name
            info["heldout_prompts"] = evaluate_prompts(
                model, autoencoder, classifier, clap, mel, gen, per_label=2 if profile.name == "ci" else 8
            )
    return save_model(out / "transformer", model.cpu(), "transformer", model_cfg, info)
