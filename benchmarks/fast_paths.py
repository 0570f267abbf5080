"""Fast paths beside the readable ones, measured side by side in one run.

    python benchmarks/fast_paths.py [--device cuda] [--seconds 10] [--no-compile] [--max-tokens 16384]

1. The denoiser (get_profile("cpu").transformer sizes, a guided batch of 2) at the latent tokens of a
   clip of --seconds and at its waveform tokens (one per 128 samples): softmax self-attention written
   out (attention.softmax_attention) against the model's fused path (torch's SDPA), and linear attention.
2. torch.compile against eager, each call after compiling, with the compile's own seconds: the
   denoiser (linear and SDPA softmax), the shipped DCAE's decoder and the shipped vocoder, at --seconds.
3. Attention's peak memory against tokens, measured (benchmark.peak_bytes: the profiler's allocation
   record on a CPU, the allocator's peak on CUDA), beside attention_memory's estimate from shapes.
Writes benchmarks/results/fast_paths.json.
"""

import argparse
from dataclasses import replace

import torch
from common import fmt, save

from minidcae.bench.speed import KINDS, attention_peak_memory, compile_speedup, time_call
from minidcae.core.config import SHIPPED_DCAE, SHIPPED_VOCODER
from minidcae.core.profiles import get_profile
from minidcae.models.dcae import load_autoencoder, mel_config_of
from minidcae.models.text import tokenize
from minidcae.models.transformer import LatentTransformer, SelfAttention
from minidcae.models.vocoder import load_vocoder, vocode
from minidcae.training.recipe import hardware


def denoiser(attention: str, fused: bool, device) -> LatentTransformer:
    torch.manual_seed(0)
    model = LatentTransformer(replace(get_profile("cpu").transformer, attention=attention)).to(device).eval()
    for m in model.modules():
        if isinstance(m, SelfAttention):
            m.fused = fused
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--no-compile", action="store_true", help="skip torch.compile (about 3 minutes on a CPU)")
    parser.add_argument("--min-tokens", type=int, default=256)
    parser.add_argument("--max-tokens", type=int, default=16384)
    parser.add_argument("--budget-gb", type=float, default=2.0, help="skip a kind whose estimate needs more")
    args = parser.parse_args()
    device = torch.device(args.device)
    where = hardware(device)
    ae, meta = load_autoencoder(SHIPPED_DCAE, device)
    mel = mel_config_of(meta)
    vocoder = load_vocoder(SHIPPED_VOCODER, device)[0]
    frames = round(args.seconds * mel.frame_rate / ae.cfg.time_factor)  # latent tokens of the clip
    wave_tokens = round(args.seconds * mel.sample_rate / 128)  # one token per 128 samples
    ids, mask = (t.to(device) for t in tokenize(["happy piano", ""]))
    print(f"fast paths, {args.seconds:g} s of audio, on {where}")

    # 1. softmax written out against SDPA, and linear, at latent and waveform token counts
    paths = {
        "softmax, written out": denoiser("softmax", False, device),
        "softmax, SDPA (the model's)": denoiser("softmax", True, device),
        "linear": denoiser("linear", True, device),
    }
    calls = {}
    with torch.no_grad():
        for n in (frames, wave_tokens):
            x = torch.randn(2, 8, 16, n, device=device)  # (2, C, F, N): prompt and empty prompt
            for name, model in paths.items():
                calls[name, n] = time_call(lambda m=model, x=x: m(x, 0.5, ids, mask), device, repeat=5)
    reference = {n: calls["softmax, written out", n] for n in (frames, wave_tokens)}
    print("\n1. one guided denoiser call, ms (and speed-up over the written-out softmax)")
    print(f"{'path':28s} {f'{frames} tokens':>20s} {f'{wave_tokens} tokens':>20s}")
    for name in paths:
        cells = [f"{1000 * calls[name, n]:9.2f} ({reference[n] / calls[name, n]:5.2f}x)" for n in (frames, wave_tokens)]
        print(f"{name:28s} {cells[0]:>20s} {cells[1]:>20s}")

    # 2. torch.compile against eager, where the end-to-end time goes
    compiled = {}
    if not args.no_compile:
        x = torch.randn(2, 8, 16, frames, device=device)
        z = torch.randn(1, ae.cfg.latent_channels, mel.n_mels // ae.cfg.freq_factor, frames, device=device)
        shape = (mel.n_mels, frames * ae.cfg.time_factor)
        with torch.no_grad():
            log_mel = ae.decode(z, shape)  # (1, 1, n_mels, T)
        targets = {
            "denoiser, linear": (paths["linear"], x, 0.5, ids, mask),
            "denoiser, softmax SDPA": (paths["softmax, SDPA (the model's)"], x, 0.5, ids, mask),
            "DCAE decoder": (lambda z: ae.decode(z, shape), z),
            "vocoder": (lambda m: vocode(vocoder, m, mel), log_mel),
        }
        for name, (fn, *inputs) in targets.items():
            compiled[name] = compile_speedup(fn, *inputs, device=device)
        print(f"\n2. torch.compile against eager, {args.seconds:g} s clip ({frames} latent tokens)")
        print(f"{'call':24s} {'eager ms':>9s} {'compiled ms':>12s} {'speed-up':>9s} {'compile s':>10s}")
        for name, r in compiled.items():
            print(
                f"{name:24s} {1000 * r['eager s']:9.2f} {1000 * r['compiled s']:12.2f} "
                f"{r['speedup']:8.2f}x {r['compile s']:10.1f}"
            )

    # 3. attention memory against tokens, measured beside the estimate
    tokens, n = [], args.min_tokens
    while n <= args.max_tokens:
        tokens.append(n)
        n *= 2
    memory = attention_peak_memory(tokens, device=device, memory_budget_gb=args.budget_gb)
    print("\n3. attention's peak memory, MB measured (estimate from shapes), batch 1, 4 heads of 32, float32")
    print(f"{'tokens':>7s}" + "".join(f" {k:>22s}" for k in KINDS))
    for r in memory:
        cells = [
            f"{fmt(r[f'{k} peak'] and r[f'{k} peak'] / 2**20, '.2f', 'skipped')} ({r[f'{k} estimate'] / 2**20:.2f})"
            for k in KINDS
        ]
        print(f"{r['tokens']:7d}" + "".join(f" {c:>22s}" for c in cells))
    lin = [r["linear peak"] for r in memory]
    growth = (lin[-1] / lin[0]) / (memory[-1]["tokens"] / memory[0]["tokens"])
    print(f"linear attention's peak grows {growth:.2f}x as fast as the tokens (1.00 = exactly linear)")
    result = {
        "machine": where,
        "device": str(device),
        "seconds": args.seconds,
        "tokens": {"latent": frames, "waveform": wave_tokens},
        "denoiser_seconds": {f"{name} @ {n}": s for (name, n), s in calls.items()},
        "compile": compiled,
        "memory": memory,
        "linear_memory_growth": growth,
    }
    print(f"wrote {save('fast_paths', result)}")


if __name__ == "__main__":
    main()
