"""Does a melody transformer follow the melody? Its figures, and `minidcae evaluate-melody`, which writes them onto
its card (train-melody runs it at the end).

    evaluate_melody     melody_obedience of a melody transformer against its text transformer, written onto its card
    melody_cases        held-out synthesized clips to ask for: prompt, melody, key, mode, and the clip as reference
    chorale_cases       a long melody (a MIDI file's soprano line) cut into windows, each asked of one instrument
    rolls_for           the cases' melodies as piano rolls at the latent frame rate (or over a span only)
    scores              per case: chroma cosine with the reference, note pitch accuracy, the mode the judge hears
    melody_obedience    those scores three ways (with the melody, text only, another case's melody), means with
                        bootstrap intervals, and with the melody given over the first half only

The judges are not ours to train: chroma (minidcae.measure.chroma, audiocraft's metric) and the pesto pitch
tracker (minidcae.measure.pitch). The recipe is minidcae.recipes.melody. Taught in notebook 10 (melody conditioning).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from minidcae.core.checkpoint import save_model
from minidcae.core.errors import MinidcaeError
from minidcae.core.profiles import Profile, pick_device
from minidcae.generation.pipeline import generate_mels
from minidcae.generation.sampling import latent_frame_rate, prompt_for
from minidcae.measure.obedience import mean_interval
from minidcae.models.dcae import load_latent_autoencoder, mel_config_of
from minidcae.models.transformer import load_transformer
from minidcae.sound.data import synth_clips
from minidcae.sound.melody import fit_register, piano_roll
from minidcae.sound.synth import INSTRUMENTS, first_seed, melody_of, synth_clip


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
