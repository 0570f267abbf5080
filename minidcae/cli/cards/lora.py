"""A LoRA adapter's card: what `minidcae train-lora` prints, and the model card's section on the shipped adapter.

    lora_summary   what `minidcae train-lora` prints: the adapter, its data, its time, how to use it
    lora_card      the model card's section: the shipped adapter and notebook 14's table (lora.json)

Taught with notebook 14 (LoRA).
"""

from __future__ import annotations

from pathlib import Path

from minidcae.cli.cards.reading import load


def lora_summary(card: dict) -> str:
    """The lines `minidcae train-lora` prints, from the adapter's card (its JSON)."""
    d, words = card["data"], ", ".join(card["words"])
    share = card["trainable_parameters"] / card["base_parameters"]
    return "\n".join(
        [
            f"adapter: rank {card['rank']}, alpha {card['alpha']:g}, layers {', '.join(card['layers'])}, word {words}; "
            f"{card['trainable_parameters']:,} trainable parameters ({share:.2%} of the base's "
            f"{card['base_parameters']:,}); base {card['base']['name']} (sha256 {card['base']['sha256'][:12]})",
            f"{d['clips']} clips ({d['seconds']:g} s) from {d['folder']}; {card['steps']} steps in "
            f"{card['train_seconds']} s on {card['hardware']} (prior: the base's own clips, {card['prior_seconds']} s)",
            f'use it: minidcae generate "happy {card["words"][0]}" OUT.wav --lora PATH',
        ]
    )


def lora_card(table: dict, ckpt: Path) -> list[str]:
    """The model card's section on data_samples/checkpoints/lora/: the shipped adapter (its card, lora_bell.json) and
    its measured table (lora.json, written by tools/measure_lora.py)."""
    card = load(ckpt, "lora/lora_bell.json")
    if card is None:
        return []
    base = table["base"]
    lines = [
        "## lora/lora_bell.safetensors: a new sound from eight clips (notebook 14)",
        "",
        f"`{card['command']}`",
        "",
        lora_summary(card).rsplit("\n", 1)[0].replace("\n", "; "),
        "",
        f"Measured by `{table['command']}` on {table['hardware']}: {table['sampling']['per_mood'] * 2} clips of "
        f"'happy/sad {table['word']}', {12 * table['sampling']['per_label']} of the known prompts, "
        f"{table['sampling']['steps']} steps, guidance {table['sampling']['cfg_scale']:g}. The base model refuses the word "
        f"({base['refuses'].split(';')[0]}); given the nearest known prompt ({base['nearest_prompt']}) its clips are "
        f"heard as {table['word']} {base['nearest_prompt_heard_as_new']['mean']:.3f}.",
        "",
        "| row | trainable | new word heard [95%] | known accuracy (base) | change, points [95%] | KAD (base) | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in table["rows"].items():
        h, f = r["word_heard"], r["forgetting"]
        lines.append(
            f"| {name} | {r['trainable_parameters']:,} ({r['trainable_share']:.2%}) | {h['mean']:.3f} "
            f"[{h['interval'][0]:.3f}, {h['interval'][1]:.3f}] | {f['accuracy']:.3f} ({f['base_accuracy']:.3f}) | "
            f"{f['difference_points']:+.1f} [{f['difference_interval_points'][0]:+.1f}, "
            f"{f['difference_interval_points'][1]:+.1f}] | {f['kad']:.4f} ({f['base_kad']:.4f}) | {r['total_seconds']:g} |"
        )
    lines += ["", "Targets (the shipped adapter, rank 4):", ""]
    for key, v in table["verdicts"].items():
        lines.append(
            f"- {key}: {v['value']:.4g} ({v['target']}): {'met' if v['met'] else 'missed'} by {v['margin']:.4g}"
        )
    return [*lines, ""]
