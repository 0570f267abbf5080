"""The skeleton every training recipe shares, written once: how it runs, settings, the trainer, means, cards.

    Run              how a recipe runs (settings, device, resume, quiet, command, evaluate), the same for every recipe
    parse_settings   ["steps=500", "dim=64"] from the command line -> {"steps": "500", "dim": "64"}
    split_overrides  {key: text} -> one dict of typed values per config the recipe lets you set
    model_trainer    the Trainer of one model (and a GAN's critic): its EMA copy, where it logs, what each loss trains
    fit              that Trainer run for a phase, then the EMA copy's weights loaded back into the model (keep_ema)
    mean_over        the mean of every figure over a set of per-clip rows
    measure_sets     a held-out report: every clip of every set measured, and each set's means
    hardware         what a run was measured on: the GPU, or the CPU model and its threads
    card_fields      what every model card records: command, profile, settings, front end, machine, time
                     (how a card is read back and worded is minidcae.cli.cards')

Used by train_autoencoder, train_vocoder, train_classifier, train_transformer, sweep, demo, the
CLI and benchmarks. Taught with notebook 03 (training for real), where a recipe is first run
from the command line.
"""

from __future__ import annotations

import os
import platform
from dataclasses import asdict, dataclass, fields

import torch
import torch.nn as nn

from minidcae.core.config import TrainConfig, parse_setting
from minidcae.training.trainer import Trainer


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


def model_trainer(
    name: str,
    model: nn.Module,
    losses,
    cfg: TrainConfig,
    out_dir=None,
    device=None,
    seconds_per_item: float = 0.0,
    critic: nn.Module | None = None,
    trained: nn.Module | None = None,
    horizon: int | None = None,
    resume: bool = False,
    quiet: bool = False,
) -> Trainer:
    """The Trainer every recipe builds for its model: `model` is modules[name] (what losses(modules, batch) reads),
    the losses' "loss" trains it (or only its part `trained`, say the decoder), and an EMA copy of it is kept
    (cfg.ema_decay > 0). critic: a GAN's discriminator, modules["disc"], trained after it on the losses' "d_loss".
    State and logs go to out_dir (None: nowhere); the learning rate decays over `horizon` steps (default cfg.steps)."""
    modules, optimize = {name: model}, {"loss": trained or model}
    if critic is not None:
        modules["disc"] = optimize["d_loss"] = critic
    return Trainer(
        modules,
        losses,
        optimize,
        cfg,
        out_dir,
        device,
        seconds_per_item,
        ema=(name,),
        resume=resume,
        quiet=quiet,
        horizon=horizon,
    )


def fit(
    name: str, model: nn.Module, losses, cfg: TrainConfig, next_batch, steps: int | None = None, **setup
) -> Trainer:
    """Train `model` for `steps` (default cfg.steps) on next_batch(step), then load its EMA weights back into it:
    model_trainer(name, model, losses, cfg, **setup) (out_dir, device, seconds_per_item, critic, trained, resume,
    quiet), its learning rate decaying over those steps. Returns the trainer: its .history holds the logged losses."""
    trainer = model_trainer(name, model, losses, cfg, horizon=steps, **setup)
    trainer.fit(next_batch, steps or cfg.steps)
    keep_ema(trainer, name)
    return trainer


def keep_ema(trainer: Trainer, name: str) -> None:
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
