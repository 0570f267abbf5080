"""Measure the edits (minidcae.generation.editing.edit_report) on the shipped models and write data_samples/checkpoints/editing.json.

    OMP_NUM_THREADS=1 .venv/bin/python tools/write_editing_report.py [--edits 96 --per-prompt 8 --steps 30]

One CPU thread, about four minutes. Notebook 12 reads the JSON this writes.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import torch

from minidcae.core.config import DATA_SAMPLES, SHIPPED_CLASSIFIER, SHIPPED_DCAE, SHIPPED_TRANSFORMER
from minidcae.core.files import atomic_write
from minidcae.generation.pipeline import load_generator
from minidcae.measure.editing import edit_report
from minidcae.models.classifier import load_classifier

OUT = DATA_SAMPLES / "checkpoints" / "editing.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--edits", type=int, default=96, help="clips repainted and extended")
    parser.add_argument("--per-prompt", type=int, default=8, help="clips per prompt for each guidance setting")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    torch.set_num_threads(1)
    transformer, autoencoder, mel = load_generator(SHIPPED_TRANSFORMER, SHIPPED_DCAE)
    classifier, _ = load_classifier(SHIPPED_CLASSIFIER)
    start = time.perf_counter()
    report = edit_report(
        transformer, autoencoder, classifier, mel, n_edits=args.edits, per_prompt=args.per_prompt, steps=args.steps
    )
    report["info"] = {
        "command": " ".join(["tools/write_editing_report.py", *sys.argv[1:]]),
        "transformer": SHIPPED_TRANSFORMER.name,
        "autoencoder": SHIPPED_DCAE.name,
        "classifier": SHIPPED_CLASSIFIER.name,
        "seconds": round(time.perf_counter() - start, 1),
        "hardware": f"{platform.machine()} CPU, 1 thread",
        "torch": torch.__version__,
    }
    atomic_write(args.out, lambda tmp: Path(tmp).write_text(json.dumps(report, indent=2) + "\n"))
    print(f"wrote {args.out} in {report['info']['seconds']} s")


if __name__ == "__main__":
    main()
