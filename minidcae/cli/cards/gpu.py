"""The model card's section on the models `make gpu-train` trained on a GPU: the DCAE at ACE-Step's latent
geometry beside the shipped CPU one on the same real held-out clips, its vocoder, its latent transformer.

    gpu_card    the section, every figure read from gpu/*.json (written by tools/gpu_train.py and its --evaluate)
"""

from __future__ import annotations

from pathlib import Path

from minidcae.cli.cards.reading import load

# What the GPU-trained DCAE is asked for on the real held-out clips, at twice the shipped one's compression.
MEL_L1_TARGET_DB = 1.5
MR_STFT_TARGET = 0.15  # at most 15% above the oracle (Griffin-Lim of the true mel)


def _verdict(value: float, target: float, unit: str) -> str:
    return "met" if value <= target else f"missed by {value - target:.2f}{unit}"


def gpu_card(meta: dict, ckpt: Path) -> list[str]:
    dcae, cpu = meta["info"], load(ckpt, "dcae_t8.json")["info"]
    voc, tr = load(ckpt, "gpu/vocoder.json")["info"], load(ckpt, "gpu/transformer.json")["info"]
    real, cpu_real = dcae["heldout"]["real held-out"], cpu["heldout"]["real held-out"]
    cpu_compression = meta_compression(load(ckpt, "dcae_t8.json"))
    lines = [
        "## Trained on a GPU (`gpu/`)",
        "",
        f"`make gpu-train` (tools/gpu_train.py) on {dcae['hardware']}: a DCAE at ACE-Step's latent geometry on its "
        f"mono front end ({dcae['mel']['n_mels']} mels, {dcae['mel']['sample_rate']} Hz, hop {dcae['mel']['hop_length']}; "
        f"latents {dcae['latent']}), its vocoder and the latent transformer on its latents. Each model's steps were "
        "sized by a timed probe to its share of the run's minutes; the held-out figures were measured afterwards by "
        "`python tools/gpu_train.py --evaluate data_samples/checkpoints/gpu` (on a CPU).",
        "",
        "| checkpoint | trained | steps x batch | parameters |",
        "|---|---|---|---|",
    ]
    for name, info in (("dcae", dcae), ("vocoder", voc), ("transformer", tr)):
        lines.append(
            f"| `gpu/{name}.safetensors` | {info['train_seconds']:.0f} s ({info['steps_from']}) | "
            f"{info['train']['steps']} x {info['train']['batch_size']} | {info['parameters']:,} |"
        )
    mel_l1, excess = real["mel_l1_db"], real["mr_stft_excess"]
    lines += [
        "",
        "The two DCAEs on the same 10 real held-out clips, each in its own front end (mel L1 of the decoded mel "
        "against the true one; MR-STFT of its Griffin-Lim audio against the oracle's):",
        "",
        "| DCAE | trained | compression | mel L1 (dB) | MR-STFT vs oracle |",
        "|---|---|---|---|---|",
        f"| `dcae_t8` (t8 f4 c8, 64 mels) | {cpu['train_seconds'] / 60:.0f} min on {cpu['hardware']} | "
        f"{cpu_compression:g}x | {cpu_real['mel_l1_db']:.2f} | {100 * cpu_real['mr_stft_excess']:+.1f}% |",
        f"| `gpu/dcae` (f8c8, 128 mels) | {dcae['train_seconds']:.0f} s on {dcae['hardware']} | "
        f"{dcae['compression']:g}x | {mel_l1:.2f} | {100 * excess:+.1f}% |",
        "",
        f"Asked of the GPU-trained DCAE at {dcae['compression'] / cpu_compression:g}x the shipped one's compression: "
        f"mel L1 at most {MEL_L1_TARGET_DB} dB: {_verdict(mel_l1, MEL_L1_TARGET_DB, ' dB')}; MR-STFT within "
        f"{100 * MR_STFT_TARGET:.0f}% of the oracle: {_verdict(100 * excess, 100 * MR_STFT_TARGET, ' points')}.",
        "",
    ]
    rows = voc["heldout"]
    lines.append(
        "Vocoder, MR-STFT from the true mel against Griffin-Lim's: "
        + "; ".join(
            f"{k} {v['mr_stft_vocoder']:.3f} (Griffin-Lim {v['mr_stft_griffin_lim']:.3f})" for k, v in rows.items()
        )
        + "."
    )
    o = tr["obedience"]
    ref = o["reference"]
    lines += [
        "",
        f"Transformer, {o['clips']} clips at {o['steps']} steps, cfg {o['cfg_scale']:g}, judged by {o['judge']}: "
        f"instrument {o['instrument_accuracy']:.3f} (chance {o['chance']['instrument']:.3f}; real held-out clips through "
        f"the same DCAE and vocoder {ref['rendered_instrument_accuracy']:.3f}), mode {o['mode_accuracy']:.3f} "
        f"(chance {o['chance']['mode']:.3f}; real clips so {ref['rendered_mode_accuracy']:.3f}).",
        "",
    ]
    return lines


def meta_compression(meta: dict) -> float:
    """How many times fewer numbers a DCAE's latent holds than its mel, from its checkpoint JSON."""
    c = meta["config"]
    return c["in_channels"] * c["time_factor"] * c["freq_factor"] / c["latent_channels"]
