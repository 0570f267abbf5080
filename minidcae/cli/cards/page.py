"""The model card of the shipped checkpoints, data_samples/checkpoints/README.md: the table of files, then one
section per model (a section whose checkpoint is missing is left out). tools/write_model_card.py writes it.

    model_card    the whole page, every figure read from the JSON the training commands wrote beside each checkpoint
"""

from __future__ import annotations

from pathlib import Path

from minidcae.cli.cards.dcae import dcae_card, sweep_card
from minidcae.cli.cards.gpu import gpu_card
from minidcae.cli.cards.judges import clap_card, classifier_card
from minidcae.cli.cards.lora import lora_card
from minidcae.cli.cards.melody import melody_card
from minidcae.cli.cards.reading import load
from minidcae.cli.cards.transformers import claim_card, fast_card, transformer_card
from minidcae.cli.cards.vocoder import vocoder_card

# (the section's wording, the JSON it reads: a section whose JSON is missing is left out), in the page's order
SECTIONS = (
    (dcae_card, "dcae_t8.json"),
    (vocoder_card, "vocoder.json"),
    (sweep_card, "sweep/sweep.json"),
    (classifier_card, "label_classifier.json"),
    (transformer_card, "transformer.json"),
    (fast_card, "dit_fast.json"),
    (melody_card, "transformer_melody.json"),
    (clap_card, "clap.json"),
    (claim_card, "claim/transformer_clap.json"),
    (gpu_card, "gpu/dcae.json"),
    (lora_card, "lora/lora.json"),
)


def files_table(ckpt: Path) -> list[str]:
    """The page's title and its table of what each shipped file is."""
    size = (ckpt / "dcae_t8.safetensors").stat().st_size / 1e6
    return [
        "# Shipped checkpoints",
        "",
        "| file | what |",
        "|---|---|",
        f"| `dcae_t8.safetensors` + `.json` | the default DCAE, 8x in time: the run's phase-one checkpoint ({size:.1f} MB, float16 weights) |",
        "| `dcae_t8_phase2.safetensors` + `.json` | the same run after phase two (adversarial), to measure what it buys |",
        "| `dcae_t8_heldout.json` | the per-clip held-out figures behind the DCAE tables below |",
        "| `vocoder.safetensors` + `.json`, `vocoder_heldout.json` | the neural vocoder and its per-clip figures |",
        "| `sweep/` | the compression sweep of notebook 05: eight small DCAEs and `sweep.json` |",
        "| `label_classifier.safetensors` + `.json` | the judge of generated clips (notebooks 07-08) |",
        "| `transformer.safetensors` + `.json` | the latent transformer (`minidcae generate`, notebooks 07-08) |",
        "| `dit_fast.safetensors` + `.json` | a few-step student of the latent transformer, by reflow "
        "(`minidcae generate --checkpoint dit_fast.safetensors --steps 2`, notebook 07) |",
        "| `transformer_melody.safetensors` + `.json` | the latent transformer with a melody too (`minidcae generate --melody`, "
        "notebook 10); `transformer_melody_add.json`: the card of the other way in, trained for comparison |",
        f"| `clap.safetensors` + `.json` | miniCLAP, text and audio in one embedding space (`minidcae search`, CLAP score, "
        f"notebook 11; {(ckpt / 'clap.safetensors').stat().st_size / 1e6:.1f} MB) |",
        "| `claims/skips.json`, `prior.json`, `perceptual.json`, `restoration.json` | the seed article's four remaining claims "
        "measured at one budget, each with its rule and verdict (notebook 13; `python tools/measure_claims.py` wrote them); "
        "`claims/dcae_skips` (a DCAE with U-Net skips) and `claims/dcae_restore` (the shipped DCAE fine-tuned on "
        "damaged-to-clean pairs) are shipped because notebook 13's live cells read them (2.3 MB each); the other models of "
        "the claims are not (nothing reads them): the same command rebuilds them |",
        "| `claim/transformer_phrases.json` and `claim/transformer_clap.json` | the seed article's CLAP claim tested: the "
        "cards of two transformers, word encoder against frozen miniCLAP text tower (notebook 11); the weights are not "
        "shipped (nothing reads them, and the tree must stay small enough to travel to a GPU machine): the commands below "
        "rebuild them |",
        "| `gpu/` | the DCAE at ACE-Step's latent geometry (f8c8 on 128 mels), its vocoder and latent transformer, trained on "
        "a GPU by `make gpu-train`, with `gpu_train.json` (the run) and the held-out figures (`*_heldout.json`) |",
        "| `lora/lora_bell.safetensors` + `.json` | a LoRA adapter of the latent transformer and its new word, bell, "
        'trained on eight clips of a voice no other model heard (`minidcae generate "happy bell" OUT.wav --lora ...`, '
        "notebook 14); `lora.json`: its table against ranks 1 and 16 and full fine-tuning |",
        "",
    ]


def model_card(ckpt: Path) -> str:
    """The model card of the checkpoints in ckpt (data_samples/checkpoints): nothing on it is typed by hand."""
    lines = files_table(ckpt)
    for section, name in SECTIONS:
        meta = load(ckpt, name)
        lines += [] if meta is None else section(meta, ckpt)
    return "\n".join(lines)
