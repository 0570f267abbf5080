"""The `gpu` profile on one CUDA GPU in a few minutes: `make gpu-check`.

    PYTHONPATH=. python3 tools/gpu_check.py [--steps 50] [--out runs/gpu_check] [--deadline 300]
    PYTHONPATH=. python3 tools/gpu_check.py --dry-run      (on a CPU: tiny sizes, every code path but CUDA's)

It runs from the source tree with the machine's own Python and torch and installs nothing from an index:
what that Python lacks comes from gpu_wheels/ (`make gpu-wheels` fills it here; tools/run_notebooks.py
brings it onto the path). Then:
1. training throughput of the `gpu` profile's DCAE, vocoder and transformer (minidcae.bench.throughput: its sizes,
   its recipes' losses, batches of its shapes): fp32, bf16, and bf16 through torch.compile (the DCAE and the
   transformer; the vocoder's complex spectra do not compile in its backward), samples/s and peak memory;
2. generation at the `gpu` sizes, end to end through minidcae.generation.pipeline (a fresh transformer of the
   profile's size: speed does not depend on training; the shipped DCAE and vocoder): one 10 s clip at 30
   guided steps in fp32, bf16, and bf16 as CUDA graphs (generate --compile); the shipped few-step student at
   one step as CUDA graphs; 128 clips at once in bf16 (generate --n 128);
3. notebooks 02, 03 and 07 under MINIDCAE_PROFILE=gpu, every training capped at --notebook-steps, each in
   its own process through tools/run_notebooks.py (IPython's own shell, no Jupyter), side by side;
4. writes --out/gpu_check.json, --out/rows.md (README and INSTRUCTORS.md rows naming the machine) and, on a
   GPU, benchmarks/results/gpu_check_gpu.json.
A stage that would start after --deadline seconds is skipped and says so; one that fails is reported and the
others go on. With no CUDA GPU and no --dry-run it says so in one line and exits 2.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
import traceback
from contextlib import nullcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ("02_deep_compression", "03_training_for_real", "07_latent_diffusion")
MODELS = ("dcae", "vocoder", "transformer")
COMPILED = ("dcae", "transformer")  # the vocoder's complex STFT breaks inductor in the backward (a view as float)
CLIP_SECONDS, STEPS, MANY = 10.0, 30, 128
STAGES = ("training", "generation", "notebooks")
FINISHED_CELL = re.compile(r"  cell \d+: \d+\.\d s")  # the runner's line for each cell that ran to its end


def fail(message: str) -> None:
    print(f"gpu_check: {message}", file=sys.stderr)
    sys.exit(2)


class Clock:
    """Seconds since the start, and whether a stage may still start before the deadline."""

    def __init__(self, deadline: float):
        self.start, self.deadline = time.perf_counter(), deadline

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def allows(self, what: str, needs: float = 0.0) -> bool:
        if self.elapsed() + needs <= self.deadline:
            return True
        print(f"  {what}: skipped, {self.elapsed():.0f} s gone of a {self.deadline:.0f} s deadline", flush=True)
        return False


def guarded(what: str, rows: list, fn):
    """Run fn(); on an error print it, record {"what", "error"} in rows, and go on."""
    try:
        return fn()
    except Exception as err:  # a stage's failure is a result to report, not the end of the check
        line = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"[:300]
        print(f"  {what}: failed: {line}", flush=True)
        traceback.print_exc(limit=3)
        rows.append({"what": what, "error": line})
        return None


# ----------------------------------------------------------------------------- 1. training


def train_row(name: str, dtype: str, profile, device, batch_size, steps: int) -> dict:
    """One model's samples/s in one precision: fp32, bf16 or bf16+compile."""
    from minidcae.bench.throughput import measure, profiled_trainer

    bf16, compiled = dtype != "fp32", dtype.endswith("compile")
    trainer, next_batch, seconds = profiled_trainer(name, profile, device, batch_size, bf16, 0, compiled)
    start = time.perf_counter()
    first_batch = {k: v.to(device) if hasattr(v, "to") else v for k, v in next_batch(0).items()}
    trainer.train_step(first_batch)  # compiles, if asked
    first = time.perf_counter() - start
    r = measure(trainer, next_batch, steps, warmup=min(5, steps), seconds_per_item=seconds)
    r.update(model=name, dtype=dtype, steps=steps, batch_size=trainer.cfg.batch_size, first_step_s=first)
    r["parameters"] = sum(p.numel() for p in next(iter(trainer.modules.values())).parameters())
    peak = "-" if r["peak_bytes"] is None else f"{r['peak_bytes'] / 2**30:.2f} GiB"
    print(
        f"  {name:12s} {dtype:13s} batch {r['batch_size']:4d}: {r['samples_per_s']:9.1f} samples/s, "
        f"{r['ms_per_step']:8.1f} ms/step, first step {first:.1f} s, peak {peak}, loss {r['losses']['loss']:.3f}",
        flush=True,
    )
    return r


def train_rows(profile, device, steps: int, variants, batch_size, clock: Clock) -> list[dict]:
    import torch

    rows = []
    for name in MODELS:
        for dtype in variants:
            if dtype == "bf16+compile" and name not in COMPILED:
                continue
            if not clock.allows(f"{name} {dtype}", 20):
                continue
            r = guarded(
                f"{name} {dtype}", rows, lambda n=name, d=dtype: train_row(n, d, profile, device, batch_size, steps)
            )
            if r is not None:
                rows.append(r)
            if device.type == "cuda":
                torch._dynamo.reset()
                torch.cuda.empty_cache()
    return rows


# ----------------------------------------------------------------------------- 2. generation


def seconds_of(fn, device, repeat: int = 3) -> float:
    """The median wall seconds of fn() over `repeat` calls, after one call (which compiles, if it must)."""
    import statistics

    import torch

    def synced():
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        return time.perf_counter() - start

    synced()
    return statistics.median(synced() for _ in range(repeat))


def generation_rows(profile, device, clock: Clock, dry: bool) -> list[dict]:
    """End-to-end generation through minidcae.generation.pipeline, the same calls `minidcae generate` makes."""
    from dataclasses import replace

    import torch

    from minidcae.core.config import SHIPPED_DCAE, SHIPPED_VOCODER
    from minidcae.generation.pipeline import compiled
    from minidcae.models.dcae import load_autoencoder, mel_config_of
    from minidcae.models.transformer import LatentTransformer, load_transformer
    from minidcae.models.vocoder import load_vocoder

    ae, meta = load_autoencoder(SHIPPED_DCAE, device)
    mel = mel_config_of(meta)
    vocoder = load_vocoder(SHIPPED_VOCODER, device)[0]
    cfg = replace(
        profile.transformer, latent_channels=ae.cfg.latent_channels, latent_rows=mel.n_mels // ae.cfg.freq_factor
    )
    torch.manual_seed(0)
    big = LatentTransformer(cfg).to(device).eval()
    student = load_transformer(ROOT / "data_samples" / "checkpoints" / "dit_fast.safetensors", device)[0]
    seconds, steps, many = (2.0, 2, 3) if dry else (CLIP_SECONDS, STEPS, MANY)
    cuda = device.type == "cuda"
    if dry:  # inductor on a CPU takes minutes for the gpu-size transformer: the dry run checks the calls, not compile

        def compiled(module, device):
            return module

    def bf16():
        return torch.autocast("cuda", torch.bfloat16) if cuda else nullcontext()

    runs = [
        ("one clip, fp32", big, vocoder, nullcontext, 1, steps, "cfg"),
        ("one clip, bf16", big, vocoder, bf16, 1, steps, "cfg"),
        ("one clip, bf16, CUDA graphs", compiled(big, device), compiled(vocoder, device), bf16, 1, steps, "cfg"),
        ("few-step student, 1 step, CUDA graphs", compiled(student, device), compiled(vocoder, device), nullcontext,
         1, 1, "none"),
        (f"{many} clips at once, bf16", big, vocoder, bf16, many, steps, "cfg"),
    ]  # fmt: skip
    rows = []
    for what, model, voc, precision, n, k, guidance in runs:
        if not clock.allows(what, 15):
            continue
        run = (what, model, voc, precision, n, k, guidance)
        r = guarded(what, rows, lambda run=run: generation_row(*run, ae, mel, seconds, device))
        if r is not None:
            rows.append(r)
    return rows


def generation_row(what, model, voc, precision, n, k, guidance, ae, mel, seconds, device) -> dict:
    """n clips of `seconds` at k steps, end to end (latents, decoder, vocoder), timed after a first call."""
    from minidcae.generation.pipeline import generate, generate_many

    def call():
        with precision():
            if n == 1:
                return generate(model, ae, mel, "happy piano", seconds, vocoder=voc, steps=k, guidance=guidance)
            return generate_many(model, ae, mel, ["happy piano"] * n, seconds, 0, voc, steps=k, guidance=guidance)

    start = time.perf_counter()
    call()
    first = time.perf_counter() - start
    s = seconds_of(call, device)
    r = {"what": what, "clips": n, "seconds": seconds, "steps": k, "wall_s": s, "first_call_s": first}
    r["audio_s_per_s"] = n * seconds / s
    print(f"  {what}: {r['audio_s_per_s']:.1f}x real time ({s * 1000:.1f} ms; first call {first:.1f} s)", flush=True)
    return r


# ----------------------------------------------------------------------------- 3. notebooks


def notebook_rows(cap: int, timeout: int, wheels: str, notebooks: list[Path], profile: str = "gpu") -> dict:
    """The notebooks (02, 03 and 07) under the profile, each in its own process, all at once; {name: status,
    seconds, cells_run}, where cells_run counts the cells that ran to their end, also in a notebook stopped at
    the timeout (a stopped notebook says how far it got)."""
    procs, out = {}, {}
    env = {**os.environ, "MINIDCAE_PROFILE": profile, "TQDM_DISABLE": "1", "MPLBACKEND": "Agg", "PYTHONUNBUFFERED": "1"}
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    runner = str(ROOT / "tools" / "run_notebooks.py")
    for path in notebooks:
        cmd = [sys.executable, runner, "--profile", profile, "--cap-steps", str(cap), "--wheels", wheels, str(path)]
        procs[path.stem] = (
            subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True),
            time.perf_counter(),
        )
    for name, (proc, start) in procs.items():
        try:
            text, stopped = proc.communicate(timeout=max(1, timeout - (time.perf_counter() - start)))[0], False
        except subprocess.TimeoutExpired:
            proc.kill()
            text, stopped = proc.communicate()[0] or "", True
        lines = text.rstrip().splitlines()  # rstrip: a cell line's own indent is kept
        if stopped:
            status = f"stopped after {timeout} s"
        else:
            status = "passed" if proc.returncode == 0 else f"failed: {lines[-1] if lines else proc.returncode}"
        cells = sum(bool(FINISHED_CELL.fullmatch(line)) for line in lines)
        out[name] = {"status": status, "seconds": round(time.perf_counter() - start, 1), "cells_run": cells}
        print(f"  {name}: {status} ({out[name]['seconds']} s, {cells} cells)", flush=True)
        for line in lines[-4:]:
            print(f"    | {line}", flush=True)
    return out


# ----------------------------------------------------------------------------- the report


def rows_markdown(result: dict) -> str:
    where, date = result["machine"], result["date"]
    t = {(r["model"], r["dtype"]): r for r in result["training"] if "model" in r}
    lines = ["README (benchmarks) and INSTRUCTORS.md rows, from tools/gpu_check.py:", ""]
    for model in MODELS:
        cells = [
            f"{d} {t[model, d]['samples_per_s']:,.0f}" for d in ("fp32", "bf16", "bf16+compile") if (model, d) in t
        ]
        if cells:
            batch = next(t[model, d]["batch_size"] for d in ("fp32", "bf16", "bf16+compile") if (model, d) in t)
            lines.append(
                f"| gpu profile {model} training, batch {batch}, samples/s | {', '.join(cells)} | {where} | {date} |"
            )
    for g in result["generation"]:
        if "audio_s_per_s" in g:
            lines.append(
                f"| {g['what']}, {g['seconds']:g} s at {g['steps']} steps | {g['audio_s_per_s']:,.0f}x real time "
                f"({g['wall_s'] * 1000:.1f} ms) | {where} | {date} |"
            )
    for name, n in result.get("notebooks", {}).items():
        lines.append(
            f"| notebook {name} under `gpu`, steps capped at {result['notebook_steps']} | {n['status']}, "
            f"{n['seconds']:.0f} s | {where} | {date} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50, help="timed training steps per model and precision")
    parser.add_argument("--notebook-steps", type=int, default=200, help="cap on every training inside the notebooks")
    parser.add_argument("--notebook-timeout", type=int, default=180, help="seconds the notebooks may take")
    parser.add_argument("--deadline", type=float, default=300, help="seconds after which no new stage starts")
    parser.add_argument("--wheels", default=str(ROOT / "gpu_wheels"), help="wheels for what this Python lacks")
    parser.add_argument("--out", default=str(ROOT / "runs" / "gpu_check"))
    parser.add_argument("--variants", default="fp32,bf16,bf16+compile", help="training precisions to time")
    parser.add_argument("--dry-run", action="store_true", help="on a CPU: batch 2, 2 steps, no compile, no notebooks")
    parser.add_argument(
        "--stages",
        default=",".join(STAGES),
        help=f"which stages to run, in this order: some of {', '.join(STAGES)} (e.g. notebooks alone beside gpu-train)",
    )
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        fail("this Python has no torch; run it with the GPU machine's own python3")
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tools"))
    if not args.dry_run and not torch.cuda.is_available():
        fail(f"no CUDA GPU here (torch {torch.__version__} sees none); run it on a GPU machine, or add --dry-run")
    from run_notebooks import bring_wheels

    bring_wheels(args.wheels)
    try:
        from minidcae.core.profiles import get_profile
        from minidcae.training.recipe import hardware
    except ImportError as err:
        fail(f"the library does not import: {err}; run `make gpu-wheels` here and bring gpu_wheels/ along")
    device = torch.device("cpu" if args.dry_run else "cuda")
    if args.dry_run:
        torch.set_num_threads(1)
    profile, where, clock = get_profile("gpu"), hardware(device), Clock(args.deadline)
    print(f"gpu_check on {where}, torch {torch.__version__}, Python {sys.version.split()[0]}", flush=True)
    result = {
        "machine": where,
        "date": time.strftime("%Y-%m-%d"),
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "dry_run": args.dry_run,
        "notebook_steps": args.notebook_steps,
    }
    stages = [x.strip() for x in args.stages.split(",") if x.strip()]
    unknown = [x for x in stages if x not in STAGES]
    if unknown:
        fail(f"--stages {args.stages}: unknown stage(s) {', '.join(unknown)}; use some of {', '.join(STAGES)}")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def save():  # after every stage: a run stopped by a time limit still leaves what it measured
        (out / "gpu_check.json").write_text(json.dumps(result, indent=2) + "\n")

    result["training"], result["generation"] = [], []
    if "training" in stages:
        print("1. training samples per second", flush=True)
        variants = ("fp32",) if args.dry_run else tuple(v.strip() for v in args.variants.split(","))
        steps = 2 if args.dry_run else args.steps
        result["training"] = train_rows(profile, device, steps, variants, 2 if args.dry_run else None, clock)
        save()
    if "generation" in stages:
        print("2. generation, end to end", flush=True)
        result["generation"] = generation_rows(profile, device, clock, args.dry_run)
        save()
    if "notebooks" in stages and not args.dry_run and clock.allows("3. notebooks", 30):
        print(f"3. notebooks under gpu, training capped at {args.notebook_steps} steps, side by side", flush=True)
        result["notebooks"] = notebook_rows(
            args.notebook_steps,
            args.notebook_timeout,
            args.wheels,
            [ROOT / "notebooks" / f"{n}.ipynb" for n in NOTEBOOKS],
        )
    result["seconds"] = round(clock.elapsed(), 1)
    save()
    (out / "rows.md").write_text(rows_markdown(result))
    if not args.dry_run:
        (ROOT / "benchmarks" / "results" / "gpu_check_gpu.json").write_text(json.dumps(result, indent=2) + "\n")
    print(rows_markdown(result))
    print(f"gpu_check: finished in {result['seconds']:.0f} s; wrote {out / 'gpu_check.json'} and {out / 'rows.md'}")


if __name__ == "__main__":
    main()
