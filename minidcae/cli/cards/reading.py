"""A checkpoint's card read back, and the few phrases every card uses.

    read_card        the card ("info") of a checkpoint, from the JSON beside it
    load             a JSON of the shipped checkpoints' folder, or None when it is not there (its section is left out)
    trained_text     "trained 12.3 s on <machine>": the first line the command line prints after training
    wall_time_text   "hardware: <machine>; wall time 12.8 min": the model card's line
    interval_text    a mean and its 95% interval, "0.812 [0.750, 0.871]"

What a card records is written by the recipes (minidcae.training.recipe.card_fields); this package words it.
"""

from __future__ import annotations

import json
from pathlib import Path


def read_card(path) -> dict:
    """The card ("info") of a checkpoint, read from the JSON beside it (path: .safetensors or .json)."""
    return json.loads(Path(path).with_suffix(".json").read_text())["info"]


def load(ckpt: Path, name: str) -> dict | list | None:
    """ckpt/name's JSON (a checkpoint's whole JSON, or a table), None when the file is not there."""
    path = ckpt / name
    return json.loads(path.read_text()) if path.exists() else None


def trained_text(info: dict) -> str:
    return f"trained {info['train_seconds']} s on {info['hardware']}"


def wall_time_text(info: dict) -> str:
    """Where and how long a run trained, for the model card: "hardware: ...; wall time 12.8 min"."""
    return f"hardware: {info['hardware']}; wall time {info['train_seconds'] / 60:.1f} min"


def interval_text(s: dict) -> str:
    """{"mean", "ci95": [low, high]} -> "mean [low, high]" to three decimals."""
    return f"{s['mean']:.3f} [{s['ci95'][0]:.3f}, {s['ci95'][1]:.3f}]"
