"""The latent transformers' cards: the text transformer, its few-step student, and the two of the CLAP claim.

    obedience_text       a transformer card's obedience (measure.obedience): accuracy and Frechet distance in a paragraph
    transformer_summary  what `minidcae train-transformer` prints
    transformer_card     the model card's section on transformer.safetensors
    student_summary      what `minidcae distill` prints
    fast_card            the model card's section on dit_fast.safetensors, with the few-step benchmark's table
    claim_card           the model card's section on the CLAP claim (claim/), with its rule and verdict

Taught with notebooks 07 (latent diffusion), 08 (conditioning) and 11 (the CLAP claim).
"""

from __future__ import annotations

import json
from pathlib import Path

from minidcae.claims.text_encoder import VERDICT_RULE, claim_verdict
from minidcae.cli.cards.reading import load, trained_text, wall_time_text
from minidcae.generation.sampling import prompt_grid


def obedience_text(o: dict) -> str:
    """A latent transformer card's obedience (measure.obedience) in one paragraph."""
    return (
        f"conditional accuracy over {o['clips']} generated clips: instrument {o['instrument_accuracy']:.3f} "
        f"(chance {o['chance']['instrument']:.3f}), mode {o['mode_accuracy']:.3f} (chance {o['chance']['mode']:.3f}); "
        f"Frechet distance to real clips {o['frechet_generated_vs_real']:.2f} "
        f"(reconstructions {o['reference']['frechet_reconstruction_vs_real']:.2f}, "
        f"real half vs half {o['reference']['frechet_real_half_vs_half']:.2f})"
    )


def transformer_summary(info: dict) -> str:
    """The lines `minidcae train-transformer` prints after training, from the checkpoint's card."""
    lines = [f"{trained_text(info)} ({info['parameters'] / 1e6:.2f} M parameters)"]
    return "\n".join(lines + ([obedience_text(info["obedience"])] if "obedience" in info else []))


def student_summary(info: dict) -> str:
    """The line `minidcae distill` prints after training, from the student's card."""
    return (
        f"{trained_text(info)} on {info['pairs']} teacher pairs ({info['pair_sampling']['seconds']} s to sample them); "
        f"loss {info['first_loss']:.4f} -> {info['last_loss']:.4f}; sample it with --guidance none --steps 2"
    )


def transformer_card(meta: dict, ckpt: Path) -> list[str]:
    """transformer.json, worded: the model, its data and training, and its obedience when measured."""
    info, cfg, train, gen = meta["info"], meta["config"], meta["info"]["train"], meta["info"]["generation"]
    lines = [
        "## The latent transformer (`transformer.safetensors`)",
        "",
        "Text-to-latent by flow matching, on the shipped DCAE's normalised latents. Load with "
        "`minidcae.models.transformer.load_transformer(path)`; use with `minidcae generate`.",
        "",
        "```bash",
        info["command"],
        "```",
        "",
        *(
            [
                "`train-dit` is the former name of `train-transformer`, kept as an alias; the command above still runs "
                "and writes `transformer.safetensors`.",
                "",
            ]
            if "train-dit" in info["command"]
            else []
        ),
        f"- model: {cfg['depth']} blocks of width {cfg['dim']}, {cfg['heads']} heads, {cfg['attention']} self-attention "
        f"with RoPE, softmax cross-attention to the prompt; {info['parameters']:,} parameters",
        f"- data: {gen['n_clips']} synthetic training clips of {gen['clip_seconds']} s encoded by "
        f"`{info['autoencoder']}` (latent {tuple(info['latent_shape'])}); prompts phrased at random from their labels, "
        f"{100 * gen['drop_prompt']:.0f}% replaced by the empty prompt",
        f"- training: {train['steps']} steps of batch {train['batch_size']}, lr {train['lr']}, EMA {train['ema_decay']}, "
        f"logit-normal times shifted by {gen['time_shift']}",
        f"- {wall_time_text(info)} (plus {info['encode_seconds']:.0f} s to synthesize and encode the data)",
    ]
    if "obedience" in info:
        o, ref = info["obedience"], info["obedience"]["reference"]
        lines += [
            "",
            f"Obedience, judged by `label_classifier` on {o['clips']} generated clips ({o['clips'] // len(prompt_grid(1)[0])} "
            f'per "mood instrument" prompt), {o["steps"]} steps, guidance scale {o["cfg_scale"]:g}:',
            "",
            "| | instrument accuracy | mode accuracy | Frechet distance to real |",
            "|---|---|---|---|",
            f"| generated | {o['instrument_accuracy']:.3f} | {o['mode_accuracy']:.3f} | {o['frechet_generated_vs_real']:.2f} |",
            f"| DCAE reconstructions of real clips | {ref['reconstruction_instrument_accuracy']:.3f} | "
            f"{ref['reconstruction_mode_accuracy']:.3f} | {ref['frechet_reconstruction_vs_real']:.2f} |",
            f"| real held-out clips | {ref['real_instrument_accuracy']:.3f} | {ref['real_mode_accuracy']:.3f} | "
            f"{ref['frechet_real_half_vs_half']:.2f} (half vs half) |",
            f"| chance | {o['chance']['instrument']:.3f} | {o['chance']['mode']:.3f} | |",
        ]
    return lines + [""]


def fast_card(meta: dict, ckpt: Path) -> list[str]:
    """The reflow student, with the few-step benchmark's table (benchmarks/results/few_step.json) if it ran."""
    info, train = meta["info"], meta["info"]["train"]
    lines = [
        "## The few-step student (`dit_fast.safetensors`)",
        "",
        "The shipped latent transformer distilled by rectified-flow reflow (`minidcae.recipes.distill`): the teacher sampled "
        f"{info['pairs']} latents from seeded noise ({info['pair_sampling']['steps']} Euler steps, guidance "
        f"{info['pair_sampling']['cfg_scale']:g}), and a copy of it learned the straight line from each noise to its "
        "sample. It samples with guidance `none` (one network call a step), which `minidcae generate` picks from this card.",
        "",
        "```bash",
        info["command"],
        "```",
        "",
        f"- training: {train['steps']} steps of batch {train['batch_size']}, lr {train['lr']}, EMA {train['ema_decay']}; "
        f"loss {info['first_loss']:.4f} at the first step, {info['last_loss']:.4f} at the last",
        f"- {wall_time_text(info)} (plus {info['pair_sampling']['seconds']:.0f} s to sample the pairs)",
    ]
    bench = ckpt.parents[1] / "benchmarks" / "results" / "few_step.json"
    if bench.exists():
        b = json.loads(bench.read_text())
        lines += [
            "",
            f"Measured by `{b['command']}` on {b['machine']} ({b['date']}): a {b['seconds']:g} s clip end to end (sampling, "
            "DCAE decoder, neural vocoder), and 96 clips of 3 s judged by the label classifier, KAD and Frechet distance "
            "against as many held-out real clips (95% bootstrap intervals).",
            "",
            "| model | steps | network calls | audio s per s | instrument accuracy | KAD | Frechet |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in b["rows"]:
            lo, hi = r["instrument_interval"]
            klo, khi = r["kad_interval"]
            lines.append(
                f"| {r['model']} | {r['steps']} | {r['network_calls']} | {r['audio_per_second']:.1f} | "
                f"{r['instrument_accuracy']:.3f} [{lo:.3f}, {hi:.3f}] | {r['kad']:.4f} [{klo:.4f}, {khi:.4f}] | {r['frechet']:.2f} |"
            )
        if "compiled" in b:
            c = b["compiled"]
            lines += [
                f"| student, transformer and vocoder through `torch.compile` (`generate --compile`) | {c['steps']} | "
                f"{c['steps']} | {c['audio_per_second']:.1f} | the same weights: its 10 s clip differs from the eager "
                f"one by at most {c['max_abs_difference']:.1e} (peak {c['peak']:.2f}) | | |",
            ]
    return lines + [""]


def claim_card(meta: dict, ckpt: Path) -> list[str]:
    """The two transformers of the CLAP claim (minidcae.claims.text_encoder) and the verdict their cards give."""
    metas = {"phrases": load(ckpt, "claim/transformer_phrases.json"), "clap": meta}
    if metas["phrases"] is None:
        return []
    ev = {k: m["info"]["heldout_prompts"] for k, m in metas.items()}
    info, gen = metas["clap"]["info"], metas["clap"]["info"]["generation"]
    lines = [
        "## The CLAP claim (`claim/`)",
        "",
        'The seed article says contrastive learning "such as CLAP" closes the gap between description and sound and '
        '"significantly improves generation accuracy". Two latent transformers, trained from scratch with the same data, '
        "steps, sizes and seed, differ only in `TransformerConfig.text`: `phrases` (the word encoder over miniCLAP's "
        "vocabulary, trained with the transformer) or `clap` (miniCLAP's frozen text tower, its word states through a "
        "trained linear layer; the tower is inside the checkpoint). Both are trained on miniCLAP's training phrasings.",
        "",
        "```bash",
        *(m["info"]["command"] for m in metas.values()),
        "```",
        "",
        f"- {info['train']['steps']} steps of batch {info['train']['batch_size']} on {gen['n_clips']} clips of "
        f"{gen['clip_seconds']} s; {metas['phrases']['info']['train_seconds']:.0f} s and {info['train_seconds']:.0f} s of "
        f"training, {info['hardware']}, the two side by side (`n_clips` in the command set TrainConfig's field, not "
        f"GenerationConfig's, so both trained on the profile's {gen['n_clips']} clips, as the card's `generation` says)",
        f"- test: {ev['clap']['clips']} clips each ({ev['clap']['per_label']} per instrument x mode), generated from "
        f"held-out phrasings of held-out clips' labels, {ev['clap']['steps']} {ev['clap']['sampler']} steps, guidance "
        f"{ev['clap']['cfg_scale']:g}; judged by the label classifier, by miniCLAP (CLAP score with the asked prompt), and "
        "by KAD and Frechet distance of classifier embeddings to those held-out real clips; 95% bootstrap intervals",
        "",
        "| text encoder | trained parameters | instrument accuracy | mode accuracy | CLAP score | KAD | Frechet |",
        "|---|---|---|---|---|---|---|",
    ]

    def cell(s: dict) -> str:
        return f"{s['mean']:.3f} [{s['interval'][0]:.3f}, {s['interval'][1]:.3f}]"

    for k, name in (("phrases", "word encoder (`phrases`)"), ("clap", "miniCLAP, frozen (`clap`)")):
        e, d = ev[k], ev[k]["distances"]
        lines.append(
            f"| {name} | {metas[k]['info']['trainable_parameters']:,} | {cell(e['instrument_accuracy'])} | "
            f"{cell(e['mode_accuracy'])} | {cell(e['clap_score'])} | {d['kad']:.4f} [{d['kad_interval'][0]:.4f}, "
            f"{d['kad_interval'][1]:.4f}] | {d['frechet']:.2f} [{d['frechet_interval'][0]:.2f}, {d['frechet_interval'][1]:.2f}] |"
        )
    ref = ev["clap"]["reference"]
    verdict = claim_verdict(ev["phrases"], ev["clap"])
    lines += [
        f"| real held-out clips | | {ref['real_instrument_accuracy']:.3f} | {ref['real_mode_accuracy']:.3f} | "
        f"{ref['real_clap_score']:.3f} | | |",
        "",
        f"Rule, fixed before the runs: {VERDICT_RULE}",
        "",
        f"**Verdict: {verdict['verdict']}** ({verdict['because']}). The CLAP score is measured by the miniCLAP whose text "
        "tower conditions the second model, which if anything favours it. Bootstrap intervals of KAD and the Frechet "
        "distance sit above their estimates (a clip drawn twice looks like a perfect match); compare them only at equal sizes.",
        "",
    ]
    return lines
