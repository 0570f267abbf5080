"""The autoencoders' cards: the default DCAE (dcae_t8, phase one and two) and the compression sweep.

    BAR_DB / BAR_EXCESS   the DCAE's quality bar: mel L1 at most 2 dB, MR-STFT within 15% of the oracle
    dcae_summary          what `minidcae train-ae` prints: where it trained and each held-out set's figures
    dcae_card             the model card's section on dcae_t8: how it was made, held-out tables, the verdict
    sweep_rows            what `minidcae sweep` prints: one row per point
    sweep_card            the model card's section on sweep/

Taught with notebook 03 (training for real) and notebook 05 (the sweep).
"""

from __future__ import annotations

from pathlib import Path

from minidcae.cli.cards.reading import load, trained_text
from minidcae.recipes.autoencoder import REAL_SHARE

BAR_DB, BAR_EXCESS = 2.0, 0.15  # the autoencoder's quality bar: mel L1 <= 2 dB, MR-STFT within 15% of the oracle


def dcae_summary(info: dict) -> str:
    """The lines `minidcae train-ae` prints after training, from the checkpoint's card."""
    lines = [f"{trained_text(info)} ({info['audio_seconds_per_second']} s of audio per second)"]
    for name, m in info["heldout"].items():
        lines.append(
            f"  {name:20s} mel L1 {m['mel_l1_db']:.2f} dB   MR-STFT DCAE {m['mr_stft_dcae']:.3f} "
            f"vs oracle {m['mr_stft_oracle']:.3f} ({100 * m['mr_stft_excess']:+.1f}%)"
        )
    return "\n".join(lines)


def dcae_card(final: dict, ckpt: Path) -> list[str]:
    """dcae_t8.json (phase one, the checkpoint to use), dcae_t8_phase2.json and dcae_t8_heldout.json, worded."""
    phase2 = load(ckpt, "dcae_t8_phase2.json")  # the same run after phase two
    per_clip = load(ckpt, "dcae_t8_heldout.json")
    info, cfg, train = final["info"], final["config"], final["info"]["train"]
    lines = [
        "## The default DCAE (`dcae_t8`)",
        "",
        "Load with `minidcae.models.dcae.load_autoencoder(path)`; safetensors and JSON only, never pickle.",
        "",
        "### How it was made",
        "",
        "```bash",
        info["command"],
        "```",
        "",
        f"- model: DCAE, widths {tuple(cfg['widths'])}, {cfg['blocks_per_level']} residual block per level, "
        f"time factor {cfg['time_factor']}, frequency factor {cfg['freq_factor']}, {cfg['latent_channels']} latent "
        f"channels, `{cfg['bottleneck']}` bottleneck, shortcuts {'on' if cfg['shortcuts'] else 'off'}; "
        f"{info['parameters']:,} parameters",
        f"- front end: {info['mel']['sample_rate']} Hz mono, n_fft {info['mel']['n_fft']}, hop {info['mel']['hop_length']}, "
        f"{info['mel']['n_mels']} mels; latent ({cfg['latent_channels']}, {info['mel']['n_mels'] // cfg['freq_factor']}, "
        f"frames / {cfg['time_factor']}), {cfg['time_factor'] * cfg['freq_factor'] // cfg['latent_channels']}x fewer numbers than the mel",
        f"- data: {train['n_clips']} synthetic clips of {train['clip_seconds']} s (training seeds "
        f"{train['seed']} to {train['seed'] + train['n_clips'] - 1}) and the bundled real clips of "
        f"`data_samples/audio/train/` (about {100 * REAL_SHARE:.0f}% of the crops); crops of "
        f"{train['crop_frames']} frames",
        f"- phase one: {train['steps']} steps of batch {train['batch_size']}, AdamW lr {train['lr']} with cosine decay "
        f"to {train['lr'] * train['min_lr_ratio']:g}; loss: L1 + multi-resolution mel L1 (weight {train['mr_weight']}) + "
        f"spectral convergence of the linear mel (weight {train['sc_weight']}); EMA {train['ema_decay']}",
        f"- phase two: {train['adv_steps']} steps, encoder frozen, decoder + PatchGAN (hinge, weight "
        f"{train['adv_weight']}; feature matching, weight {train['fm_weight']}), lr {train['adv_lr']}",
        f"- hardware: {info['hardware']} (profile `{info['profile']}`, device `{info['device']}`); "
        f"wall time {phase2['info']['train_seconds'] / 60:.1f} min for both phases (with two held-out "
        f"measurements); phase one took {info['train_seconds'] / 60:.1f} min; "
        f"{info['audio_seconds_per_second']:.0f} s of audio per second of training on average",
        "",
        "### Held-out quality",
        "",
        "Measured by the training command on clips no training run reads: 8 synthetic clips of 4 s "
        "(seeds 1,000,000 to 1,000,007) and the 10 real clips of `data_samples/audio/heldout/` "
        "(recorded music, instrument samples, speech, rendered scores). **mel L1** is the mean absolute "
        "difference of the power mels in dB (each floored 80 dB below the reference's peak); "
        "**MR-STFT** is the multi-resolution STFT distance to the original of the reconstruction played "
        f"through Griffin-Lim ({info['griffin_lim_iters']} iterations), beside the oracle (the true mel "
        "through the same Griffin-Lim). The bar: mel L1 at most 2.0 dB, MR-STFT within 15% of the oracle.",
        "",
        "| checkpoint | clip set | mel L1 (dB) | MR-STFT DCAE | MR-STFT oracle | DCAE vs oracle |",
        "|---|---|---|---|---|---|",
    ]
    for name, meta in (("phase one (`dcae_t8`)", final), ("phase one + two (`dcae_t8_phase2`)", phase2)):
        for set_name, m in meta["info"]["heldout"].items():
            lines.append(
                f"| {name} | {set_name} | {m['mel_l1_db']:.2f} | {m['mr_stft_dcae']:.3f} | "
                f"{m['mr_stft_oracle']:.3f} | {100 * m['mr_stft_excess']:+.1f}% |"
            )
    verdicts = [
        f"{name}: {'meets' if m['mel_l1_db'] <= BAR_DB and m['mr_stft_excess'] <= BAR_EXCESS else 'MISSES'} the bar"
        for name, m in final["info"]["heldout"].items()
    ]
    lines += ["", "Verdict for `dcae_t8`: " + "; ".join(verdicts) + "."]
    lines += [
        "",
        "Phase two (ACE-Step's recipe: encoder frozen, decoder trained against a PatchGAN) bought "
        "nothing measurable here: on real held-out clips it moved the Griffin-Lim MR-STFT gap from "
        f"{100 * final['info']['heldout']['real held-out']['mr_stft_excess']:+.1f}% to "
        f"{100 * phase2['info']['heldout']['real held-out']['mr_stft_excess']:+.1f}%, so the phase-one "
        "checkpoint is the one shipped as `dcae_t8`. A longer adversarial phase with a GPU may differ.",
    ]
    lines += [
        "",
        "Per clip (`dcae_t8`):",
        "",
        "| clip set | clip | mel L1 (dB) | DCAE vs oracle |",
        "|---|---|---|---|",
    ]
    for set_name, report in per_clip.items():
        for clip, m in report["clips"].items():
            lines.append(f"| {set_name} | {clip} | {m['mel_l1_db']:.2f} | {100 * m['mr_stft_excess']:+.1f}% |")
    lines += [
        "",
        "`tests/test_shipped_checkpoint.py` recomputes clips from scratch and checks them against "
        "`dcae_t8_heldout.json`, and checks the means above meet the bar.",
        "",
    ]
    return lines


def sweep_rows(rows: list[dict]) -> str:
    """The table `minidcae sweep` prints: compression, mel L1 and onset F1 of each point."""
    lines = [f"{'point':8s} {'compression':>11s} {'mel L1 dB':>9s} {'onset F1':>8s}"]
    for r in rows:
        lines.append(f"{r['point']:8s} {r['compression']:11.2f} {r['mel_l1_db']:9.2f} {r['onset_f1']:8.3f}")
    return "\n".join(lines)


def sweep_card(table: list, ckpt: Path) -> list[str]:
    """sweep/sweep.json (one row per point, the first the shipped dcae_t8's) and each point's own JSON, worded."""
    first = load(ckpt, f"sweep/{table[1]['point']}.json")
    info, cfg, train = first["info"], first["config"], first["info"]["train"]
    seconds = [
        (load(ckpt, f"sweep/{r['point']}.json") or {}).get("info", {}).get("train_seconds", 0) for r in table[1:]
    ]
    lines = [
        "## The compression sweep (`sweep/`)",
        "",
        "Eight small DCAEs, one per time factor (2, 4, 8, 16) and channel count (4, 16), frequency factor 4, "
        "all trained with the same steps on the same data, for notebook 05.",
        "",
        "```bash",
        info["command"],
        "```",
        "",
        f"- model: widths {tuple(cfg['widths'])}; {info['parameters']:,} parameters for `{table[1]['point']}`",
        f"- each point: {train['steps']} steps of batch {train['batch_size']}, crops of {train['crop_frames']} frames, "
        f"lr {train['lr']}, EMA {train['ema_decay']}; {train['n_clips']} synthetic clips and the bundled real train clips",
        f"- hardware: {info['hardware']}; {sum(seconds) / 60:.1f} min for all eight",
        "",
        "Measured by the command on 8 held-out synthetic clips of 4 s (`sweep/sweep.json`; notebook 05 "
        "recomputes these on 16): mel L1 of the decoded mel, onset F1 of its Griffin-Lim audio against "
        "the synthesizer's true onsets (50 ms tolerance).",
        "",
        "| point | compression | mel L1 (dB) | onset precision | onset recall | onset F1 |",
        "|---|---|---|---|---|---|",
    ]
    for r in table:
        lines.append(
            f"| {r['point']} | {r['compression']:.1f}x | {r['mel_l1_db']:.2f} | {r['onset_precision']:.3f} | "
            f"{r['onset_recall']:.3f} | {r['onset_f1']:.3f} |"
        )
    return lines + [""]
