"""Printing and saving benchmark tables: one JSON per benchmark in benchmarks/results/."""

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def save(name: str, payload: dict) -> Path:
    from minidcae.core.files import atomic_write

    payload = {
        "benchmark": name,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "command": " ".join(["python"] + sys.argv),
        **payload,
    }
    path = RESULTS / f"{name}.json"
    atomic_write(path, lambda tmp: Path(tmp).write_text(json.dumps(payload, indent=2) + "\n"))
    return path


def fmt(value, spec: str, missing: str = "-") -> str:
    return missing if value is None else format(value, spec)
