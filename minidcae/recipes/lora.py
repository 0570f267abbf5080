"""The LoRA recipe: a new sound and a new word for it, taught to the shipped transformer from a few clips.

    read_clips      a folder of clips -> their waveforms and, from its metadata.csv if there is one, their labels;
                    an empty folder, too few clips or a clip shorter than a training crop refused in one line
    check_word      the new word: one lower-case word the base model does not read yet
    clip_prompts    a clip's training prompt: its labels phrased as the base model's were, its instrument the word
    prior_latents   the base model's own clips of the known prompts (DreamBooth's prior preservation)
    lora_batches    step -> a batch: half the new clips (random crops, the word's prompts), half the prior
    teach           adapters (or every weight, or the word alone) trained in place on those batches
    train_lora      `minidcae train-lora`: the recipe, the adapter and its card written

Trained on the new clips alone, an adapter learns that everything is the new sound: the known prompts drift too
(notebook 14 measures it). DreamBooth's answer (Ruiz et al., arXiv 2208.12242) is kept here: half of every batch
is the base model's own generations of the known prompts, so the adapter must keep them and tell the word apart.
The loss is flow matching (recipes.transformer.transformer_losses); no prompt is dropped, so the empty prompt (the
unconditional side of guidance) is only what the adapter's changes make of it. Taught in notebook 14 (LoRA).
"""

from __future__ import annotations

import csv
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import torch

from minidcae.core.config import SHIPPED_DCAE, SHIPPED_TRANSFORMER, TrainConfig
from minidcae.core.errors import MinidcaeError
from minidcae.core.profiles import Profile, pick_device
from minidcae.generation.pipeline import load_generator
from minidcae.generation.sampling import latent_frames, prompt_grid, sample_latents
from minidcae.models import lora
from minidcae.models.condition import word_ids_for
from minidcae.models.text import training_prompt
from minidcae.recipes.transformer import transformer_losses
from minidcae.sound.audio import log_mel
from minidcae.sound.audio_files import load_audio
from minidcae.sound.data import find_audio_files
from minidcae.sound.synth import ClipLabels
from minidcae.training.recipe import Run, card_fields, fit, split_overrides

MIN_CLIPS = 4  # eight is what notebook 14 measures; with fewer than four, a crop repeats within every batch
MODES = ("lora", "full", "word")  # adapters and the word; every weight and the word; the word alone


@dataclass(frozen=True)
class LoraRecipe:
    """What the recipe does beyond TrainConfig (key=value settings, like TrainConfig's fields)."""

    mode: str = "lora"  # lora (adapters and the word), full (every weight and the word) or word (the word alone)
    prior_share: float = 0.5  # share of each batch that is the base model's own clips of the known prompts


def read_clips(folder, sample_rate: int, min_seconds: float) -> tuple[list[Path], list[torch.Tensor], list]:
    """(paths, waveforms (1, samples) each, labels or None each) of the audio in `folder`. Labels come from a
    metadata.csv beside them (what `minidcae synth` writes): mode, tempo and drums, for the prompts."""
    folder = Path(folder)
    try:
        paths = find_audio_files(folder)
    except FileNotFoundError as err:
        raise MinidcaeError(f"--clips {err}") from None
    if len(paths) < MIN_CLIPS:
        raise MinidcaeError(
            f"--clips {folder}: {len(paths)} clip(s); train-lora needs at least {MIN_CLIPS} (8 measured)"
        )
    wavs = [load_audio(p, sample_rate) for p in paths]  # (1, samples) each; a bad file refused, named
    for p, w in zip(paths, wavs):
        if w.shape[-1] < min_seconds * sample_rate:
            raise MinidcaeError(
                f"{p}: {w.shape[-1] / sample_rate:.2f} s; train-lora crops {min_seconds:g} s, so every clip needs that"
            )
    rows = {}
    if (folder / "metadata.csv").is_file():
        with open(folder / "metadata.csv", newline="") as f:
            rows = {row.get("file"): row for row in csv.DictReader(f)}
    labels = [_labels(rows.get(p.name)) for p in paths]
    return paths, wavs, labels


def _labels(row: dict | None) -> ClipLabels | None:
    if not row or not {"mode", "tempo", "drums"} <= set(row):
        return None
    return ClipLabels(0, "", row["mode"], row.get("key", "C"), float(row["tempo"]), row["drums"] == "True", (), ())


def check_word(model, word: str) -> str:
    """`word` if it is one lower-case word the model does not read yet, else a one-line refusal."""
    if word in word_ids_for(model.cfg):
        raise MinidcaeError(f"--word {word}: already in the model's vocabulary; choose a word it does not know")
    if not (word.isalpha() and word.islower()):
        raise MinidcaeError(f"--word {word!r}: give one lower-case word of letters, e.g. bell")
    return word


def clip_prompts(word: str, labels: ClipLabels | None, rng: np.random.Generator) -> str:
    """The clip's labels phrased as the base model's training prompts were (text.training_prompt), the word in the
    instrument's place ("sad bell, 92 bpm, drums"); the word alone when the clip has no labels."""
    return word if labels is None else training_prompt(replace(labels, instrument=word), rng)


@torch.no_grad()
def prior_latents(model, n: int, frames: int, steps: int, seed: int = 0, cfg_scale: float = 1.0):
    """(latents (about n, C, F, frames), their prompts): the base model's own clips of every "mood instrument"
    prompt and of the empty prompt, n // 13 of each, sampled at guidance cfg_scale (1: each prompt's own
    conditional model, which is what the adapter must keep; guided clips taught as targets would be guided again)."""
    per = max(1, n // 13)
    prompts = prompt_grid(per)[0] + [""] * per
    return sample_latents(model, prompts, frames, steps=steps, cfg_scale=cfg_scale, seed=seed), prompts


def lora_batches(latents, labels, word, prior, prior_prompts, cfg: TrainConfig, frames: int, share: float):
    """step -> {"latent": (B, C, F, frames), "prompt": B strings}, drawn from (seed, step): B (1 - share) random crops
    of the new clips' latents with the word's prompts, then B share of the prior latents with theirs."""
    n_prior = round(cfg.batch_size * share) if prior is not None else 0

    def next_batch(step: int) -> dict:
        rng = np.random.default_rng([cfg.seed, step])
        idx = rng.integers(0, len(latents), cfg.batch_size - n_prior)
        crops = []
        for i in idx:
            start = int(rng.integers(0, latents[i].shape[-1] - frames + 1))
            crops.append(latents[i][..., start : start + frames])  # (C, F, frames)
        prompts = [clip_prompts(word, labels[i], rng) for i in idx]
        if n_prior:
            j = rng.integers(0, len(prior), n_prior)
            crops += list(prior[j])
            prompts += [prior_prompts[k] for k in j]
        return {"latent": torch.stack(crops), "prompt": prompts}  # (B, C, F, frames)

    return next_batch


def teach(
    model, latents, labels, word, frames: int, cfg: TrainConfig, gen, recipe=LoraRecipe(), device="cpu", **adapter
) -> dict:
    """Teach `model` the word and the sound of its clips' latents (each (C, F, T_i), cropped to `frames`), in place,
    as recipe.mode says: adapters of `adapter` (rank, alpha, layers: lora.add_lora's) and the word's row (lora),
    every weight and the row (full), or the row alone (word). The prior: cfg.n_clips of the model's own clips,
    sampled with gen.steps. Returns {trainable_parameters, prior_seconds, train_seconds, history}."""
    if recipe.mode not in MODES:
        raise MinidcaeError(f"mode={recipe.mode}: choose one of {', '.join(MODES)}")
    start = time.perf_counter()
    prior, prior_prompts = (None, None)
    if recipe.prior_share > 0:
        prior, prior_prompts = prior_latents(model, cfg.n_clips, frames, gen.steps, cfg.seed)
    prior_seconds = time.perf_counter() - start
    if recipe.mode == "lora":
        lora.add_lora(model, **adapter)
    lora.add_words(model, [word])
    model.requires_grad_(recipe.mode == "full")
    for name, p in model.named_parameters():
        if name.endswith((".A", ".B")) or name == "text.word.rows":
            p.requires_grad_(True)  # (lora: the adapters and the row; word: the row alone)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    batches = lora_batches(latents, labels, word, prior, prior_prompts, cfg, frames, recipe.prior_share)
    start = time.perf_counter()
    trainer = fit("transformer", model, transformer_losses(gen, cfg.seed), cfg, batches, device=device, quiet=True)
    model.eval()
    return {
        "trainable_parameters": trainable,
        "prior_seconds": round(prior_seconds, 1),
        "train_seconds": round(time.perf_counter() - start, 1),
        "history": trainer.history,
    }


def encode_clips(autoencoder, mel, wavs) -> list[torch.Tensor]:
    """Normalised latents (C, F, T_i) of each waveform (1, samples), encoded once."""
    device = next(autoencoder.parameters()).device
    with torch.no_grad():
        return [
            autoencoder.normalize_latent(autoencoder.encode(log_mel(w, mel)[None].to(device)))[0].float().cpu()
            for w in wavs
        ]


def train_lora(
    clips,
    word: str,
    out_dir,
    profile: Profile,
    run: Run = Run(),
    rank: int = 4,
    alpha: float | None = None,
    layers=lora.DEFAULT_LAYERS,
    base=SHIPPED_TRANSFORMER,
    autoencoder_path=SHIPPED_DCAE,
) -> Path:
    """`minidcae train-lora`: teach the base transformer `word` and the sound of the clips in `clips`; write
    out_dir/lora_<word>.safetensors and its card (.json). Settings (run.overrides): TrainConfig fields (n_clips is
    the number of prior clips) and LoraRecipe's. Everything is refused before any training when it cannot work."""
    if rank < 1:
        raise MinidcaeError(f"--rank {rank}: a LoRA rank is 1 or more")
    settings = {"TrainConfig": profile.lora_train, "LoraRecipe": LoraRecipe()}
    train_over, recipe_over = split_overrides(run.overrides or {}, settings)
    cfg, recipe = replace(profile.lora_train, **train_over), replace(LoraRecipe(), **recipe_over)
    if recipe.mode != "lora":
        raise MinidcaeError(
            f"mode={recipe.mode}: train-lora writes adapters; full and word are notebook 14's baselines"
        )
    device = pick_device(run.device)
    model, autoencoder, mel = load_generator(base, autoencoder_path, device)
    check_word(model, word)
    gen = profile.generation
    paths, wavs, labels = read_clips(clips, mel.sample_rate, gen.clip_seconds)
    frames = latent_frames(gen.clip_seconds, mel, autoencoder)
    start = time.perf_counter()
    latents = encode_clips(autoencoder, mel, wavs)
    encode_seconds = time.perf_counter() - start
    torch.manual_seed(cfg.seed)  # the adapters' A
    done = teach(model, latents, labels, word, frames, cfg, gen, recipe, device, rank=rank, alpha=alpha, layers=layers)
    card = {
        **card_fields(run.command, "minidcae train-lora", profile, cfg, mel, device, done["train_seconds"]),
        "base": {"name": Path(base).name},
        "recipe": asdict(recipe),
        "data": {
            "folder": str(clips),
            "clips": len(paths),
            "files": [p.name for p in paths],
            "seconds": round(sum(w.shape[-1] for w in wavs) / mel.sample_rate, 2),
            "labelled": all(lab is not None for lab in labels),
            "crop_frames": frames,
        },
        "steps": cfg.steps,
        "encode_seconds": round(encode_seconds, 1),
        "prior_seconds": done["prior_seconds"],
        "final_loss": done["history"][-1]["loss"] if done["history"] else None,
    }
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    return lora.save_adapter(out / f"lora_{word}", model.cpu(), card)
