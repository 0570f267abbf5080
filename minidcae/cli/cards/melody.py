"""The melody transformer's card: what `minidcae train-melody` and `evaluate-melody` print, and the model card's
section on transformer_melody.safetensors (and the card of the other way in, trained for comparison).

    melody_summary          what `minidcae train-melody` prints
    melody_obedience_text   melody_obedience's figures, one line per set and way of asking, with 95% intervals
    melody_card             the model card's section

Taught with notebook 10 (melody conditioning).
"""

from __future__ import annotations

import json
from pathlib import Path

from minidcae.cli.cards.reading import interval_text, trained_text, wall_time_text


def melody_summary(info: dict) -> str:
    """The lines `minidcae train-melody` prints after training, from the checkpoint's card."""
    lines = [f"{trained_text(info)} ({info['new_parameters'] / 1e6:.2f} M new parameters, melody {info['melody']})"]
    if "melody_obedience" in info:
        lines.append(melody_obedience_text(info["melody_obedience"]))
    return "\n".join(lines)


def melody_obedience_text(o: dict) -> str:
    """melody_obedience's figures, one line per set and way of asking, means with their 95% intervals."""

    lines = [f"melody obedience, clips of {o['seconds']:g} s, {o['steps']} steps ({o['vocoder']}):"]
    for name in ("synthesized", "chorale"):
        if name not in o:
            continue
        clips = o["clips"] if name == "synthesized" else o[name]["windows"]
        lines.append(f"  {name} melodies ({clips} clips): chroma cosine, note pitch accuracy")
        for way in ("melody", "text_only", "random_melody"):
            w = o[name][way]
            lines.append(f"    {way:14s} {interval_text(w['chroma'])}  {interval_text(w['pitch'])}")
    for part in ("given", "not_given"):
        lines.append(
            f"  first half only, {part:9s} chroma cosine {interval_text(o['first_half_only'][part]['chroma'])}"
        )
    return "\n".join(lines)


def melody_card(meta: dict, ckpt: Path) -> list[str]:
    """The shipped melody transformer and the other way in, trained with the same recipe for comparison."""
    info, train = meta["info"], meta["info"]["train"]
    others = [
        json.loads(p.read_text())["info"] for p in sorted(ckpt.glob("transformer_melody_*.json"))
    ]  # cards only, no weights
    lines = [
        "## The melody transformer (`transformer_melody.safetensors`)",
        "",
        "The latent transformer fine-tuned to follow a melody (a piano roll at the latent frame rate) as well as the "
        "prompt. Use with `minidcae generate PROMPT OUT.wav --melody TUNE.mid`; taught in notebook 10.",
        "",
        "```bash",
        info["command"],
        info.get("melody_obedience_command") or "",
        "```",
        "",
        f"- model: `{info['initialised_from']}` with melody layers added ({info['melody']}: "
        + (
            "cross-attention to melody tokens in every block, RoPE on both sides"
            if info["melody"] == "cross"
            else "melody tokens added to the frame tokens"
        )
        + f"), {info['new_parameters']:,} new parameters of {info['parameters']:,}, all starting at zero",
        f"- data: {info['training_clips']} synthetic training clips of {info['generation']['clip_seconds']} s with "
        "their own melodies; the melody dropped 10% of the time and given over one random span 20% of the time",
        f"- training: {train['steps']} steps of batch {train['batch_size']}, lr {train['lr']}, EMA {train['ema_decay']}",
        f"- {wall_time_text(info)} (plus {info['encode_seconds']:.0f} s to synthesize and encode the data)",
        "",
    ]
    cards = [info] + [o for o in others if "melody_obedience" in o]
    for card in cards:
        o = card["melody_obedience"]
        shipped = " (shipped)" if card is info else " (card only: `transformer_melody_" + card["melody"] + ".json`)"
        lines += [
            f"Melody obedience of `{card['melody']}`{shipped}: {o['steps']} Euler steps, audio through "
            f"{o['vocoder']}; means over clips with 95% bootstrap intervals. Chroma cosine: audiocraft's formula against "
            "the asked melody played by the synthesizer; note pitch accuracy: PESTO's median pitch within half a "
            "semitone of each asked note (bass left out).",
            "",
            "| melodies | asked with | chroma cosine | note pitch accuracy |",
            "|---|---|---|---|",
        ]
        for name in ("synthesized", "chorale"):
            count = (
                f"{o['clips']} held-out clips"
                if name == "synthesized"
                else f"BWV 269 soprano, {o[name]['windows']} windows"
            )
            for way in ("melody", "text_only", "random_melody"):
                w = o[name][way]
                lines.append(
                    f"| {count} | {way.replace('_', ' ')} | {interval_text(w['chroma'])} | {interval_text(w['pitch'])} |"
                )
        half = o["first_half_only"]
        lines += [
            f"| melody given over the first half only | given half | {interval_text(half['given']['chroma'])} | "
            f"{interval_text(half['given']['pitch'])} |",
            f"| | other half | {interval_text(half['not_given']['chroma'])} | {interval_text(half['not_given']['pitch'])} |",
            "",
        ]
    return lines
