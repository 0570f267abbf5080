"""`make demo`: the course's pipeline so far, end to end, on synthetic and bundled real clips.

For each clip, three stages, each played back through Griffin-Lim (pipeline.mels_to_audio, the one place that
turns a log-mel into sound) and measured against the original:
the oracle (the true log-mel), a tiny DCAE trained right here, and the shipped DCAE checkpoint; then
the shipped DCAE's mel through the neural vocoder, and a clip generated from a prompt by the shipped
latent transformer (generation.generate: the pipeline `minidcae generate` runs). Writes WAVs, a PNG
figure, metrics.json and report.html (a page with every player) under the output folder, and prints
a table. Then melody and search: a chorale's soprano line followed by the shipped melody transformer,
judged by chroma against the synthesizer playing it, and a handful of clips ranked by the shipped miniCLAP.
The README's quick start: notebooks 00-08 in one run, melody conditioning (notebook 10) and text search (notebook 11).

    demo_clips        the profile's synthetic clips and one bundled clip per kind
    demo_models       the stages a clip goes through: a tiny DCAE trained here, the shipped DCAE
    run_demo          everything above and below, the table, metrics.json and report.html
    demo_generation   a clip per prompt from the shipped text transformer
    demo_melody       the chorale as "happy violin" with and without its melody, each with its chroma cosine
    demo_search       labelled clips ranked by miniCLAP for two prompts
    print_melody_and_search   the melody's chroma figures and each prompt's best match, printed
    print_table       mel L1 and MR-STFT of every stage against the original
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import torch  # noqa: E402

from minidcae.cli.report import write_report  # noqa: E402
from minidcae.core.checkpoint import write_json  # noqa: E402
from minidcae.core.config import (
    DATA_SAMPLES,
    SHIPPED_CLAP,
    SHIPPED_DCAE,
    SHIPPED_MELODY_TRANSFORMER,
    SHIPPED_TRANSFORMER,
    SHIPPED_VOCODER,
)
from minidcae.core.profiles import Profile
from minidcae.generation.pipeline import mels_to_audio  # noqa: E402
from minidcae.measure.evaluate import reconstruction_report  # noqa: E402
from minidcae.models.dcae import DCAE, load_autoencoder  # noqa: E402
from minidcae.recipes.autoencoder import autoencoder_losses, training_data  # noqa: E402
from minidcae.sound.audio import log_mel  # noqa: E402
from minidcae.sound.audio_files import load_audio, save_audio  # noqa: E402
from minidcae.sound.data import bundled_clips  # noqa: E402
from minidcae.sound.synth import first_seed, synth_clip  # noqa: E402
from minidcae.teach.viz import plot_mels  # noqa: E402
from minidcae.training.recipe import fit, mean_over  # noqa: E402
from minidcae.training.trainer import infinite_batches  # noqa: E402

COLUMNS = ("log_mel_l1_db", "mr_stft", "spectral_convergence", "si_sdr_db")


def demo_clips(profile: Profile, samples_dir: Path = DATA_SAMPLES) -> list[tuple[str, torch.Tensor]]:
    """(name, waveform (1, samples)) for the profile's synthetic clips and one bundled clip per kind."""
    sr = profile.mel.sample_rate
    clips = []
    for seed in range(profile.n_clips):
        wav, labels = synth_clip(seed, profile.clip_seconds, sr)
        clips.append((f"synth{seed:02d}_{labels.instrument}", torch.from_numpy(wav)[None]))
    kinds_seen = set()
    for row in bundled_clips("train", root=samples_dir):
        if row["kind"] not in kinds_seen:
            kinds_seen.add(row["kind"])
            wav = load_audio(row["path"], sr)[:, : int(profile.clip_seconds * sr)]  # (1, samples)
            clips.append((row["path"].stem, wav))
    return clips


def demo_models(profile: Profile, out: Path, device=None) -> dict:
    """{stage name: function log-mel (1, n_mels, frames) -> log-mel}: a tiny DCAE trained here for
    profile.demo_ae_steps steps, and the shipped checkpoint when it is there."""
    cfg = replace(profile.ae_train, steps=profile.demo_ae_steps, checkpoint_every=profile.demo_ae_steps)
    torch.manual_seed(cfg.seed)
    tiny = DCAE(profile.ae)
    crop_seconds = cfg.crop_frames * profile.mel.hop_length / profile.mel.sample_rate
    print(f"training a tiny DCAE for {cfg.steps} steps (profile {profile.name})")
    batches = infinite_batches(training_data(cfg, profile.mel), cfg.batch_size, cfg.seed)
    setup = dict(out_dir=out / "tiny_dcae", device=device, seconds_per_item=crop_seconds)
    fit("autoencoder", tiny, autoencoder_losses(cfg), cfg, batches, **setup)
    models = {f"tiny DCAE ({cfg.steps} steps)": tiny.cpu().eval()}
    if SHIPPED_DCAE.exists():
        models["shipped DCAE"] = load_autoencoder(SHIPPED_DCAE)[0]
    return {name: (lambda x, m=m: m.decode(m.encode(x[None]), x.shape[-2:])[0]) for name, m in models.items()}


@torch.no_grad()
def run_demo(out_dir, profile: Profile, device=None) -> dict:
    out = Path(out_dir)
    (out / "audio").mkdir(parents=True, exist_ok=True)
    cfg, start = profile.mel, time.perf_counter()
    with torch.enable_grad():
        stages = {"oracle mel": lambda x: x, **demo_models(profile, out, device)}
    vocoder = None
    if SHIPPED_VOCODER.exists() and "shipped DCAE" in stages:
        from minidcae.models.vocoder import load_vocoder

        vocoder = load_vocoder(SHIPPED_VOCODER)[0]
    results, mels, players = {}, {}, {}
    for name, wav in demo_clips(profile):
        x = log_mel(wav, cfg, name)  # (1, n_mels, frames)
        save_audio(out / "audio" / f"{name}_original.wav", wav, cfg.sample_rate)
        results[name], players[name] = {}, {"original": f"audio/{name}_original.wav"}
        for stage, to_mel in stages.items():
            x_hat = to_mel(x)  # (1, n_mels, frames)
            recon = mels_to_audio(x_hat[None], cfg, None, profile.griffin_lim_iters)[0]  # (1, frames * hop)
            file = f"audio/{name}_{stage.split(' (')[0].replace(' ', '-')}.wav"
            save_audio(out / file, recon, cfg.sample_rate)
            results[name][stage], players[name][stage] = reconstruction_report(wav, recon, cfg), file
            if len(mels) < 2 * len(stages):
                mels[f"{name}: {stage}"] = x_hat
            if vocoder is not None and stage == "shipped DCAE":
                stage = "shipped DCAE + neural vocoder"
                file = f"audio/{name}_shipped-DCAE-neural-vocoder.wav"
                save_audio(out / file, mels_to_audio(x_hat[None], cfg, vocoder)[0], cfg.sample_rate)
                players[name][stage] = file
    generated = demo_generation(out, profile)
    melody, search = demo_melody(out, profile), demo_search(out, profile)
    seconds = time.perf_counter() - start

    fig = plot_mels(mels, cfg)
    fig.savefig(out / "mels.png", dpi=80)
    plt.close(fig)
    mean = {stage: mean_over([r[stage] for r in results.values()], COLUMNS) for stage in stages}
    report = {
        "profile": profile.name,
        "griffin_lim_iters": profile.griffin_lim_iters,
        "seconds": round(seconds, 2),
        "clips": results,
        "mean": mean,
        "melody": melody,
        "search": search,
    }
    write_json(out / "metrics.json", report)
    write_report(out, report, players, generated, COLUMNS)
    print_table(results, mean, list(stages))
    print_melody_and_search(melody, search)
    n_wavs = sum(len(p) for p in players.values()) + len(generated)
    n_wavs += len(melody.get("rows", [])) + len(search.get("clips", []))
    print(f"wrote {n_wavs} WAVs, mels.png, metrics.json and report.html to {out} in {seconds:.1f} s")
    return report


PROMPTS = ("happy piano, 120 bpm, drums", "sad violin, slow")


def demo_generation(out: Path, profile: Profile) -> list[dict]:
    """A clip per prompt from the shipped latent transformer (none if it is missing)."""
    if not SHIPPED_TRANSFORMER.exists():
        return []
    from minidcae.generation.pipeline import generate, load_generator

    transformer, autoencoder, mel = load_generator(SHIPPED_TRANSFORMER, SHIPPED_DCAE)
    rows = []
    for i, prompt in enumerate(PROMPTS):
        wav = generate(
            transformer,
            autoencoder,
            mel,
            prompt,
            profile.clip_seconds,
            steps=30,
            cfg_scale=3.0,
            seed=i,
            gl_iters=profile.griffin_lim_iters,
        )  # (1, samples)
        file = f"audio/generated_{i}.wav"
        save_audio(out / file, wav, mel.sample_rate)
        rows.append({"prompt": prompt, "path": file, "seconds": wav.shape[-1] / mel.sample_rate})
    return rows


MELODY_FILE = DATA_SAMPLES / "melodies" / "bwv269.mid"  # Bach's BWV 269; read_midi picks its soprano
MELODY_PROMPT, MELODY_INSTRUMENT = "happy violin", "violin"  # the chorale is in G major
MELODY_SECONDS = 4.0  # at most: the melody's first window, and no longer than the profile's clips


def demo_melody(
    out: Path,
    profile: Profile,
    checkpoint=SHIPPED_MELODY_TRANSFORMER,
    text_checkpoint=SHIPPED_TRANSFORMER,
    autoencoder_path=SHIPPED_DCAE,
    seed: int = 0,
) -> dict:
    """The chorale's first seconds as MELODY_PROMPT with the melody transformer, the same prompt and seed
    with the text transformer, and the melody played by the synthesizer: {"prompt", "melody" (what was read),
    "seconds", "rows": [{"what", "path", "chroma"}]}, chroma = pitch.chroma_cosine_similarity against the
    synthesizer's rendering. {"missing": one line} when the melody checkpoint is not there."""
    if not Path(checkpoint).exists():
        return {"missing": f"no melody transformer ({Path(checkpoint).name}): `minidcae train-melody` trains one"}
    from minidcae.generation.pipeline import generate, load_generator
    from minidcae.measure.chroma import chroma_cosine_similarity
    from minidcae.sound.melody import fit_length, fit_register, read_midi

    seconds = min(profile.clip_seconds, MELODY_SECONDS)
    notes, info = read_midi(MELODY_FILE)
    notes, shift = fit_register(fit_length(notes, seconds), MELODY_INSTRUMENT)  # the first window, in the register
    transformer, autoencoder, mel = load_generator(checkpoint, autoencoder_path)
    sr = mel.sample_rate
    reference, _ = synth_clip(seed, seconds, sr, notes=notes, instrument=MELODY_INSTRUMENT, drums=False)  # (samples,)
    sampling = dict(steps=30, cfg_scale=3.0, seed=seed, gl_iters=profile.griffin_lim_iters)
    wavs = {"melody played by the synthesizer": torch.from_numpy(reference)[None]}  # (1, samples)
    with_melody = generate(transformer, autoencoder, mel, MELODY_PROMPT, seconds, melody=notes, **sampling)
    wavs[f"with the melody ({Path(checkpoint).name})"] = with_melody  # (1, samples)
    if Path(text_checkpoint).exists():
        text_model, autoencoder, mel = load_generator(text_checkpoint, autoencoder_path)
        without = generate(text_model, autoencoder, mel, MELODY_PROMPT, seconds, **sampling)  # (1, samples)
        wavs[f"without a melody ({Path(text_checkpoint).name})"] = without
    rows = []
    for i, (what, wav) in enumerate(wavs.items()):
        file = f"audio/melody_{i}.wav"
        save_audio(out / file, wav, sr)
        chroma = None if i == 0 else round(chroma_cosine_similarity(reference, wav, sr), 4)
        rows.append({"what": what, "path": file, "chroma": chroma})
    moved = f", moved {shift:+d} semitones" if shift else ""
    return {
        "prompt": MELODY_PROMPT,
        "melody": f"{MELODY_FILE.name} track {info['track']}, first {seconds:g} s ({len(notes)} notes{moved})",
        "seconds": seconds,
        "rows": rows,
    }


SEARCH_PROMPTS = ("happy piano", "sad violin")
SEARCH_CLIPS = tuple(  # labels fixed, the rest (key, tempo, drums, timbre) drawn from held-out seeds
    {"instrument": i, "mode": m} for i in ("piano", "violin") for m in ("major", "minor")
) + ({"instrument": "organ", "mode": "major"}, {"instrument": "bass", "mode": "minor"})


def demo_search(out: Path, profile: Profile, checkpoint=SHIPPED_CLAP, prompts=SEARCH_PROMPTS) -> dict:
    """SEARCH_CLIPS written to out/search/ and ranked by miniCLAP for each prompt, as `minidcae search` does:
    {"clips": [{"path", "labels"}], "rankings": {prompt: [{"rank", "score", "path", "labels"}]}}.
    {"missing": one line} when the checkpoint is not there."""
    if not Path(checkpoint).exists():
        return {"missing": f"no miniCLAP checkpoint ({Path(checkpoint).name}): `minidcae train-clap` trains one"}
    from minidcae.models.clap import search_folder

    sr, base = profile.mel.sample_rate, first_seed(0, len(SEARCH_CLIPS), heldout=True)
    (out / "search").mkdir(parents=True, exist_ok=True)
    clips = []
    for i, overrides in enumerate(SEARCH_CLIPS):
        wav, labels = synth_clip(base + i, profile.clip_seconds, sr, **overrides)  # (samples,)
        file = f"search/clip_{i}.wav"
        save_audio(out / file, wav, sr)
        clips.append({"path": file, "labels": labels.prompt()})
    label_of = {(out / c["path"]).resolve(): c["labels"] for c in clips}
    rankings = {}
    for prompt in prompts:
        found = search_folder(checkpoint, prompt, out / "search", top=len(clips))  # [(cosine, path)], best first
        rankings[prompt] = [
            {"rank": r, "score": round(score, 4), "path": f"search/{path.name}", "labels": label_of[path.resolve()]}
            for r, (score, path) in enumerate(found, 1)
        ]
    return {"clips": clips, "rankings": rankings}


def print_melody_and_search(melody: dict, search: dict) -> None:
    """The melody section's chroma figures and each prompt's best match, or why they are missing."""
    if "missing" in melody:
        print(f"melody: {melody['missing']}")
    else:
        print(f"melody: {melody['melody']} as {melody['prompt']!r}; chroma cosine with the synthesizer's rendering:")
        for row in melody["rows"][1:]:
            print(f"  {row['what']:48s} {row['chroma']:.3f}")
    if "missing" in search:
        print(f"search: {search['missing']}")
        return
    for prompt, ranked in search["rankings"].items():
        best = ranked[0]
        print(f"search {prompt!r}: best {best['path']} ({best['labels']}) at {best['score']:+.3f}")


def print_table(results: dict, mean: dict, stages: list) -> None:
    """mel L1 (dB) and MR-STFT distance of each stage's Griffin-Lim output against the original."""
    head = f"{'clip':34s}" + "".join(f" {s[:22]:>22s}" for s in stages)
    print("mel L1 dB / MR-STFT, each stage played through Griffin-Lim")
    print(head)
    print("-" * len(head))
    for name, r in list(results.items()) + [("mean", mean)]:
        print(f"{name[:34]:34s}" + "".join(f" {r[s]['log_mel_l1_db']:12.2f} /{r[s]['mr_stft']:7.3f}" for s in stages))
