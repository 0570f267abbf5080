"""Write data_samples/checkpoints/README.md from the shipped checkpoints' own JSON.

    python tools/write_model_card.py

Every figure on the card is read from the JSON the training commands wrote beside each
checkpoint (dcae_t8*.json, vocoder*.json, sweep/*.json, label_classifier.json, transformer.json,
transformer_melody*.json, clap.json, claim/transformer_*.json);
nothing is typed by hand (the wording of shared figures comes from minidcae.training.recipe, as the CLI
prints them). A section whose checkpoint is missing is left out.
"""

import json
from pathlib import Path

from minidcae.core.config import VocoderConfig
from minidcae.generation.sampling import prompt_grid
from minidcae.recipes.autoencoder import REAL_SHARE
from minidcae.training.recipe import accuracy_text, wall_time_text

BAR_DB, BAR_EXCESS = 2.0, 0.15  # the autoencoder's quality bar: mel L1 <= 2 dB, MR-STFT within 15% of the oracle

CKPT = Path(__file__).resolve().parents[1] / "data_samples" / "checkpoints"


def main() -> None:
    final = json.loads((CKPT / "dcae_t8.json").read_text())  # phase one: the checkpoint to use
    phase2 = json.loads((CKPT / "dcae_t8_phase2.json").read_text())  # the same run after phase two
    per_clip = json.loads((CKPT / "dcae_t8_heldout.json").read_text())
    info, cfg, train = final["info"], final["config"], final["info"]["train"]
    size = (CKPT / "dcae_t8.safetensors").stat().st_size / 1e6
    lines = [
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
        f"notebook 11; {(CKPT / 'clap.safetensors').stat().st_size / 1e6:.1f} MB) |",
        "| `claims/skips.json`, `prior.json`, `perceptual.json`, `restoration.json` | the seed article's four remaining claims "
        "measured at one budget, each with its rule and verdict (notebook 13; `python tools/measure_claims.py` wrote them); "
        "`claims/dcae_skips` (a DCAE with U-Net skips) and `claims/dcae_restore` (the shipped DCAE fine-tuned on "
        "damaged-to-clean pairs) are shipped because notebook 13's live cells read them (2.3 MB each); the other models of "
        "the claims are not (nothing reads them): the same command rebuilds them |",
        "| `claim/transformer_phrases.json` and `claim/transformer_clap.json` | the seed article's CLAP claim tested: the "
        "cards of two transformers, word encoder against frozen miniCLAP text tower (notebook 11); the weights are not "
        "shipped (nothing reads them, and the tree must stay small enough to travel to a GPU machine): the commands below "
        "rebuild them |",
        "",
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
    for section in (
        vocoder_card,
        sweep_card,
        classifier_card,
        transformer_card,
        fast_card,
        melody_card,
        clap_card,
        claim_card,
    ):
        lines += section()
    (CKPT / "README.md").write_text("\n".join(lines))


def _load(name: str):
    path = CKPT / name
    return json.loads(path.read_text()) if path.exists() else None


def vocoder_card() -> list[str]:
    meta = _load("vocoder.json")
    if meta is None:
        return []
    info, cfg, train = meta["info"], meta["config"], meta["info"]["train"]
    lines = [
        "## The neural vocoder (`vocoder.safetensors`)",
        "",
        "A Vocos-style vocoder: ConvNeXt blocks over the mel frames predict each frame's STFT "
        "(log-magnitude and phase), an inverse STFT makes the samples. Load with "
        "`minidcae.models.vocoder.load_vocoder(path)`; use with `--vocoder neural`.",
        "",
        "```bash",
        info["command"],
        "```",
        "",
        f"- model: {cfg['blocks']} ConvNeXt blocks of width {cfg['dim']}, kernel {cfg['kernel']}; "
        f"{info['parameters']:,} parameters (float16 on disk)"
        + (
            "; a frame clock (each bin's phase turn per frame is added, and the network is told k mod "
            f"{VocoderConfig(**cfg).clock_period})"
            if cfg.get("frame_clock")
            else ""
        )
        + (
            f"; {cfg['consistency_steps']} Griffin-Lim steps built in and trained through"
            if cfg.get("consistency_steps")
            else ""
        ),
        f"- data: {train['n_clips']} synthetic clips of {train['clip_seconds']} s and the bundled real train clips"
        + (
            f", plus every file under {', '.join(f'`{d}`' for d in info['extra_audio'])} cut into "
            f"{train['clip_seconds']} s clips, except the files a held-out clip was cut from "
            f"({info['training_clips']:,} clips in all; the Debian packages are listed in `data_samples/make_samples.py`)"
            if info.get("extra_audio")
            else ""
        )
        + f"; crops of {train['crop_frames']} frames at random gains",
        f"- phase one: {info['phases']['phase1']} steps of batch {train['batch_size']}, lr {train['lr']}, mel L1 + "
        f"multi-resolution STFT"
        + (
            f"; phase two: {info['phases']['phase2']} steps adding a multi-resolution STFT discriminator "
            f"(hinge {train['adv_weight']}, feature matching {train['fm_weight']}), lr {train['adv_lr']}"
            if info["phases"].get("phase2")
            else "; no adversarial phase"
        ),
        f"- {wall_time_text(info)}",
        "",
        f"Held out, from the true log-mel, against Griffin-Lim ({info['griffin_lim_iters']} iterations):",
        "",
        "| clip set | MR-STFT vocoder | MR-STFT Griffin-Lim | STOI vocoder | STOI Griffin-Lim | PESQ vocoder | PESQ Griffin-Lim | s per clip vocoder | s per clip Griffin-Lim |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, m in info["heldout"].items():

        def cell(k, m=m):
            return f"{m[k]:.3f}" if k in m else "-"

        lines.append(
            f"| {name} | {m['mr_stft_vocoder']:.3f} | {m['mr_stft_griffin_lim']:.3f} | {cell('stoi_vocoder')} | "
            f"{cell('stoi_griffin_lim')} | {cell('pesq_vocoder')} | {cell('pesq_griffin_lim')} | "
            f"{m['seconds_vocoder']:.3f} | {m['seconds_griffin_lim']:.3f} |"
        )
    beats = [name for name, m in info["heldout"].items() if m["mr_stft_vocoder"] < m["mr_stft_griffin_lim"]]
    speech, music = info["heldout"]["speech"], info["heldout"]["real music"]
    meets = (
        music["mr_stft_vocoder"] < music["mr_stft_griffin_lim"]
        and speech["pesq_vocoder"] > speech["pesq_griffin_lim"]
        and speech["stoi_vocoder"] > speech["stoi_griffin_lim"]
    )
    lines += [
        "",
        f"It beats Griffin-Lim on MR-STFT for: {', '.join(beats) or 'none'}; on speech, PESQ "
        f"{speech['pesq_vocoder']:.2f} vs {speech['pesq_griffin_lim']:.2f} and STOI {speech['stoi_vocoder']:.3f} vs "
        f"{speech['stoi_griffin_lim']:.3f}. The vocoder's bar (beat Griffin-Lim on real-music MR-STFT and on speech "
        f"PESQ and STOI): **{'met' if meets else 'not met'}**."
        + ("" if meets else " It ships so notebook 05 can compare; Griffin-Lim stays the default."),
        "",
    ]
    return lines


def sweep_card() -> list[str]:
    table = _load("sweep/sweep.json")
    if table is None:
        return []
    first = _load(f"sweep/{table[1]['point']}.json")
    info, cfg, train = first["info"], first["config"], first["info"]["train"]
    seconds = [(_load(f"sweep/{r['point']}.json") or {}).get("info", {}).get("train_seconds", 0) for r in table[1:]]
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


def classifier_card() -> list[str]:
    meta = _load("label_classifier.json")
    if meta is None:
        return []
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


def transformer_card() -> list[str]:
    meta = _load("transformer.json")
    if meta is None:
        return []
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


def fast_card() -> list[str]:
    """The reflow student, with the few-step benchmark's table (benchmarks/results/few_step.json) if it ran."""
    meta = _load("dit_fast.json")
    if meta is None:
        return []
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
    bench = CKPT.parents[1] / "benchmarks" / "results" / "few_step.json"
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


def _interval(s: dict) -> str:
    return f"{s['mean']:.3f} [{s['ci95'][0]:.3f}, {s['ci95'][1]:.3f}]"


def melody_card() -> list[str]:
    """The shipped melody transformer and the other way in, trained with the same recipe for comparison."""
    meta = _load("transformer_melody.json")
    if meta is None:
        return []
    info, train = meta["info"], meta["info"]["train"]
    others = [
        json.loads(p.read_text())["info"] for p in sorted(CKPT.glob("transformer_melody_*.json"))
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
                    f"| {count} | {way.replace('_', ' ')} | {_interval(w['chroma'])} | {_interval(w['pitch'])} |"
                )
        half = o["first_half_only"]
        lines += [
            f"| melody given over the first half only | given half | {_interval(half['given']['chroma'])} | "
            f"{_interval(half['given']['pitch'])} |",
            f"| | other half | {_interval(half['not_given']['chroma'])} | {_interval(half['not_given']['pitch'])} |",
            "",
        ]
    return lines


def clap_card() -> list[str]:
    meta = _load("clap.json")
    if meta is None:
        return []
    info, cfg, train, r = meta["info"], meta["config"], meta["info"]["train"], meta["info"]["retrieval"]
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


def claim_card() -> list[str]:
    """The two transformers of the CLAP claim (minidcae.claims.text_encoder) and the verdict their cards give."""
    from minidcae.claims.text_encoder import VERDICT_RULE, claim_verdict

    metas = {k: _load(f"claim/transformer_{k}.json") for k in ("phrases", "clap")}
    if None in metas.values():
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


if __name__ == "__main__":
    main()
