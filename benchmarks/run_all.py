"""Run every benchmark and write their summary into README.md (between the benchmark markers).

    python benchmarks/run_all.py          (what `make benchmarks` runs)

Each figure in the table names the machine it was measured on. GPU rows come from
benchmarks/results/*_gpu.json when a GPU run left one; otherwise they say "not measured".
"""

import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
README = HERE.parent / "README.md"
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"
SCRIPTS = (
    "attention_scaling.py",
    "fast_paths.py",
    "latent_vs_waveform.py",
    "vocoder_speed.py",
    "few_step.py",
    "course_time.py",
)


SDPA_PATH = "softmax, SDPA (the model's)"  # fast_paths.py's name for the model's own path


def load(name):
    path = HERE / "results" / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def table() -> str:
    rows = ["| benchmark | result | machine | date |", "|---|---|---|---|"]
    att = load("attention_scaling")
    if att:
        big = att["rows"][-1]

        def ms(kind):
            s = big[f"{kind} s"]
            return "skipped (memory)" if s is None else f"{1000 * s:.1f} ms"

        rows.append(
            f"| attention at {big['tokens']:,} tokens (4 heads x 32) | naive softmax {ms('naive softmax')}, "
            f"torch SDPA {ms('torch sdpa')}, linear {ms('linear')}; linear is fastest from {att['crossover']} tokens | "
            f"{att['machine']} | {att['date']} |"
        )
    fp = load("fast_paths")
    if fp:
        wave = fp["tokens"]["waveform"]
        sec = fp["denoiser_seconds"]
        rows.append(
            f"| softmax self-attention in the model, {wave:,} tokens | torch SDPA "
            f"{sec[f'softmax, written out @ {wave}'] / sec[SDPA_PATH + f' @ {wave}']:.1f}x "
            f"faster than the written-out reference (equal to 1e-5, tested) | {fp['machine']} | {fp['date']} |"
        )
        if fp["compile"]:
            rows.append(
                f"| torch.compile against eager, {fp['seconds']:g} s clip | "
                + ", ".join(
                    f"{k} {v['speedup']:.2f}x (compiles in {v['compile s']:.0f} s)" for k, v in fp["compile"].items()
                )
                + f" | {fp['machine']} | {fp['date']} |"
            )
        mem = [r for r in fp["memory"] if r["naive softmax peak"] is not None][-1]
        last = fp["memory"][-1]
        rows.append(
            f"| attention peak memory, measured | {mem['tokens']:,} tokens: naive softmax "
            f"{mem['naive softmax peak'] / 2**20:.0f} MB; {last['tokens']:,} tokens: torch SDPA "
            f"{last['torch sdpa peak'] / 2**20:.1f} MB, linear {last['linear peak'] / 2**20:.1f} MB (grows "
            f"{fp['linear_memory_growth']:.2f}x as fast as tokens) | {fp['machine']} | {fp['date']} |"
        )
    lw = load("latent_vs_waveform")
    if lw:
        names = {"griffin_lim": "Griffin-Lim", "vocoder": "neural vocoder"}
        saved = ", ".join(
            f"{k.split('_')[1]} attention + {names[k.split('_', 2)[2]]} {100 * v:.1f}%"
            for k, v in lw.items()
            if k.startswith("saved_")
        )
        rows.append(
            f"| latent vs waveform diffusion, {lw['seconds']:g} s at {lw['steps']} steps | latency saved by the latent path: "
            f"{saved}"
            + (
                f"; as a share of the {lw['token_ratio']:.1f}x token-count limit: "
                + ", ".join(
                    f"{k.split('_')[1]} + {names.get(k.split('_', 2)[2], 'denoiser alone')} {100 * v:.0f}%"
                    for k, v in lw.items()
                    if k.startswith("share_")
                )
                if "token_ratio" in lw
                else ""
            )
            + f" | {lw['machine']} | {lw['date']} |"
        )
    vs = load("vocoder_speed")
    if vs:
        r = vs["rows"]
        rows.append(
            f"| latent to audio, {vs['seconds']:g} s | "
            + ", ".join(f"{k} {vs['seconds'] / v:.0f}x real time" for k, v in r.items())
            + f" | {vs['machine']} | {vs['date']} |"
        )
    fs = load("few_step")
    if fs:
        teacher, students = fs["rows"][0], fs["rows"][1:]
        held = [v["steps"] for v in fs["verdicts"] if v["accuracy_within_2_points"] and v["kad_in_teacher_interval"]]
        rows.append(
            f"| few-step generation (reflow), {fs['seconds']:g} s clip end to end | teacher at {teacher['steps']} steps "
            f"{teacher['audio_per_second']:.1f}x real time; student "
            + ", ".join(
                f"{r['steps']} step{'s' if r['steps'] > 1 else ''} {r['audio_per_second']:.1f}x" for r in students
            )
            + f", 1 step compiled {fs['compiled']['audio_per_second']:.1f}x; instrument accuracy within 2 points of the "
            f"teacher and KAD inside its interval at {', '.join(map(str, held)) or 'no'} step(s) | {fs['machine']} | {fs['date']} |"
        )
    ct = load("course_time")
    if ct:
        rows.append(
            f"| the course under strict nbval (`ci`) | {len(ct['notebooks'])} notebooks in {ct['total_seconds']:.0f} s "
            f"(slowest: {max(ct['notebooks'], key=ct['notebooks'].get).split('/')[-1]}, {max(ct['notebooks'].values()):.0f} s) | "
            f"{ct['machine']} | {ct['date']} |"
        )
    gpu = load("gpu_check_gpu")
    if not gpu:
        rows.append("| GPU training throughput | not measured: no GPU was available | - | - |")
        return "\n".join(rows)
    where = f"{gpu['machine']} | {gpu['date']}"
    by_model = {}
    for r in gpu.get("training", []):
        by_model.setdefault((r["model"], r["batch_size"]), []).append(f"{r['dtype']} {r['samples_per_s']:,.0f}")
    rows.append(
        "| `gpu` profile training, samples/s (`make gpu-check`) | "
        + "; ".join(f"{m} (batch {b}) {', '.join(v)}" for (m, b), v in by_model.items())
        + (f"; not measured: {', '.join(gpu['skipped'])}" if gpu.get("skipped") else "")
        + f" | {where} |"
    )
    rows.append(
        "| generation at the `gpu` sizes, end to end (`make gpu-check`) | "
        + "; ".join(
            f"{g['what']}, {g['seconds']:g} s at {g['steps']} step{'s' if g['steps'] > 1 else ''}: "
            f"{g['audio_s_per_s']:,.0f}x real time"
            for g in gpu.get("generation", [])
        )
        + f" | {where} |"
    )
    return "\n".join(rows)


def main(run: bool = True) -> None:
    if run:
        for script in SCRIPTS:
            print(f"== {script}", flush=True)
            subprocess.run([sys.executable, str(HERE / script)], check=True)
    text = README.read_text()
    if START not in text:
        sys.exit(f"README.md has no {START} marker")
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1]
    README.write_text(f"{head}{START}\n{table()}\n{END}{tail}")
    print(f"wrote the benchmark table into {README}")


if __name__ == "__main__":
    main(run="--table-only" not in sys.argv)
