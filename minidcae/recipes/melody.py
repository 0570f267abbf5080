"""Melody conditioning's recipe: fine-tune the text transformer to follow a melody, and measure whether it does.

    melody_rolls        each training clip's own melody as a piano roll at the latent frame rate
    melody_batches      step -> latents, prompts and rolls; the melody dropped, or given over a span only, at random
    melody_losses       flow matching with both conditions
    train_melody        `minidcae train-melody`: start from a text transformer, add melody layers, fine-tune
    melody_obedience    chroma similarity and note pitch accuracy of generated clips against the asked melody,
                        beside a text-only and a random-melody baseline, each with a bootstrap interval

The new layers start at zero (minidcae.models.transformer), so fine-tuning starts from the text model exactly
and the melody can only add to what it knew. The two ways in, cross-attention to melody tokens and melody
tokens added to the frames, are trained with the same recipe and budget.
Taught in notebook 10 (melody conditioning).
"""

from __future__ import annotations

import time
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import torch

from minidcae.core.checkpoint import save_model
from minidcae.core.config import GenerationConfig, TrainConfig, TransformerConfig
from minidcae.core.errors import MinidcaeError
from minidcae.core.profiles import Profile, pick_device
from minidcae.generation.pipeline import generate_mels
from minidcae.generation.sampling import latent_frame_rate, prompt_for
from minidcae.measure.obedience import mean_interval
from minidcae.models.dcae import count_parameters, load_latent_autoencoder, mel_config_of
from minidcae.models.text import tokenize, training_prompt
from minidcae.models.transformer import LatentTransformer, load_transformer
from minidcae.recipes.transformer import encode_training_set
from minidcae.sound.data import synth_clips
from minidcae.sound.melody import fit_register, piano_roll
from minidcae.sound.synth import INSTRUMENTS, ClipLabels, first_seed, melody_of, synth_clip
from minidcae.training.flow_matching import flow_matching_loss
from minidcae.training.recipe import Run, card_fields, fields_but, fit, split_overrides

DROP_MELODY = 0.1  # share of training items with no melody at all (the melody's guidance needs them)
PARTIAL_MELODY = 0.2  # share given a melody over one span only (Music ControlNet's partial controls)


def melody_rolls(labels: list[ClipLabels], seconds: float, frames: int, frame_rate: float) -> torch.Tensor:
    """(N, PITCHES + 1, frames): clip i's own melody (synth.melody_of) as a piano roll."""
    return torch.stack(
        [piano_roll(melody_of(lab.seed, seconds), frames, frame_rate) for lab in labels]
    )  # (N, P + 1, frames)


def melody_batches(latents, rolls, labels, cfg: TrainConfig, gen: GenerationConfig):
    """step -> {"latent": (B, C, F, T), "prompt": B strings, "melody": (B, P + 1, T)}, drawn from (seed, step).
    The prompt is dropped with gen.drop_prompt, the melody with DROP_MELODY (independently, so the model
    sees every combination), and PARTIAL_MELODY of the melodies are given over one random span only."""

    def next_batch(step: int) -> dict:
        rng = np.random.default_rng([cfg.seed, step])
        idx = rng.integers(0, len(latents), cfg.batch_size)
        prompts = ["" if rng.random() < gen.drop_prompt else training_prompt(labels[i], rng) for i in idx]
        melody = rolls[idx].clone()  # (B, P + 1, T)
        frames = melody.shape[-1]
        for row in melody:
            r = rng.random()
            if r < DROP_MELODY:
                row.zero_()  # no melody: the whole roll is zeros, "given" included
            elif r < DROP_MELODY + PARTIAL_MELODY:
                a, b = sorted(rng.integers(0, frames + 1, 2))
                keep = torch.zeros(frames, dtype=torch.bool)
                keep[a:b] = True
                row[:, ~keep] = 0.0  # the melody is said over frames a..b only
        return {"latent": latents[idx], "prompt": prompts, "melody": melody}

    return next_batch


def melody_losses(gen: GenerationConfig, seed: int = 0):
    """Flow matching on the batch's latents, conditioned on its prompts and its melodies."""
    generator = torch.Generator().manual_seed(seed)

    def losses(m: dict, batch: dict) -> dict:
        x1 = batch["latent"]  # (B, C, F, T)
        ids, mask = (t.to(x1.device) for t in tokenize(batch["prompt"]))
        roll = batch["melody"].to(x1.device)  # (B, P + 1, T)
        noise_gen = generator if x1.device.type == "cpu" else None

        def velocity(x, t):
            return m["transformer"](x, t, ids, mask, melody=roll)

        return {"loss": flow_matching_loss(velocity, x1, gen.time_shift, noise_gen)}

    return losses


# key=value settings: n_clips is TrainConfig's (the clips this fine-tune encodes), clip_seconds GenerationConfig's
# (the shipped transformer's clip length); TrainConfig.clip_seconds is never read, so `clip_seconds=` reaches
# GenerationConfig.
SETTINGS = {
    "TrainConfig": TrainConfig(),
    "GenerationConfig": GenerationConfig(),
    "TransformerConfig": TransformerConfig(),
}
SETTABLE = {"TrainConfig": fields_but(TrainConfig, "clip_seconds")}


def train_melody(
    out_dir, profile: Profile, autoencoder_path, init_path, melody: str = "cross", run: Run = Run(), data=None
) -> Path:
    """The recipe; returns out_dir/transformer.safetensors, a transformer with cfg.melody = `melody`.

    init_path: the text transformer to start from (its weights load into the same layers; the melody
    layers start at zero). data: (latents, labels) already encoded by encode_training_set, to share one
    encoding between runs (the comparison of cross and add encodes once)."""
    if run.resume:
        raise ValueError("train_melody cannot resume: it keeps no training state; leave run.resume False")
    train_over, gen_over, model_over = split_overrides(run.overrides or {}, SETTINGS, SETTABLE)
    cfg = replace(profile.melody_train, **train_over)
    gen = replace(profile.generation, **gen_over)
    out, device = Path(out_dir), pick_device(run.device)
    autoencoder, ae_meta = load_latent_autoencoder(autoencoder_path, device)
    mel = mel_config_of(ae_meta)
    text_model, _ = load_transformer(init_path)
    model = LatentTransformer(replace(text_model.cfg, melody=melody, **model_over))
    loaded = model.load_state_dict(text_model.state_dict(), strict=False)
    assert not loaded.unexpected_keys, loaded.unexpected_keys  # only melody layers are new
    start = time.perf_counter()
    if data is None:
        data = encode_training_set(autoencoder, mel, cfg.n_clips, gen.clip_seconds, cfg.seed)
    latents, labels = data
    rolls = melody_rolls(labels, gen.clip_seconds, latents.shape[-1], latent_frame_rate(mel, autoencoder))
    encode_seconds = time.perf_counter() - start
    batches = melody_batches(latents, rolls, labels, cfg, gen)
    setup = dict(out_dir=out / "train", device=device, seconds_per_item=gen.clip_seconds, quiet=run.quiet)
    fit("transformer", model, melody_losses(gen, cfg.seed), cfg, batches, **setup)
    model.eval()
    info = {
        **card_fields(
            run.command,
            "minidcae train-melody",
            profile,
            cfg,
            mel,
            device,
            time.perf_counter() - start - encode_seconds,
        ),
        "generation": asdict(gen),
        "autoencoder": Path(autoencoder_path).name,
        "initialised_from": Path(init_path).name,
        "melody": melody,
        "training_clips": len(labels),
        "parameters": count_parameters(model),
        "new_parameters": sum(p.numel() for n, p in model.named_parameters() if n in loaded.missing_keys),
        "encode_seconds": round(encode_seconds, 1),
    }
    path = save_model(out / "transformer", model.cpu(), "transformer", model.cfg, info)
    if run.evaluate:
        evaluate_melody(path, profile, init_path, autoencoder_path, run.command, device=run.device)
    return path


def evaluate_melody(path, profile: Profile, text_path, autoencoder_path, command=None, device=None) -> dict:
    """`minidcae evaluate-melody`: melody_obedience of the melody transformer at `path` against the text
    transformer at `text_path` (on held-out synthesized melodies and the shipped chorale), written onto the
    checkpoint's card (its .json and the metadata of its .safetensors). Returns the figures."""
    from minidcae.core.config import DATA_SAMPLES
    from minidcae.sound.melody import read_midi

    device = pick_device(device)
    model, meta = load_transformer(path, device)
    if model.cfg.melody == "none":
        raise MinidcaeError(f"{path}: this transformer was trained without a melody; pass one from train-melody")
    text_model, _ = load_transformer(text_path, device)
    autoencoder, ae_meta = load_latent_autoencoder(autoencoder_path, device)
    chorale, _ = read_midi(DATA_SAMPLES / "melodies" / "bwv269.mid")
    figures = melody_obedience(
        model, text_model, autoencoder, mel_config_of(ae_meta), n=12 if profile.name == "ci" else 96, chorale=chorale
    )
    info = {**meta["info"], "melody_obedience": figures, "melody_obedience_command": command}
    save_model(Path(path).with_suffix(""), model.cpu(), "transformer", model.cfg, info)
    return figures


# ----------------------------------------------------------------------------- measuring it


def melody_cases(n: int, seconds: float, seed: int = 0) -> list[dict]:
    """n held-out clips to ask for: each one's prompt ("mood instrument"), its melody, its key and mode, and the
    clip itself played without drums (the reference a generated clip is compared with)."""
    cases = []
    for _, wav, lab in synth_clips(n, seconds, 22050, seed, heldout=True, drums=False):  # data.synth_clips
        notes = melody_of(lab.seed, seconds)
        reference = wav[0].numpy()  # (samples,)
        cases.append(_case(prompt_for(lab.instrument, lab.mode), lab.instrument, notes, reference, lab.key, lab.mode))
    return cases


def chorale_cases(notes, seconds: float, seed: int = 0) -> list[dict]:
    """A long melody (the soprano line of a MIDI file) cut into windows of `seconds`, each asked of one
    instrument in turn (bass left out: the pitch tracker does not reach it), moved into its register, with
    the window played by that instrument as its reference. The prompt's mood is "happy": no mode is scored."""
    instruments = [i for i in INSTRUMENTS if i != "bass"]
    end = max(s + n for s, n, _ in notes)
    cases = []
    for k in range(int(end // seconds)):
        window = [
            (s - k * seconds, min(n, (k + 1) * seconds - s), m)
            for s, n, m in notes
            if k * seconds <= s < (k + 1) * seconds
        ]
        instrument = instruments[k % len(instruments)]
        window, _ = fit_register(window, instrument)
        wav, _ = synth_clip(
            first_seed(seed + k, 1, heldout=True), seconds, notes=window, instrument=instrument, drums=False
        )
        cases.append(_case(prompt_for(instrument, "major"), instrument, window, wav, None, None))
    return cases


def _case(prompt, instrument, notes, reference, key, mode) -> dict:
    return {
        "prompt": prompt,
        "instrument": instrument,
        "notes": notes,
        "reference": reference,
        "key": key,
        "mode": mode,
    }


def rolls_for(cases, frames: int, frame_rate: float, given: tuple | None = None) -> torch.Tensor:
    """(N, P + 1, frames) rolls of the cases' notes; given=(start s, end s) says the melody over that span only."""
    start, end = given or (0.0, None)
    return torch.stack([piano_roll(c["notes"], frames, frame_rate, start, end) for c in cases])


def scores(cases, wavs, sample_rate: int, span: tuple | None = None) -> dict:
    """Per case: chroma cosine similarity with its reference, note pitch accuracy of its notes (bass left
    out: the pitch tracker does not reach its low notes), and whether the Krumhansl-Schmuckler judge hears
    the asked mode, searching all 24 keys (mode) and told the asked tonic (mode_given_key), where the case
    has a mode. span=(start s, end s) scores that part only."""
    from minidcae.measure.chroma import chroma_cosine_similarity, chromagram, estimate_key
    from minidcae.measure.pitch import note_pitch_accuracy

    out = {"chroma": [], "pitch": [], "mode": [], "mode_given_key": []}
    for case, wav in zip(cases, wavs):
        ref, notes = torch.as_tensor(case["reference"]), case["notes"]
        gen = torch.as_tensor(wav).reshape(-1)
        if span is not None:
            a, b = (int(round(t * sample_rate)) for t in span)
            ref, gen = ref[a:b], gen[a:b]
            notes = [(s - span[0], n, m) for s, n, m in notes if span[0] <= s < span[1]]
        out["chroma"].append(chroma_cosine_similarity(ref, gen, sample_rate))
        if case["instrument"] != "bass" and notes:
            out["pitch"].append(note_pitch_accuracy(notes, gen, sample_rate)["accuracy"])
        if case["mode"] is not None and span is None:
            chroma = chromagram(gen, sample_rate)  # (12, frames)
            out["mode"].append(float(estimate_key(chroma)[1] == case["mode"]))
            out["mode_given_key"].append(float(estimate_key(chroma, key=case["key"])[1] == case["mode"]))
    return {k: np.array(v) for k, v in out.items()}


def summary(values: np.ndarray) -> dict:
    """Mean and its 95% bootstrap interval, over clips (the judges' obedience.mean_interval)."""
    judged = mean_interval(values, n_boot=1000)
    return {"mean": judged["mean"], "ci95": judged["interval"], "clips": int(len(values))}


@torch.no_grad()
def melody_obedience(
    model,
    text_model,
    autoencoder,
    mel,
    n: int = 96,
    seconds: float = 3.0,
    steps: int = 30,
    seed: int = 0,
    vocoder=None,
    chorale=None,
) -> dict:
    """Generate each case's prompt three ways and score it against the case's melody:
    melody (the model, asked for the case's melody), text_only (text_model, the same prompt and noise),
    random_melody (the model, asked for another case's melody, moved into this instrument's register).
    Cases: n held-out synthesized clips ("synthesized"), and, given `chorale` notes, that melody cut into
    windows ("chorale", minidcae.recipes.melody.chorale_cases). Also, on the synthesized cases: the melody given
    over the first half only, scored on each half, and the real clips' own mode figures (the judge's ceiling).
    Audio through the vocoder if given, else Griffin-Lim (32 iterations)."""
    from minidcae.sound.audio import griffin_lim

    rate = latent_frame_rate(mel, autoencoder)
    frames = max(1, round(seconds * rate))

    def audio_of(mels):
        if vocoder is not None:
            from minidcae.models.vocoder import vocode

            return [vocode(vocoder, x, mel)[0] for x in mels]
        return [griffin_lim(x, mel, 32)[0] for x in mels]

    def run(m, cases, rolls=None):
        prompts = [c["prompt"] for c in cases]
        return audio_of(generate_mels(m, autoencoder, prompts, frames, steps=steps, seed=seed, melody=rolls))

    def three_ways(cases, others):
        asked = rolls_for(cases, frames, rate)
        random_rolls = torch.stack([piano_roll(o, frames, rate) for o in others])
        ways = {
            "melody": run(model, cases, asked),
            "text_only": run(text_model, cases),
            "random_melody": run(model, cases, random_rolls),
        }
        out = {}
        for name, wavs in ways.items():
            s = scores(cases, wavs, mel.sample_rate)
            out[name] = {key: summary(v) for key, v in s.items() if len(v)}
        return out

    synthesized = melody_cases(n, seconds, seed)
    # another case's melody, in this case's instrument's register
    others = [fit_register(synthesized[(i + 1) % n]["notes"], c["instrument"])[0] for i, c in enumerate(synthesized)]
    result = {
        "clips": n,
        "seconds": seconds,
        "steps": steps,
        "vocoder": "neural" if vocoder is not None else "griffin-lim",
    }
    result["synthesized"] = three_ways(synthesized, others)
    real = scores(synthesized, [c["reference"] for c in synthesized], mel.sample_rate)
    result["synthesized"]["real_clips"] = {k: summary(real[k]) for k in ("mode", "mode_given_key")}
    partial = run(model, synthesized, rolls_for(synthesized, frames, rate, given=(0.0, seconds / 2)))
    result["first_half_only"] = {
        part: {k: summary(v) for k, v in scores(synthesized, partial, mel.sample_rate, span).items() if len(v)}
        for part, span in (("given", (0.0, seconds / 2)), ("not_given", (seconds / 2, seconds)))
    }
    if chorale is not None:
        cases = chorale_cases(chorale, seconds, seed)
        others = [fit_register(synthesized[i % n]["notes"], c["instrument"])[0] for i, c in enumerate(cases)]
        result["chorale"] = {"windows": len(cases), **three_ways(cases, others)}
    return result
