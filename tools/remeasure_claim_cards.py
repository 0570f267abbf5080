"""Measure the CLAP claim's two transformers again on their held-out phrasings, without training them again.

    OMP_NUM_THREADS=1 .venv/bin/python tools/remeasure_claim_cards.py [--runs runs]

`minidcae train-transformer ... text=phrases|clap --classifier C` (commands on each card) wrote its measurement
(minidcae.measure.prompts.evaluate_prompts) onto data_samples/checkpoints/claim/transformer_{phrases,clap}.json. Their
weights are not shipped (notebook 11 reads only the cards), so this needs the training runs' folders
(runs/claim_phrases, runs/claim_clap). It measures each again with the same sampling and seed, checks that
what did not change (accuracies, CLAP scores) comes out the same, and replaces the card's measurement, noting
the command and date. Written when distances.embedding_distances (then metrics.embedding_distances) changed its bootstrap (2026-11-28).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import torch

from minidcae.core.checkpoint import write_json
from minidcae.core.config import DATA_SAMPLES, SHIPPED_CLAP, SHIPPED_CLASSIFIER, GenerationConfig, MelConfig
from minidcae.measure.prompts import evaluate_prompts
from minidcae.models.clap import load_clap
from minidcae.models.classifier import load_classifier
from minidcae.models.dcae import load_latent_autoencoder
from minidcae.models.transformer import load_transformer

CARDS = DATA_SAMPLES / "checkpoints" / "claim"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs", help="folder holding claim_phrases/ and claim_clap/")
    args = parser.parse_args()
    torch.set_num_threads(1)
    classifier, _ = load_classifier(SHIPPED_CLASSIFIER)
    clap, _ = load_clap(SHIPPED_CLAP)
    for name in ("phrases", "clap"):
        card_path = CARDS / f"transformer_{name}.json"
        card = json.loads(card_path.read_text())
        info = card["info"]
        weights = Path(args.runs) / f"claim_{name}" / "transformer.safetensors"
        if not weights.exists():
            sys.exit(f"{weights}: not found; this re-measures a training run of `{info['command']}`")
        model, _ = load_transformer(weights)
        autoencoder, _ = load_latent_autoencoder(DATA_SAMPLES / "checkpoints" / info["autoencoder"])
        old = info["heldout_prompts"]
        new = evaluate_prompts(
            model, autoencoder, classifier, clap, MelConfig(**info["mel"]), GenerationConfig(**info["generation"]),
            per_label=old["per_label"],
        )  # fmt: skip
        for key in ("instrument_accuracy", "mode_accuracy", "clap_score"):
            if abs(new[key]["mean"] - old[key]["mean"]) > 1e-4:
                sys.exit(f"{name}: {key} came out {new[key]['mean']:.4f}, the card says {old[key]['mean']:.4f}")
        info["heldout_prompts"] = new
        info["heldout_prompts_measured"] = {
            "command": "tools/remeasure_claim_cards.py " + " ".join(sys.argv[1:]),
            "date": datetime.date.today().isoformat(),
            "why": "metrics.embedding_distances stopped counting copies of one clip in a bootstrap draw",
        }
        write_json(card_path, card)
        d, was = new["distances"], old["distances"]
        print(
            f"{name}: KAD {d['kad']:.4f} [{d['kad_interval'][0]:.4f}, {d['kad_interval'][1]:.4f}] "
            f"(was [{was['kad_interval'][0]:.4f}, {was['kad_interval'][1]:.4f}]); Frechet {d['frechet']:.2f} "
            f"[{d['frechet_interval'][0]:.2f}, {d['frechet_interval'][1]:.2f}] "
            f"(was [{was['frechet_interval'][0]:.2f}, {was['frechet_interval'][1]:.2f}])"
        )


if __name__ == "__main__":
    main()
