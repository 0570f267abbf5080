"""The course's models at ACE-Step's latent geometry, trained on one CUDA GPU in minutes: `make gpu-train`.

    PYTHONPATH=. python3 tools/gpu_train.py [--minutes 5.5] [--out runs/gpu_train] [--compile-from JSON]
    PYTHONPATH=. python3 tools/gpu_train.py --dry-run                 (on a CPU: tiny sizes, every code path)
    PYTHONPATH=. python3 tools/gpu_train.py --evaluate runs/gpu_train (any machine: the held-out cards)

What it trains, on ACE-Step's front end in mono (44.1 kHz, n_fft 2048, hop 512, 128 mels from 40 Hz to
16 kHz), from synthetic clips (training seeds) and the bundled real train clips (never a held-out one):
1. a DCAE at ACE-Step's geometry: 8x in time, 8x in frequency, 8 channels, latents (8, 16, T/8);
2. a Vocos-style vocoder for that front end;
3. the latent transformer on that DCAE's latents, prompted by the clips' labels.
Each model gets a share of --minutes; its steps are sized from a short timed probe of its own trainer,
so the run fills the time on any GPU. Data is made once and kept on the GPU (minidcae.sound.device_data).
With --compile-from (the JSON `make gpu-check` wrote in the same session) a model is trained through
torch.compile when the check measured it faster so, by at least COMPILE_PAYS.

It writes --out/{dcae,vocoder,transformer}.{safetensors,json} (float16 weights, cards naming the GPU)
and --out/gpu_train.json (steps, seconds, samples per second, last losses). `--evaluate DIR` measures
what it wrote on held-out clips (DCAE: mel L1 and Griffin-Lim MR-STFT against the oracle; vocoder:
MR-STFT against Griffin-Lim; transformer: obedience judged by the shipped label classifier on the clips
rendered through the new DCAE and vocoder) and adds the figures to the cards.
Runs from the source tree with the machine's own Python and torch (no install); see tools/gpu_check.py.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from minidcae.core.config import (  # noqa: E402
    ACE_STEP_MONO_MEL,
    DATA_SAMPLES,
    DCAEConfig,
    GenerationConfig,
    TrainConfig,
    TransformerConfig,
    VocoderConfig,
)

COMPILE_PAYS = 1.2  # compile a model's training when the check measured it at least this much faster
COMMAND = "make gpu-train"


@dataclass(frozen=True)
class Plan:
    """Every size of `make gpu-train`, in one place."""

    minutes: float = 5.5  # training minutes in all, shared by the three models below
    shares: tuple[float, float, float] = (0.5, 0.25, 0.25)  # dcae, vocoder, transformer
    n_clips: int = 4096  # synthetic training clips (training seeds 0 ..)
    clip_seconds: float = 6.0
    real_share: float = 0.4  # of each DCAE batch, crops of the bundled real train clips
    dcae: DCAEConfig = DCAEConfig(widths=(32, 64, 128, 128), time_factor=8, freq_factor=8, latent_channels=8)
    dcae_train: TrainConfig = TrainConfig(batch_size=128, crop_frames=256, lr=1e-3, ema_decay=0.999, log_every=100)
    vocoder_dim: int = 128
    vocoder_train: TrainConfig = TrainConfig(
        batch_size=32, crop_frames=64, lr=1e-3, ema_decay=0.999, log_every=100, mr_weight=1.0
    )
    transformer: TransformerConfig = TransformerConfig(dim=128, depth=4, heads=4)
    transformer_train: TrainConfig = TrainConfig(batch_size=128, lr=1e-3, ema_decay=0.999, log_every=100)
    generation: GenerationConfig = field(default_factory=lambda: GenerationConfig(n_clips=4096, clip_seconds=6.0))


DRY_RUN = Plan(
    minutes=0.1,  # a few seconds a model: the probe and the sizing run too
    n_clips=6,
    clip_seconds=3.0,
    dcae_train=replace(Plan.dcae_train, batch_size=2, crop_frames=64, log_every=1),
    vocoder_train=replace(Plan.vocoder_train, batch_size=2, crop_frames=16, log_every=1),
    transformer_train=replace(Plan.transformer_train, batch_size=2, log_every=1),
    generation=GenerationConfig(n_clips=6, clip_seconds=3.0),
)


def say(text: str) -> None:
    print(f"gpu_train: {text}", flush=True)


def fail(text: str) -> None:
    print(f"gpu_train: {text}", file=sys.stderr)
    sys.exit(2)


# ----------------------------------------------------------------------------- steps from a timed probe


def probe_seconds(make_trainer, next_batch, device, warmup: int = 5, steps: int = 15) -> float:
    """Seconds per step of a throwaway trainer (its own copy of the model), after warm-up (and compile)."""
    trainer = make_trainer(probe=True)
    for i in range(warmup):
        trainer.train_step(next_batch(i))
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    for i in range(steps):
        losses = trainer.step_tensors(next_batch(warmup + i))
    [float(v) for v in losses.values()]  # waits for the last step
    return (time.perf_counter() - start) / steps


def sized_steps(budget_s: float, step_s: float, least: int) -> int:
    """As many steps as fit in budget_s (never fewer than `least`)."""
    return max(least, int(budget_s / step_s))


def compile_choice(path: str | None) -> dict:
    """{model: True} for the models `make gpu-check` measured faster compiled (bf16) than eager (bf16)."""
    if not path or not Path(path).is_file():
        return {}
    rows = json.loads(Path(path).read_text()).get("training", [])
    speed = {(r["model"], r["dtype"]): r["samples_per_s"] for r in rows if "samples_per_s" in r}
    return {
        m: speed[m, "bf16+compile"] >= COMPILE_PAYS * speed[m, "bf16"]
        for m in ("dcae", "vocoder", "transformer")
        if (m, "bf16+compile") in speed and (m, "bf16") in speed
    }


# ----------------------------------------------------------------------------- one model at a time


def train_one(name, modules, losses, optimize, cfg, budget_s, next_batch, device, seconds_per_item, least=2):
    """Size the steps from a probe, train, keep the EMA weights. Returns (trainer, row for gpu_train.json)."""
    from minidcae.training.recipe import keep_ema
    from minidcae.training.trainer import Trainer

    main = next(iter(modules))

    def make_trainer(probe=False):
        mods = {k: copy.deepcopy(m) for k, m in modules.items()} if probe else modules
        opt = {k: mods[next(n for n, m in modules.items() if m is v)] for k, v in optimize.items()}
        return Trainer(mods, losses, opt, cfg, None, device, seconds_per_item, ema=(main,), quiet=True)

    start = time.perf_counter()
    step_s = probe_seconds(make_trainer, next_batch, device) if budget_s > 0 else 0.0
    probe_s = time.perf_counter() - start
    steps = sized_steps(budget_s - probe_s, step_s, least) if budget_s > 0 else least
    trainer = Trainer(
        modules, losses, optimize, replace(cfg, steps=steps), None, device, seconds_per_item, ema=(main,), quiet=True
    )
    start = time.perf_counter()
    trainer.fit(next_batch, steps)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    keep_ema(trainer, main)
    last = trainer.history[-1]
    row = {
        "steps": steps,
        "batch_size": cfg.batch_size,
        "probe_step_ms": round(1000 * step_s, 2),
        "probe_seconds": round(probe_s, 1),
        "train_seconds": round(seconds, 1),
        "samples_per_s": round(steps * cfg.batch_size / seconds, 1),
        "bf16": cfg.bf16,
        "compile": cfg.compile,
        "last_losses": {k: v for k, v in last.items() if k not in ("step", "lr", "step_seconds", "audio_s_per_s")},
        "history": trainer.history,
    }
    say(
        f"{name}: {steps} steps of batch {cfg.batch_size} in {seconds:.0f} s ({row['samples_per_s']:.0f} samples/s, "
        f"probe {row['probe_step_ms']:.1f} ms/step), loss {row['last_losses'].get('loss', float('nan')):.4f}"
    )
    return trainer, row


def rounded(model):
    """Round the weights to float16, the stored precision, so what is measured later is what is shipped."""
    model.load_state_dict({k: v.half().float() if v.is_floating_point() else v for k, v in model.state_dict().items()})
    return model


def card(cfg, mel, device, seconds, extra: dict) -> dict:
    from minidcae.training.recipe import card_fields

    profile = SimpleNamespace(name="gpu-train")  # the Plan above, not a notebook profile
    return {**card_fields(COMMAND, COMMAND, profile, cfg, mel, device, seconds), **extra}


def train_all(plan: Plan, out: Path, device: torch.device, compile_models: dict) -> dict:
    from minidcae.core.checkpoint import save_model
    from minidcae.models.condition import tokenize_for, training_phrase
    from minidcae.models.dcae import DCAE, compute_latent_stats, count_parameters
    from minidcae.models.transformer import LatentTransformer
    from minidcae.models.vocoder import Vocoder
    from minidcae.recipes.autoencoder import autoencoder_losses
    from minidcae.recipes.vocoder import vocoder_losses
    from minidcae.sound.data import find_audio_files
    from minidcae.sound.device_data import MelBank, WaveBank, gain_shift, load_waves, synth_waves
    from minidcae.sound.synth import first_seed
    from minidcae.training.flow_matching import flow_matching_loss
    from minidcae.training.recipe import hardware

    mel, budget = ACE_STEP_MONO_MEL, plan.minutes * 60
    summary = {"plan": json.loads(json.dumps(asdict(plan))), "models": {}}
    start = time.perf_counter()
    # 1. data, made once: synthetic clips in one process per core (before CUDA is touched), real train clips
    seeds = range(first_seed(0, plan.n_clips), first_seed(0, plan.n_clips) + plan.n_clips)
    waves, labels = synth_waves(seeds, plan.clip_seconds, mel.sample_rate, 1 if device.type == "cpu" else None)
    real = load_waves(find_audio_files(DATA_SAMPLES / "audio" / "train"), mel.sample_rate)  # never heldout/
    made = time.perf_counter() - start
    g = torch.Generator(device=device).manual_seed(0)
    with torch.no_grad():
        synth_mels = torch.cat([log_mel_on(w, mel, device) for w in waves.split(256)])  # (N, 1, 128, T)
        real_mels = [log_mel_on(w[None], mel, device)[0] for w in real]  # each (1, 128, T_i)
    summary["data"] = {
        "synthetic_clips": plan.n_clips,
        "clip_seconds": plan.clip_seconds,
        "real_train_clips": len(real),
        "real_seconds": round(sum(w.shape[-1] for w in real) / mel.sample_rate, 1),
        "seconds_to_make": round(made, 1),
        "seconds_to_mel": round(time.perf_counter() - start - made, 1),
    }
    say(f"data: {plan.n_clips} synthetic clips and {len(real)} real ones in {time.perf_counter() - start:.0f} s")
    say(f"training on {hardware(device)}")  # the first CUDA call: after the synthesis processes were forked

    # 2. the DCAE: reconstruction losses, crops from both banks, a random gain per crop
    cfg = replace(plan.dcae_train, compile=compile_models.get("dcae", False))
    synth_bank = MelBank(list(synth_mels), cfg.crop_frames, device, g)
    real_bank = MelBank(real_mels, cfg.crop_frames, device, g)
    n_real = round(plan.real_share * cfg.batch_size)

    def mel_batch(step):
        x = torch.cat([real_bank.crop_batch(n_real), synth_bank.crop_batch(cfg.batch_size - n_real)])  # (B, 1, M, T)
        db = -12 * torch.rand(cfg.batch_size, device=device, generator=g)  # (B,): -12 to 0 dB
        return {"mel": gain_shift(x, db, mel)}

    torch.manual_seed(0)
    dcae = DCAE(plan.dcae)
    crop_s = cfg.crop_frames * mel.hop_length / mel.sample_rate
    t0 = time.perf_counter()
    _, row = train_one(
        "dcae", {"autoencoder": dcae}, autoencoder_losses(cfg), {"loss": dcae}, cfg,
        budget * plan.shares[0], mel_batch, device, crop_s,
    )  # fmt: skip
    rounded(dcae).eval()
    compute_latent_stats(dcae, (mel_batch(i)["mel"] for i in range(8)))
    extra = {
        "parameters": count_parameters(dcae),
        "compression": plan.dcae.compression(mel.n_mels),
        "latent": f"(8, {mel.n_mels // plan.dcae.freq_factor}, T/8)",
        "data": summary["data"],
        "steps_from": f"a {row['probe_step_ms']:.1f} ms/step probe, {plan.shares[0]:.0%} of {plan.minutes:g} min",
    }
    info = card(replace(cfg, steps=row["steps"]), mel, device, time.perf_counter() - t0, extra)
    save_model(out / "dcae", dcae.cpu(), "dcae", plan.dcae, info, dtype=torch.float16)
    dcae.to(device)
    summary["models"]["dcae"] = {k: v for k, v in row.items() if k != "history"}

    # 3. the vocoder: aligned (waveform, log-mel) crops of the synthetic and real clips
    cfg = replace(plan.vocoder_train, compile=compile_models.get("vocoder", False))
    voc_cfg = VocoderConfig.for_mel(mel, dim=plan.vocoder_dim)
    synth_waves_bank = WaveBank(list(waves), cfg.crop_frames, mel, device, g)
    real_waves_bank = WaveBank(real, cfg.crop_frames, mel, device, g)
    half = cfg.batch_size // 2  # half of each batch real, as the vocoder's recipe (REAL_SHARE)

    def wave_batch(step):
        a, b = real_waves_bank.crop_batch(half), synth_waves_bank.crop_batch(cfg.batch_size - half)
        return {k: torch.cat([a[k], b[k]]) for k in a}  # {"mel": (B, 1, M, T), "wav": (B, 1, T * hop)}

    torch.manual_seed(0)
    vocoder = Vocoder(voc_cfg)
    t0 = time.perf_counter()
    _, row = train_one(
        "vocoder", {"vocoder": vocoder}, vocoder_losses(cfg, mel), {"loss": vocoder}, cfg,
        budget * plan.shares[1], wave_batch, device,
        cfg.crop_frames * mel.hop_length / mel.sample_rate,
    )  # fmt: skip
    rounded(vocoder).eval()
    synth_waves_bank.waves = real_waves_bank.waves = None  # the GPU memory back
    extra = {
        "parameters": count_parameters(vocoder),
        "training_clips": {"synthetic": len(waves), "real": len(real), "real_share": half / cfg.batch_size},
        "steps_from": f"a {row['probe_step_ms']:.1f} ms/step probe, {plan.shares[1]:.0%} of {plan.minutes:g} min",
    }
    info = card(replace(cfg, steps=row["steps"]), mel, device, time.perf_counter() - t0, extra)
    save_model(out / "vocoder", vocoder.cpu(), "vocoder", voc_cfg, info, dtype=torch.float16)
    summary["models"]["vocoder"] = {k: v for k, v in row.items() if k != "history"}

    # 4. the latent transformer on the new DCAE's latents of the synthetic clips, prompted by their labels
    cfg = replace(plan.transformer_train, compile=compile_models.get("transformer", False))
    gen = plan.generation
    with torch.no_grad():
        latents = torch.cat([dcae.normalize_latent(dcae.encode(x)).float() for x in synth_mels.split(128)])
    synth_bank.mels = synth_mels = None  # the GPU memory back
    model_cfg = replace(
        plan.transformer, latent_channels=plan.dcae.latent_channels, latent_rows=mel.n_mels // plan.dcae.freq_factor
    )
    torch.manual_seed(0)
    transformer = LatentTransformer(model_cfg)
    noise = torch.Generator(device=device).manual_seed(1)

    def latent_batch(step):
        rng = np.random.default_rng([cfg.seed, step])
        idx = rng.integers(0, len(latents), cfg.batch_size)
        prompts = ["" if rng.random() < gen.drop_prompt else training_phrase(model_cfg, labels[i], rng) for i in idx]
        ids, mask = tokenize_for(model_cfg, prompts)  # (B, L) each
        idx, ids, mask = (pinned(t, device) for t in (torch.from_numpy(idx), ids, mask))
        return {"latent": latents[idx], "ids": ids, "mask": mask}  # (B, C, F, T), (B, L), (B, L)

    def losses(m, batch):
        x1 = batch["latent"]
        return {
            "loss": flow_matching_loss(
                lambda x, t: m["transformer"](x, t, batch["ids"], batch["mask"]), x1, gen.time_shift,
                noise if device.type == "cpu" else None,
            )
        }  # fmt: skip

    t0 = time.perf_counter()
    _, row = train_one(
        "transformer", {"transformer": transformer}, losses, {"loss": transformer}, cfg,
        budget * plan.shares[2], latent_batch, device, gen.clip_seconds,
    )  # fmt: skip
    rounded(transformer).eval()
    extra = {
        "generation": asdict(gen),
        "autoencoder": "dcae.safetensors",
        "latent_shape": list(latents.shape[1:]),
        "parameters": count_parameters(transformer),
        "steps_from": f"a {row['probe_step_ms']:.1f} ms/step probe, {plan.shares[2]:.0%} of {plan.minutes:g} min",
    }
    info = card(replace(cfg, steps=row["steps"]), mel, device, time.perf_counter() - t0, extra)
    save_model(out / "transformer", transformer.cpu(), "transformer", model_cfg, info, dtype=torch.float16)
    summary["models"]["transformer"] = {k: v for k, v in row.items() if k != "history"}
    summary["seconds"] = round(time.perf_counter() - start, 1)
    return summary


def pinned(t: torch.Tensor, device: torch.device) -> torch.Tensor:
    """A CPU tensor to the device without waiting for the GPU (pinned memory, non-blocking)."""
    return t.pin_memory().to(device, non_blocking=True) if device.type == "cuda" else t


def log_mel_on(wav: torch.Tensor, mel, device) -> torch.Tensor:
    """(B, samples) -> (B, 1, n_mels, frames) computed on the device."""
    from minidcae.sound.audio import log_mel

    return log_mel(wav.to(device)[:, None], mel)


# ----------------------------------------------------------------------------- held-out cards (any machine)


def evaluate(out: Path, per_label: int, gl_iters: int = 64) -> None:
    """Measure the three checkpoints in `out` on held-out clips and add the figures to their cards."""
    from minidcae.core.checkpoint import write_json
    from minidcae.core.config import SHIPPED_CLASSIFIER
    from minidcae.models.dcae import load_autoencoder
    from minidcae.models.transformer import load_transformer
    from minidcae.models.vocoder import load_vocoder
    from minidcae.recipes.autoencoder import evaluate_autoencoder
    from minidcae.recipes.vocoder import evaluate_vocoder, heldout_sets
    from minidcae.sound.data import heldout_clips

    mel = ACE_STEP_MONO_MEL
    dcae, _ = load_autoencoder(out / "dcae.safetensors")
    report = evaluate_autoencoder(dcae, mel, heldout_clips(mel), gl_iters)
    add_to_card(
        out / "dcae.json", {"heldout": {k: v["mean"] for k, v in report.items()}, "griffin_lim_iters": gl_iters}
    )
    write_json(out / "dcae_heldout.json", report)
    say("dcae held out: " + "; ".join(f"{k}: mel L1 {v['mean']['mel_l1_db']:.2f} dB, "
        f"MR-STFT {v['mean']['mr_stft_excess']:+.1%} against the oracle" for k, v in report.items()))  # fmt: skip
    vocoder, _ = load_vocoder(out / "vocoder.safetensors")
    report = evaluate_vocoder(vocoder, mel, heldout_sets(mel), gl_iters)
    add_to_card(
        out / "vocoder.json", {"heldout": {k: v["mean"] for k, v in report.items()}, "griffin_lim_iters": gl_iters}
    )
    write_json(out / "vocoder_heldout.json", report)
    say("vocoder held out: " + "; ".join(f"{k}: MR-STFT {v['mean']['mr_stft_vocoder']:.3f} "
        f"(Griffin-Lim {v['mean']['mr_stft_griffin_lim']:.3f})" for k, v in report.items()))  # fmt: skip
    transformer, _ = load_transformer(out / "transformer.safetensors")
    judged = rendered_obedience(transformer, dcae, vocoder, mel, SHIPPED_CLASSIFIER, per_label)
    add_to_card(out / "transformer.json", {"obedience": judged})
    say(
        f"transformer obedience over {judged['clips']} clips: instrument {judged['instrument_accuracy']:.3f} "
        f"(the judge on real clips rendered the same way: {judged['reference']['rendered_instrument_accuracy']:.3f}), "
        f"mode {judged['mode_accuracy']:.3f} ({judged['reference']['rendered_mode_accuracy']:.3f})"
    )


def add_to_card(path: Path, fields: dict) -> None:
    from minidcae.core.checkpoint import load_tensors, save_tensors, write_json

    meta = json.loads(path.read_text())
    meta["info"].update(fields)
    write_json(path, meta)
    tensors, _ = load_tensors(path.with_suffix(".safetensors"))
    save_tensors(path.with_suffix(".safetensors"), tensors, meta)


@torch.no_grad()
def rendered_obedience(transformer, dcae, vocoder, mel, classifier_path, per_label: int, seed: int = 0) -> dict:
    """Obedience judged by the shipped label classifier, which hears 22.05 kHz 64-mel clips: every generated clip
    is decoded by the new DCAE, voiced by the new vocoder, resampled and log-melled as the judge was trained.
    For scale, held-out real clips go the same way (encoded, decoded, voiced) and straight to the judge."""
    import torchaudio

    from minidcae.core.config import DEFAULT_MEL
    from minidcae.generation.pipeline import generate_mels
    from minidcae.generation.sampling import prompt_grid
    from minidcae.models.classifier import labelled_mels, load_classifier, predict
    from minidcae.sound.audio import log_mel

    classifier, _ = load_classifier(classifier_path)
    judge_mel = DEFAULT_MEL
    resample = torchaudio.transforms.Resample(mel.sample_rate, judge_mel.sample_rate)

    def judged(x):  # log-mels (N, 1, 128, T) at 44.1 kHz -> predictions of the judge
        wav = torch.cat([vocoder(part) for part in x.split(16)])  # (N, 1, T * hop)
        return predict(classifier, log_mel(resample(wav), judge_mel))

    prompts, want_i, want_m = prompt_grid(per_label)
    gen = GenerationConfig()
    frames = round(3.0 * mel.frame_rate / dcae.cfg.time_factor)  # 3 s clips, as the judge's training clips
    x = generate_mels(transformer, dcae, prompts, frames, steps=gen.steps, cfg_scale=gen.cfg_scale, seed=seed)
    _, pi, pm = judged(x)
    real, real_i, real_m = labelled_mels(len(prompts), 3.0, mel, heldout=True)  # (N, 1, 128, T) at 44.1 kHz
    recon = torch.cat([dcae.decode(dcae.encode(r), r.shape[-2:]) for r in real.split(32)])
    _, ri, rm = judged(recon)
    direct = labelled_mels(len(prompts), 3.0, judge_mel, heldout=True)
    _, di, dm = predict(classifier, direct[0])
    return {
        "clips": len(prompts),
        "steps": gen.steps,
        "cfg_scale": gen.cfg_scale,
        "judge": f"{Path(classifier_path).name} on 22.05 kHz 64-mel log-mels of the clips voiced by vocoder.safetensors",
        "instrument_accuracy": float((pi == want_i).float().mean()),
        "mode_accuracy": float((pm == want_m).float().mean()),
        "chance": {"instrument": 1 / 6, "mode": 1 / 2},
        "reference": {
            "rendered_instrument_accuracy": float((ri == real_i).float().mean()),
            "rendered_mode_accuracy": float((rm == real_m).float().mean()),
            "direct_instrument_accuracy": float((di == direct[1]).float().mean()),
            "direct_mode_accuracy": float((dm == direct[2]).float().mean()),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=Plan.minutes, help="training minutes for the three models")
    parser.add_argument("--out", default=str(ROOT / "runs" / "gpu_train"))
    parser.add_argument("--compile-from", help="gpu_check.json of this machine: compile the models it found faster so")
    parser.add_argument("--dry-run", action="store_true", help="on a CPU: tiny sizes, 2 steps each, every code path")
    parser.add_argument("--evaluate", metavar="DIR", help="measure DIR's checkpoints on held-out clips (any machine)")
    parser.add_argument("--per-label", type=int, default=8, help="with --evaluate: clips per prompt for obedience")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT / "tools"))
    from run_notebooks import bring_wheels

    bring_wheels(ROOT / "gpu_wheels")  # what the GPU machine's Python lacks (soundfile reads the real clips)
    if args.evaluate:
        if not (Path(args.evaluate) / "dcae.safetensors").is_file():
            fail(f"--evaluate {args.evaluate}: no dcae.safetensors there; give the folder gpu_train wrote")
        torch.set_num_threads(max(1, torch.get_num_threads()))
        evaluate(Path(args.evaluate), args.per_label)
        return
    if args.minutes <= 0 and not args.dry_run:
        fail(f"--minutes {args.minutes:g}: give a positive number of minutes")
    if not args.dry_run and not torch.cuda.is_available():
        fail(f"no CUDA GPU here (torch {torch.__version__} sees none); run it on a GPU machine, or add --dry-run")
    device = torch.device("cpu" if args.dry_run else "cuda")
    plan = DRY_RUN if args.dry_run else replace(Plan(), minutes=args.minutes)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    choice = compile_choice(args.compile_from)
    say(f"torch {torch.__version__}; compiled: {[m for m, on in choice.items() if on] or 'none'}")
    summary = train_all(plan, out, device, choice)
    from minidcae.training.recipe import hardware

    summary.update(
        machine=hardware(device), torch=torch.__version__, date=time.strftime("%Y-%m-%d"), dry_run=args.dry_run
    )
    (out / "gpu_train.json").write_text(json.dumps(summary, indent=2) + "\n")
    say(f"finished in {summary['seconds']:.0f} s; wrote {out}")


if __name__ == "__main__":
    main()
