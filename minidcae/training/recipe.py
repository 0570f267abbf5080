"""The skeleton every training recipe shares, written once: how it runs, settings, EMA, means, hardware, cards.

    Run              how a recipe runs (settings, device, resume, quiet, command, evaluate), the same for every recipe
    parse_settings   ["steps=500", "dim=64"] from the command line -> {"steps": "500", "dim": "64"}
    split_overrides  {key: text} -> one dict of typed values per config the recipe lets you set
    keep_ema         after a phase, load the EMA copy's weights back into the trained model
    mean_over        the mean of every figure over a set of per-clip rows
    measure_sets     a held-out report: every clip of every set measured, and each set's means
    hardware         what a run was measured on: the GPU, or the CPU model and its threads
    card_fields      what every model card records: command, profile, settings, front end, machine, time
    read_card        a checkpoint's card (the "info" of its JSON) back, for the CLI and the model card
    accuracy_text / obedience_text / wall_time_text   card figures as the CLI and tools/write_model_card.py print them

Used by train_autoencoder, train_vocoder, train_classifier, train_transformer, sweep, demo, the
CLI and benchmarks. Taught with notebook 03 (training for real), where a recipe is first run
from the command line.
"""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import torch

from minidcae.core.config import parse_setting


@dataclass(frozen=True)
class Run:
    """How a recipe runs, the same for every recipe: train_ae(out, profile, Run(device="cpu", quiet=True)).

    What it trains (the profile, the out folder, its own inputs) is the recipe's own arguments."""

    overrides: dict | None = None  # {key: text} from the command line, e.g. {"steps": "500"}; typed by split_overrides
    device: str | None = None  # "cpu", "cuda", "mps"; None: the best there is (config.pick_device)
    resume: bool = False  # continue from out_dir's last training state (train_ae and train_vocoder only)
    quiet: bool = False  # no progress bar (TQDM_DISABLE=1 turns it off for every run)
    command: str | None = None  # the command line the model card records; None: the recipe's own command name
    evaluate: bool = True  # measure on held-out clips at the end; False: quicker, the card has no figures


def parse_settings(texts) -> dict[str, str]:
    """["steps=500", "lr = 1e-3"] -> {"steps": "500", "lr": "1e-3"}: still text, typed by split_overrides."""
    out = {}
    for text in texts:
        if "=" not in text:
            raise ValueError(f"{text!r}: settings are key=value, e.g. steps=500")
        key, value = text.split("=", 1)
        out[key.strip()] = value.strip()
    return out


def fields_but(config, *left_out: str) -> tuple[str, ...]:
    """The field names of a config dataclass (class or instance) without `left_out`: what a recipe lets a user set
    when it reads a field of the same name from another config (split_overrides' `only`)."""
    return tuple(f.name for f in fields(config) if f.name not in left_out)


def split_overrides(overrides: dict, groups: dict, only: dict | None = None) -> tuple[dict, ...]:
    """{key: text} -> one dict per group, each value typed like that group's default.

    groups: label -> a config instance holding the defaults, e.g. {"TrainConfig": TrainConfig()};
    only: label -> the field names of that group that may be set (default: all its fields).
    A key goes to the first group that has it; a key no group has is refused, naming them all.
    """
    only = only or {}
    names = {label: tuple(only.get(label) or (f.name for f in fields(defaults))) for label, defaults in groups.items()}
    out = tuple({} for _ in groups)
    for key, text in overrides.items():
        for target, (label, defaults) in zip(out, groups.items()):
            if key in names[label]:
                target[key] = parse_setting(key, text, getattr(defaults, key))
                break
        else:
            known = " or ".join(f"{label} fields ({', '.join(keys)})" for label, keys in names.items())
            raise ValueError(f"unknown setting {key!r}; settings are {known}")
    return out


def keep_ema(trainer, name: str) -> None:
    """Load the EMA copy of trainer.modules[name] back into that module (nothing if the run kept none)."""
    if trainer.emas:
        trainer.modules[name].load_state_dict(trainer.emas[name].state_dict())


def mean_over(rows, keys=None) -> dict:
    """{figure: mean over rows} for a list of {figure: value} rows (or the values of a {clip: row} dict)."""
    rows = list(rows.values()) if isinstance(rows, dict) else list(rows)
    return {k: sum(r[k] for r in rows) / len(rows) for k in (keys or rows[0])}


def measure_sets(sets: dict, measure) -> dict:
    """{set: {clip: waveform}} -> {set: {"mean": {figure: mean over its clips}, "clips": {clip: {figure: value}}}},
    where measure(set_name, waveform) -> {figure: value} measures one clip."""
    report = {}
    for set_name, clips in sets.items():
        rows = {name: measure(set_name, wav) for name, wav in clips.items()}
        report[set_name] = {"mean": mean_over(rows), "clips": rows}
    return report


def hardware(device: torch.device | str | None = None) -> str:
    """The machine a figure was measured on: the GPU's name (and CUDA version), or the CPU model and
    how many threads torch uses of how many cores. No device: the GPU when CUDA is there."""
    device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{cpu}, {torch.get_num_threads()} thread(s) of {os.cpu_count()} cores"


def card_fields(command: str | None, default_command: str, profile, train, mel, device, seconds: float) -> dict:
    """The fields every model card holds: how to remake it, its settings and front end, where and how long."""
    return {
        "command": command or default_command,
        "profile": profile.name,
        "train": asdict(train),
        "mel": asdict(mel),
        "hardware": hardware(device),
        "device": str(device),
        "train_seconds": round(seconds, 1),
    }


def read_card(path) -> dict:
    """The card ("info") of a checkpoint, read from the JSON beside it (path: .safetensors or .json)."""
    return json.loads(Path(path).with_suffix(".json").read_text())["info"]


def accuracy_text(info: dict) -> str:
    """A classifier card's held-out accuracy beside chance, as the CLI prints it and the model card shows it."""
    acc, chance = info["heldout_accuracy"], info["chance"]
    return (
        f"instrument {acc['instrument']:.3f} (chance {chance['instrument']:.3f}), "
        f"mode {acc['mode']:.3f} (chance {chance['mode']:.3f})"
    )


def obedience_text(o: dict) -> str:
    """A latent transformer card's obedience (generation.obedience) in one paragraph."""
    return (
        f"conditional accuracy over {o['clips']} generated clips: instrument {o['instrument_accuracy']:.3f} "
        f"(chance {o['chance']['instrument']:.3f}), mode {o['mode_accuracy']:.3f} (chance {o['chance']['mode']:.3f}); "
        f"Frechet distance to real clips {o['frechet_generated_vs_real']:.2f} "
        f"(reconstructions {o['reference']['frechet_reconstruction_vs_real']:.2f}, "
        f"real half vs half {o['reference']['frechet_real_half_vs_half']:.2f})"
    )


def wall_time_text(info: dict) -> str:
    """Where and how long a run trained, for the model card: "hardware: ...; wall time 12.8 min"."""
    return f"hardware: {info['hardware']}; wall time {info['train_seconds'] / 60:.1f} min"
