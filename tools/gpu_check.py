"""The `gpu` profile on one CUDA GPU, in about ten minutes: `make gpu-check` (issue 15).

    PYTHONPATH=. python3 tools/gpu_check.py [--steps 200] [--out runs/gpu_check] [--notebook-steps 40]
    PYTHONPATH=. python3 tools/gpu_check.py --dry-run      (on a CPU: tiny sizes, no notebooks, what a GPU run does)

It runs from the source tree with the machine's own Python and torch, installs nothing from an index, and
needs neither soundfile nor Jupyter:
1. pure-Python wheels missing there come from gpu_wheels/ (`make gpu-wheels` fills it here): put on
   sys.path as they are, or, for soundfile and its cffi, installed with pip --no-index into a temp folder;
2. trains the `gpu` profile's DCAE, vocoder and transformer (minidcae.throughput: its sizes, its recipes'
   losses, batches of its shapes) for --steps steps each in fp32 and in bf16: samples/s, peak memory,
   the bf16 speed-up;
3. times generation at the `gpu` sizes: a fresh transformer of the profile's size (speed does not depend on
   training), 30 guided steps for a 10 s clip, the shipped DCAE decoder and vocoder: seconds of audio per second;
4. runs notebooks 02, 03 and 07 under MINIDCAE_PROFILE=gpu, every training capped at --notebook-steps steps,
   each in its own Python process executing its code cells in order (IPython display calls and widgets
   stubbed out, figures drawn off screen);
5. writes --out/gpu_check.json, benchmarks/results/gpu_check_gpu.json (the README's benchmark table reads it)
   and --out/rows.md: the README and INSTRUCTORS.md rows, with the machine named, to paste and commit.
With no CUDA GPU and no --dry-run it says so in one line and exits 2.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import types
from dataclasses import fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHEELS = ROOT / "gpu_wheels"
NOTEBOOKS = ("02_deep_compression", "03_training_for_real", "07_latent_diffusion")
MODELS = ("dcae", "vocoder", "transformer")
# what a GPU machine with its own Python may lack; --dry-run hides these to run as it would there
OPTIONAL = ("soundfile", "ipywidgets", "IPython", "nbclient", "jupyter", "mido", "pesto", "pystoi")


def fail(message: str) -> None:
    print(f"gpu_check: {message}", file=sys.stderr)
    sys.exit(2)


def bring_wheels() -> str | None:
    """Put gpu_wheels/ on sys.path: pure-Python wheels import straight from the zip; wheels with compiled
    parts (soundfile needs cffi) are installed with pip --no-index into a temp folder. Returns that folder."""
    wheels = sorted(WHEELS.glob("*.whl")) if WHEELS.is_dir() else []
    pure = [w for w in wheels if w.name.endswith("-none-any.whl")]
    sys.path[:0] = [str(w) for w in pure]
    compiled = [w for w in wheels if w not in pure]
    if not compiled:
        return os.pathsep.join(str(w) for w in pure) or None
    target = tempfile.mkdtemp(prefix="gpu_wheels_")
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-index", "--no-deps", "--target", target]
    if subprocess.run(cmd + [str(w) for w in compiled]).returncode != 0:
        print("gpu_check: could not install the compiled wheels in gpu_wheels/; going on without them", file=sys.stderr)
        return os.pathsep.join(str(w) for w in pure) or None
    sys.path.insert(0, target)
    return os.pathsep.join([target] + [str(w) for w in pure])


def hide_optional() -> None:
    for name in OPTIONAL:
        sys.modules[name] = None  # import raises ImportError, as where it is not installed


def train_rows(profile, device, steps: int, dtypes, batch_size=None) -> list[dict]:
    import torch

    from minidcae.throughput import measure, profiled_trainer

    rows = []
    for name in MODELS:
        for dtype in dtypes:
            trainer, next_batch, seconds = profiled_trainer(name, profile, device, batch_size, bf16=dtype == "bf16")
            r = measure(trainer, next_batch, steps, warmup=min(10, steps), seconds_per_item=seconds)
            r.update(model=name, dtype=dtype, steps=steps, batch_size=trainer.cfg.batch_size)
            r["parameters"] = sum(p.numel() for p in trainer.modules[next(iter(trainer.modules))].parameters())
            rows.append(r)
            peak = "-" if r["peak_bytes"] is None else f"{r['peak_bytes'] / 2**30:.2f} GiB"
            print(
                f"  {name:12s} {dtype:5s} batch {r['batch_size']:4d}: {r['samples_per_s']:9.1f} samples/s, "
                f"{r['ms_per_step']:8.1f} ms/step, peak {peak}, loss {r['losses']['loss']:.3f}",
                flush=True,
            )
            del trainer
            if device.type == "cuda":
                torch.cuda.empty_cache()
    return rows


def time_generation(profile, device, seconds: float, steps: int, dtype: str) -> dict:
    """Seconds of audio per second for `seconds` of audio: steps guided calls of a transformer of the
    profile's size, the shipped DCAE decoder and the shipped vocoder."""
    import torch

    from minidcae.benchmark import denoiser_cost, time_call
    from minidcae.config import SHIPPED_DCAE, SHIPPED_VOCODER
    from minidcae.dcae import load_autoencoder, mel_config_of
    from minidcae.transformer import LatentTransformer
    from minidcae.vocoder import load_vocoder, vocode

    ae, meta = load_autoencoder(SHIPPED_DCAE, device)
    mel = mel_config_of(meta)
    vocoder = load_vocoder(SHIPPED_VOCODER, device)[0]
    cfg = replace(
        profile.transformer, latent_channels=ae.cfg.latent_channels, latent_rows=mel.n_mels // ae.cfg.freq_factor
    )
    torch.manual_seed(0)
    model = LatentTransformer(cfg).to(device).eval()
    rate = mel.frame_rate / ae.cfg.time_factor
    frames = round(seconds * rate)
    with torch.autocast(device.type, torch.bfloat16, enabled=dtype == "bf16" and device.type == "cuda"):
        denoise = denoiser_cost(model, rate, seconds, steps, device, repeat=3)
    z = torch.randn(1, cfg.latent_channels, cfg.latent_rows, frames, device=device)
    shape = (mel.n_mels, frames * ae.cfg.time_factor)
    with torch.no_grad():
        decode = time_call(lambda: ae.decode(z, shape), device)
        x = ae.decode(z, shape)
        voc = time_call(lambda: vocode(vocoder, x, mel), device)
    total = denoise + decode + voc
    return {
        "dtype": dtype,
        "seconds": seconds,
        "steps": steps,
        "denoise_s": denoise,
        "decode_s": decode,
        "vocoder_s": voc,
        "audio_s_per_s": seconds / total,
    }


def capped_profile(profile, cap: int, clips: int = 256):
    """The profile with every training at most `cap` steps (adversarial phases too) and at most `clips` clips."""
    from minidcae.config import GenerationConfig, TrainConfig

    changes = {}
    for f in fields(profile):
        value = getattr(profile, f.name)
        if isinstance(value, TrainConfig):
            changes[f.name] = replace(
                value,
                steps=min(value.steps, cap),
                adv_steps=min(value.adv_steps, cap),
                n_clips=min(value.n_clips, clips),
                checkpoint_every=min(value.checkpoint_every, cap),
            )
        elif isinstance(value, GenerationConfig):
            changes[f.name] = replace(value, n_clips=min(value.n_clips, clips))
    return replace(profile, demo_ae_steps=min(profile.demo_ae_steps, cap), **changes)


def stub_display() -> None:
    """IPython.display and ipywidgets, where missing, as modules whose every name does nothing."""

    class Nothing:
        def __init__(self, *args, **kwargs):
            pass

        def __call__(self, *args, **kwargs):
            return Nothing()

        def __getattr__(self, name):
            return Nothing()

    for name in ("IPython", "IPython.display", "ipywidgets"):
        try:
            __import__(name)
        except ImportError:
            module = types.ModuleType(name)
            module.__getattr__ = lambda attr: Nothing()
            sys.modules[name] = module
    sys.modules["IPython"].display = sys.modules["IPython.display"]


def run_notebook(path: Path, cap: int) -> None:
    """Execute a notebook's code cells in order in this process (`--run-notebook`), under the capped gpu profile."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.show = lambda *a, **k: plt.close("all")
    stub_display()
    from minidcae import config

    config.PROFILES["gpu"] = capped_profile(config.PROFILES["gpu"], cap)
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    scope = {"__name__": "__main__", "display": lambda *a, **k: None}
    os.chdir(path.parent)  # notebooks refer to files relative to themselves
    for i, cell in enumerate(cells):
        source = "".join(cell["source"])
        lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        start = time.perf_counter()
        exec(compile("\n".join(lines), f"{path.name}[cell {i}]", "exec"), scope)
        print(f"    cell {i}: {time.perf_counter() - start:.1f} s", flush=True)


def notebooks(cap: int, extra_path: str | None, timeout: int) -> dict:
    out = {}
    for name in NOTEBOOKS:
        env = {**os.environ, "MINIDCAE_PROFILE": "gpu", "TQDM_DISABLE": "1", "MPLBACKEND": "Agg"}
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), extra_path, os.environ.get("PYTHONPATH")) if p)
        cmd = [sys.executable, __file__, "--run-notebook", str(ROOT / "notebooks" / f"{name}.ipynb")]
        start = time.perf_counter()
        try:
            done = subprocess.run(
                cmd + ["--notebook-steps", str(cap)], env=env, capture_output=True, text=True, timeout=timeout
            )
            lines = (done.stdout + done.stderr).strip().splitlines()
            status = "passed" if done.returncode == 0 else f"failed: {lines[-1] if lines else done.returncode}"
        except subprocess.TimeoutExpired:
            status = f"stopped after {timeout} s"
        out[name] = {"status": status, "seconds": round(time.perf_counter() - start, 1)}
        print(f"  {name}: {status} ({out[name]['seconds']} s)", flush=True)
    return out


def rows_markdown(result: dict) -> str:
    where, date = result["machine"], result["date"]
    t = {(r["model"], r["dtype"]): r for r in result["training"]}
    lines = ["README (benchmarks) and INSTRUCTORS.md rows, from tools/gpu_check.py:", ""]
    for model in MODELS:
        if (model, "fp32") in t and (model, "bf16") in t:
            a, b = t[model, "fp32"], t[model, "bf16"]
            peak = lambda r: "-" if r["peak_bytes"] is None else f"{r['peak_bytes'] / 2**30:.1f} GiB"  # noqa: E731
            lines.append(
                f"| gpu profile {model} training, batch {a['batch_size']} | fp32 {a['samples_per_s']:.0f} samples/s "
                f"(peak {peak(a)}), bf16 {b['samples_per_s']:.0f} samples/s (peak {peak(b)}): bf16 "
                f"{b['samples_per_s'] / a['samples_per_s']:.2f}x | {where} | {date} |"
            )
    for g in result["generation"]:
        lines.append(
            f"| gpu-size generation, {g['seconds']:g} s at {g['steps']} steps, {g['dtype']} | "
            f"{g['audio_s_per_s']:.0f}x real time (denoiser {g['denoise_s']:.3f} s, decoder {g['decode_s']:.3f} s, "
            f"vocoder {g['vocoder_s']:.3f} s) | {where} | {date} |"
        )
    for name, n in result.get("notebooks", {}).items():
        lines.append(
            f"| notebook {name} under `gpu`, steps capped at {result['notebook_steps']} | {n['status']}, {n['seconds']:.0f} s | {where} | {date} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200, help="timed training steps per model and precision")
    parser.add_argument("--notebook-steps", type=int, default=40, help="cap on every training inside the notebooks")
    parser.add_argument("--notebook-timeout", type=int, default=150, help="seconds each notebook may take")
    parser.add_argument("--out", default=str(ROOT / "runs" / "gpu_check"))
    parser.add_argument("--dry-run", action="store_true", help="on a CPU: tiny batches, 2 steps, no notebooks")
    parser.add_argument("--run-notebook", help=argparse.SUPPRESS)
    args = parser.parse_args()
    extra = bring_wheels()
    if args.run_notebook:
        run_notebook(Path(args.run_notebook), args.notebook_steps)
        return
    if args.dry_run:
        hide_optional()
    try:
        import torch
    except ImportError:
        fail("this Python has no torch; run it with the GPU machine's own python3")
    sys.path.insert(0, str(ROOT))
    if not args.dry_run and not torch.cuda.is_available():
        fail(f"no CUDA GPU here (torch {torch.__version__} sees none); run it on a GPU machine, or add --dry-run")
    try:
        from minidcae.config import get_profile
        from minidcae.recipe import hardware
    except ImportError as err:
        fail(f"the library does not import: {err}; run `make gpu-wheels` here and bring gpu_wheels/ along")
    device = torch.device("cpu" if args.dry_run else "cuda")
    if args.dry_run:
        torch.set_num_threads(1)
    profile = get_profile("gpu")
    where = hardware(device)
    start = time.perf_counter()
    print(f"gpu_check on {where}, torch {torch.__version__}, Python {sys.version.split()[0]}", flush=True)
    print("1. training, fp32 and bf16" if not args.dry_run else "1. training, dry run (batch 2, 2 steps, fp32)")
    dtypes = ("fp32",) if args.dry_run else ("fp32", "bf16")
    steps = 2 if args.dry_run else args.steps
    training = train_rows(profile, device, steps, dtypes, batch_size=2 if args.dry_run else None)
    print("2. generation at the gpu sizes")
    generation = []
    for dtype in dtypes:
        g = time_generation(profile, device, 10.0, 2 if args.dry_run else 30, dtype)
        generation.append(g)
        print(f"  {dtype}: {g['audio_s_per_s']:.1f} s of audio per second ({g['steps']} steps)", flush=True)
    result = {
        "machine": where,
        "date": time.strftime("%Y-%m-%d"),
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "dry_run": args.dry_run,
        "training": training,
        "generation": generation,
        "notebook_steps": args.notebook_steps,
    }
    if not args.dry_run:
        print(f"3. notebooks under gpu, training capped at {args.notebook_steps} steps")
        result["notebooks"] = notebooks(args.notebook_steps, extra, args.notebook_timeout)
    speedups = {
        m: next(r for r in training if r["model"] == m and r["dtype"] == "bf16")["samples_per_s"]
        / next(r for r in training if r["model"] == m and r["dtype"] == "fp32")["samples_per_s"]
        for m in MODELS
        if not args.dry_run
    }
    result["bf16_speedup"] = speedups
    result["summary"] = (
        ", ".join(f"{m} bf16 {s:.2f}x fp32" for m, s in speedups.items())
        + f"; generation {generation[-1]['audio_s_per_s']:.0f}x real time at gpu sizes ({where})"
    )
    result["seconds"] = round(time.perf_counter() - start, 1)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu_check.json").write_text(json.dumps(result, indent=2) + "\n")
    (out / "rows.md").write_text(rows_markdown(result))
    if not args.dry_run:
        (ROOT / "benchmarks" / "results" / "gpu_check_gpu.json").write_text(json.dumps(result, indent=2) + "\n")
    print(rows_markdown(result))
    print(f"gpu_check: finished in {result['seconds']:.0f} s; wrote {out / 'gpu_check.json'} and {out / 'rows.md'}")


if __name__ == "__main__":
    main()
