"""The judges' cards: the label classifier and miniCLAP, as the command line prints them and the model card shows them.

    accuracy_text       a classifier card's held-out accuracy beside chance
    classifier_summary  what `minidcae train-classifier` prints
    classifier_card     the model card's section on label_classifier.safetensors
    retrieval_text      a miniCLAP card's retrieval figures: both directions, both phrasing sets, chance
    clap_summary        what `minidcae train-clap` prints
    clap_card           the model card's section on clap.safetensors

Taught with notebook 08 (conditioning) and notebook 11 (contrastive text and audio).
"""

from __future__ import annotations

from pathlib import Path

from minidcae.cli.cards.reading import trained_text, wall_time_text


def accuracy_text(info: dict) -> str:
    """A classifier card's held-out accuracy beside chance, as the CLI prints it and the model card shows it."""
    acc, chance = info["heldout_accuracy"], info["chance"]
    return (
        f"instrument {acc['instrument']:.3f} (chance {chance['instrument']:.3f}), "
        f"mode {acc['mode']:.3f} (chance {chance['mode']:.3f})"
    )


def classifier_summary(info: dict) -> str:
    """The line `minidcae train-classifier` prints after training, from the checkpoint's card."""
    return f"{trained_text(info)}; held-out accuracy on {info['heldout_clips']} clips: {accuracy_text(info)}"


def classifier_card(meta: dict, ckpt: Path) -> list[str]:
    """label_classifier.json, worded: the model, its data and its held-out accuracy."""
    info, cfg, train = meta["info"], meta["config"], meta["info"]["train"]
    return [
        "## The label classifier (`label_classifier.safetensors`)",
        "",
        "The judge of generated clips: a small CNN from log-mel to instrument and mode, and an embedding "
        "for the Frechet distance. Trained on synthetic (real, not generated) mels only.",
        "",
        "```bash",
        info["command"],
        "```",
        "",
        f"- model: widths {tuple(cfg['widths'])}, embedding {cfg['embed_dim']}",
        f"- data: {train['n_clips']} synthetic clips of {train['clip_seconds']} s; {train['steps']} steps of batch "
        f"{train['batch_size']}, lr {train['lr']}",
        f"- {wall_time_text(info)}",
        f"- held out ({info['heldout_clips']} clips): {accuracy_text(info)}",
        "",
    ]


def retrieval_text(report: dict) -> str:
    """The card's retrieval figures, as the CLI prints them: both directions, both phrasing sets, chance."""
    c = report["chance"]
    lines = [
        f"retrieval on {report['clips']} held-out clips (chance R@1 {c['R@1']:.3f}, R@10 {c['R@10']:.3f}, "
        f"mAP@10 {c['mAP@10']:.3f}, mean rank {c['mean_rank']:.1f}):"
    ]
    for split in ("heldout", "train"):
        for way in ("text_to_audio", "audio_to_text"):
            m = report[f"{split}_phrasings"][way]
            lines.append(
                f"  {split + ' phrasings':18s} {way:14s} R@1 {m['R@1']:.3f}  R@5 {m['R@5']:.3f}  R@10 {m['R@10']:.3f}  "
                f"mAP@10 {m['mAP@10']:.3f}  mean rank {m['mean_rank']:.1f}  median rank {m['median_rank']:.0f}"
            )
    return "\n".join(lines)


def clap_summary(info: dict) -> str:
    """The lines `minidcae train-clap` prints after training, from the checkpoint's card."""
    return f"{trained_text(info)} ({info['parameters'] / 1e6:.2f} M parameters)\n{retrieval_text(info['retrieval'])}"


def clap_card(meta: dict, ckpt: Path) -> list[str]:
    """clap.json, worded: the model, its data and training, retrieval on held-out clips beside chance."""
    info, cfg = meta["info"], meta["config"]
    train, r = info["train"], info["retrieval"]  # r: retrieval_report's figures
    lines = [
        "## miniCLAP (`clap.safetensors`)",
        "",
        "A contrastive text-audio model: a CNN over the normalised log-mel and a self-attention text tower, both "
        f"projected to {cfg['embed_dim']} unit-length dimensions and trained with symmetric InfoNCE and a learned "
        'temperature. Load with `minidcae.models.clap.load_clap(path)`; use with `minidcae search "happy piano" --data DIR`.',
        "",
        "```bash",
        info["command"],
        "```",
        "",
        f"- model: audio widths {tuple(cfg['audio_widths'])}, then {cfg['audio_width']} channels over the pooled "
        f"frames; text width {cfg['text_width']}, {cfg['text_layers']} layers, {cfg['text_heads']} heads; "
        f"{info['parameters']:,} parameters; temperature {info['temperature']:.3f} at the end",
        f"- data: {train['n_clips']} synthetic clips of {train['clip_seconds']} s, crops of {train['crop_frames']} "
        f"frames, each with a training phrasing drawn at random; {train['steps']} steps of batch {train['batch_size']}, "
        f"lr {train['lr']}, EMA {train['ema_decay']}; loss {info['first_loss']:.2f} at the first step, "
        f"{info['last_loss']:.2f} at the last",
        f"- {wall_time_text(info)}",
        f"- held out: {r['clips']} clips, one per instrument x mode x tempo word x drums, each captioned with a held-out "
        "phrasing (word orders and (template, synonym) pairings training never shows)",
        "",
        "| phrasings | direction | R@1 | R@5 | R@10 | mAP@10 | mean rank | median rank |",
        "|---|---|---|---|---|---|---|---|",
    ]

    def row(name, direction, m):
        return (
            f"| {name} | {direction} | {m['R@1']:.3f} | {m['R@5']:.3f} | {m['R@10']:.3f} | {m['mAP@10']:.3f} | "
            f"{m['mean_rank']:.1f} | {m['median_rank']:.0f} |"
        )

    for key, name in (("heldout_phrasings", "held out"), ("train_phrasings", "training")):
        for d in ("text_to_audio", "audio_to_text"):
            lines.append(row(name, d.replace("_to_", " -> "), r[key][d]))
    lines += [
        row("chance", "either", r["chance"]),
        "",
        "Ranks count ties against the model (LAION-CLAP's definitions otherwise). Notebook 11 shows which labels the "
        "wrong top results confuse.",
        "",
    ]
    return lines
