"""Teach the shipped transformer the bell from eight clips, and measure it (notebook 14's table).

    .venv/bin/python tools/measure_lora.py [--profile cpu] [--per-mood 48] [--per-label 16]

One thread, one process. Writes eight bell clips (`minidcae synth --voice bell --n 8`), trains the shipped adapter
with `minidcae train-lora`'s own function (rank 4) and the baselines on the same clips, steps and seed (ranks 1
and 16, every weight, the word alone, rank 4 without the prior), then measures each against the base model on the
same noise: the new word heard by the timbre judge (measure.timbre), the known prompts' accuracy and KAD
(measure.adapters), trainable parameters and seconds. Writes data_samples/checkpoints/lora/lora.json (the table,
the machine, each target met or missed by how much) and the shipped adapter with those figures on its card.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

from minidcae.core.checkpoint import save_tensors, write_json
from minidcae.core.config import DATA_SAMPLES, SHIPPED_CLASSIFIER, SHIPPED_DCAE, SHIPPED_TRANSFORMER
from minidcae.core.profiles import get_profile
from minidcae.generation.pipeline import load_generator
from minidcae.generation.sampling import latent_frames
from minidcae.measure.adapters import forgetting, known_prompts, refusal, word_heard
from minidcae.measure.timbre import timbre_judge
from minidcae.models import lora
from minidcae.models.classifier import labelled_mels, load_classifier, predict
from minidcae.recipes.lora import LoraRecipe, encode_clips, read_clips, teach, train_lora
from minidcae.sound.synth import write_dataset
from minidcae.training.recipe import Run, hardware

OUT = DATA_SAMPLES / "checkpoints" / "lora"
WORD = "bell"
# (row, mode, rank, learning-rate factor, prior share): the shipped adapter is "rank 4"
VARIANTS = (
    ("rank 1", "lora", 1, 1.0, 0.5),
    ("rank 4", "lora", 4, 1.0, 0.5),
    ("rank 16", "lora", 16, 1.0, 0.5),
    ("full fine-tuning", "full", 0, 1.0, 0.5),
    ("word alone", "word", 0, 10.0, 0.5),  # textual inversion: an embedding row trains at a larger rate
    ("rank 4, no prior", "lora", 4, 1.0, 0.0),
)
TARGETS = {"word_heard": 0.8, "forgetting_points": 2.0, "trainable_share": 0.02, "seconds": 600.0}


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--profile", default="cpu")
    p.add_argument("--per-mood", type=int, default=48, help="clips of each of 'happy WORD' and 'sad WORD'")
    p.add_argument("--per-label", type=int, default=16, help="clips of each of the 12 known prompts")
    p.add_argument("--steps", type=int, default=30, help="sampling steps")
    p.add_argument("--out", default=str(OUT))
    p.add_argument("--rows", default=None, help="measure only these rows, comma-separated (a probe, not the table)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    command = "python tools/measure_lora.py " + shlex.join(sys.argv[1:] if argv is None else argv)
    profile, out = get_profile(args.profile), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    gen, cfg = profile.generation, profile.lora_train
    sampling = dict(steps=args.steps, cfg_scale=gen.cfg_scale)
    clips = Path(tempfile.mkdtemp(prefix="bell_clips_"))
    write_dataset(clips, 8, 4.0, 0, instrument=WORD)  # what `minidcae synth --voice bell --n 8 --out DIR` writes

    base, ae, mel = load_generator(SHIPPED_TRANSFORMER, SHIPPED_DCAE)
    classifier, _ = load_classifier(SHIPPED_CLASSIFIER)
    frames = latent_frames(gen.clip_seconds, mel, ae)
    start = time.perf_counter()
    judge = timbre_judge(classifier, mel, (WORD,), seconds=gen.clip_seconds)
    print(f"timbre judge in {time.perf_counter() - start:.0f} s; on held-out clips: {judge.accuracy}")
    real, _, _ = labelled_mels(12 * args.per_label, gen.clip_seconds, mel, heldout=True)
    real = predict(classifier, real)[0]  # (N, E): the KAD reference
    nearest = judge.nearest_known(WORD)
    base_known = known_prompts(base, ae, classifier, real, frames, args.per_label, seed=200, **sampling)
    report = {
        "command": command,
        "hardware": hardware("cpu"),
        "profile": profile.name,
        "word": WORD,
        "clips": {"count": 8, "seconds_each": 4.0, "command": f"minidcae synth --voice {WORD} --n 8 --out DIR"},
        "train": asdict(cfg),
        "sampling": {**sampling, "seconds": gen.clip_seconds, "per_mood": args.per_mood, "per_label": args.per_label},
        "judge": {"timbres": list(judge.names), "heldout_accuracy": judge.accuracy, "nearest_known": nearest},
        "base": {
            "refuses": refusal(base, f"happy {WORD}"),
            "nearest_prompt": f"happy / sad {nearest}",
            "nearest_prompt_heard_as_new": word_heard(
                base, ae, judge, nearest, WORD, frames, args.per_mood, seed=100, **sampling
            ),
            "known": {k: v for k, v in base_known.items() if k != "hits"},
            "parameters": sum(t.numel() for t in base.state_dict().values()),
        },
        "targets": TARGETS,
        "rows": {},
    }
    print(f"base: {report['base']['refuses']}; nearest known {nearest}")
    paths, wavs, labels = read_clips(clips, mel.sample_rate, gen.clip_seconds)
    latents = encode_clips(ae, mel, wavs)
    for name, mode, rank, lr_factor, share in VARIANTS:
        if args.rows and name not in args.rows.split(","):
            continue
        model = load_generator(SHIPPED_TRANSFORMER, SHIPPED_DCAE)[0]
        if name == "rank 4":  # the shipped adapter, made as `minidcae train-lora` makes it, loaded back from its file
            start = time.perf_counter()
            shipped = train_lora(clips, WORD, out, profile, Run(quiet=True, command=_train_command(args.profile)))
            total = time.perf_counter() - start
            card = lora.apply_adapter(model, shipped)
            done = {"trainable_parameters": card["trainable_parameters"], "train_seconds": card["train_seconds"]}
            done["prior_seconds"], done["total_seconds"] = card["prior_seconds"], round(total, 1)
        else:
            torch.manual_seed(cfg.seed)
            start = time.perf_counter()
            done = teach(
                model,
                latents,
                labels,
                WORD,
                frames,
                replace(cfg, lr=cfg.lr * lr_factor),
                gen,
                LoraRecipe(mode, share),
                **({"rank": rank} if mode == "lora" else {}),
            )
            done["total_seconds"] = round(time.perf_counter() - start, 1)
        heard = word_heard(model, ae, judge, WORD, WORD, frames, args.per_mood, seed=100, **sampling)
        known = known_prompts(model, ae, classifier, real, frames, args.per_label, seed=200, **sampling)
        row = {
            "mode": mode,
            "rank": rank,
            "lr": cfg.lr * lr_factor,
            "prior_share": share,
            "trainable_parameters": done["trainable_parameters"],
            "trainable_share": done["trainable_parameters"] / report["base"]["parameters"],
            "train_seconds": done["train_seconds"],
            "prior_seconds": done["prior_seconds"],
            "total_seconds": done["total_seconds"],
            "word_heard": heard,
            "forgetting": forgetting(known, base_known),
        }
        report["rows"][name] = row
        print(
            f"{name:18s} heard {heard['mean']:.3f} {heard['interval']}  known {row['forgetting']['accuracy']:.3f} "
            f"({row['forgetting']['difference_points']:+.1f} points)  {row['trainable_share']:.2%}  "
            f"{done['total_seconds']:.0f} s"
        )
    report["verdicts"] = verdicts(report["rows"]["rank 4"])
    write_json(out / "lora.json", report)
    tensors, card = lora.read_adapter(shipped)
    card["figures"] = {"word_heard": report["rows"]["rank 4"]["word_heard"], **report["verdicts"]}
    card["figures"]["measured_by"] = command
    save_tensors(shipped, tensors, card)
    write_json(shipped.with_suffix(".json"), card)
    print(f"wrote {out / 'lora.json'} and {shipped}")


def _train_command(profile: str) -> str:
    return f"minidcae synth --voice {WORD} --n 8 --out CLIPS && minidcae train-lora --profile {profile} --clips CLIPS --word {WORD} --out OUT --rank 4"


def verdicts(row: dict) -> dict:
    """Each target, met or missed, and by how much (the shipped adapter's row)."""
    f = row["forgetting"]
    figures = {
        "word_heard": (row["word_heard"]["mean"], ">=", TARGETS["word_heard"]),
        "forgetting_points": (-f["difference_points"], "<=", TARGETS["forgetting_points"]),
        "trainable_share": (row["trainable_share"], "<=", TARGETS["trainable_share"]),
        "seconds": (row["total_seconds"], "<=", TARGETS["seconds"]),
    }
    out = {}
    for key, (value, sense, target) in figures.items():
        met = value >= target if sense == ">=" else value <= target
        out[key] = {"value": value, "target": f"{sense} {target:g}", "met": met, "margin": abs(value - target)}
    return out


if __name__ == "__main__":
    main()
