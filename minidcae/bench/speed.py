"""Measuring speed honestly: ours against the reference way, side by side, in one run.

    time_call           the median wall time of a call, after warm-up (CUDA synchronised)
    attention_memory    bytes the largest intermediate tensors of each attention need (computed from shapes)
    peak_bytes          the measured peak of memory allocated while a call runs (CPU: the profiler; CUDA: the allocator)
    attention_peak_memory  peak_bytes of each attention, by tokens: the measured side of attention_memory
    compile_speedup     eager against torch.compile'd seconds of the same call, and the compile's own seconds
    attention_scaling   naive softmax vs torch's scaled_dot_product_attention vs linear attention, by tokens
    crossover           the first token count from which linear attention is faster than both others

The article's latency claim (latent tokens against raw-sample tokens) is minidcae.bench.latency. The scripts
in benchmarks/ call these and print tables, naming the machine with recipe.hardware; notebook 06 (linear
attention) calls them with small sizes.
"""

from __future__ import annotations

import statistics
import time

import torch
import torch.nn.functional as F

from minidcae.models.attention import linear_attention, sdpa_attention, softmax_attention

KINDS = ("naive softmax", "torch sdpa", "linear")


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def time_call(fn, device="cpu", repeat: int = 5, warmup: int = 1, budget_s: float = 30.0) -> float:
    """Median seconds of fn() over `repeat` runs after `warmup` runs; fewer runs if they are slow."""
    for _ in range(warmup):
        fn()
    _sync(device)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        _sync(device)
        times.append(time.perf_counter() - start)
        if sum(times) > budget_s:
            break
    return statistics.median(times)


def attention_memory(kind: str, b: int, h: int, n: int, d: int, bytes_per: int = 4) -> int:
    """Bytes of the largest intermediates: naive softmax keeps the N x N scores and their softmax;
    SDPA (fused, flash or memory-efficient) keeps O(N d); linear keeps phi(K)^T [V | 1] (d x (d + 1))
    plus its output with the extra column."""
    if kind == "naive softmax":
        return 2 * b * h * n * n * bytes_per
    if kind == "torch sdpa":
        return 4 * b * h * n * d * bytes_per  # q, k, v and the output, no N x N table when fused
    return (b * h * d * (d + 1) + b * h * n * (d + 1)) * bytes_per


@torch.no_grad()
def attention_scaling(
    tokens: list[int],
    heads: int = 4,
    head_dim: int = 32,
    batch: int = 1,
    device="cpu",
    memory_budget_gb: float = 4.0,
    repeat: int = 3,
) -> list[dict]:
    """One row per token count: seconds and bytes for each kind. Bytes are attention_memory's
    estimate on a CPU and the measured peak above q, k, v on CUDA. A kind whose intermediates would
    exceed memory_budget_gb is skipped (seconds None) instead of exhausting the machine; on CUDA an
    out-of-memory error is caught and reported the same way."""
    rows = []
    for n in tokens:
        g = torch.Generator(device=device).manual_seed(0)
        q, k, v = (torch.randn(batch, heads, n, head_dim, generator=g, device=device) for _ in range(3))
        # each call binds this size's q, k, v (default arguments), not the loop's last ones
        calls = {
            "naive softmax": lambda q=q, k=k, v=v: softmax_attention(q, k, v),
            "torch sdpa": lambda q=q, k=k, v=v: F.scaled_dot_product_attention(q, k, v),
            "linear": lambda q=q, k=k, v=v: linear_attention(q, k, v),
        }
        row = {"tokens": n}
        for kind in KINDS:
            need = attention_memory(kind, batch, heads, n, head_dim)
            row[f"{kind} bytes"] = need
            seconds = None
            if need <= memory_budget_gb * 2**30:
                cuda = torch.device(device).type == "cuda"
                if cuda:
                    torch.cuda.reset_peak_memory_stats(device)
                try:
                    seconds = time_call(calls[kind], device, repeat)
                    if cuda:  # on a GPU the peak is measured, not estimated
                        row[f"{kind} bytes"] = torch.cuda.max_memory_allocated(device) - 3 * q.numel() * 4
                except torch.OutOfMemoryError:
                    torch.cuda.empty_cache()
            row[f"{kind} s"] = seconds
        rows.append(row)
    return rows


def peak_bytes(fn, device="cpu") -> int:
    """The peak of bytes allocated by fn() above what was allocated before it, measured.

    CUDA: the caching allocator's own peak counter. CPU: torch.profiler with profile_memory records
    every allocation and free (+ and - nbytes, in time order); the running sum's maximum is the peak."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        fn()
        torch.cuda.synchronize(device)
        return torch.cuda.max_memory_allocated(device) - before
    from torch.profiler import ProfilerActivity, profile

    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        fn()
    events = sorted(
        (e for e in prof.profiler.kineto_results.events() if e.name() == "[memory]"), key=lambda e: e.start_ns()
    )
    live = peak = 0
    for e in events:
        # live_t = sum of nbytes up to t (allocations +, frees -); peak = max_t live_t
        live += e.nbytes()
        peak = max(peak, live)
    return peak


@torch.no_grad()
def attention_peak_memory(
    tokens: list[int], heads: int = 4, head_dim: int = 32, device="cpu", memory_budget_gb: float = 4.0
) -> list[dict]:
    """One row per token count: the measured peak bytes of each kind (None where attention_memory's
    estimate exceeds the budget) beside that estimate, so the formula can be checked."""
    calls = {"naive softmax": softmax_attention, "torch sdpa": sdpa_attention, "linear": linear_attention}
    rows = []
    for n in tokens:
        g = torch.Generator(device=device).manual_seed(0)
        q, k, v = (torch.randn(1, heads, n, head_dim, generator=g, device=device) for _ in range(3))
        row = {"tokens": n}
        for kind in KINDS:
            estimate = attention_memory(kind, 1, heads, n, head_dim)
            fits = estimate <= memory_budget_gb * 2**30
            row[f"{kind} estimate"] = estimate
            row[f"{kind} peak"] = peak_bytes(lambda f=calls[kind], q=q, k=k, v=v: f(q, k, v), device) if fits else None
        rows.append(row)
    return rows


def compile_speedup(fn, *inputs, device="cpu", repeat: int = 5) -> dict:
    """Seconds per call of fn(*inputs) (a module or a function) eager and through torch.compile (after its first call, which
    compiles: that call's seconds are reported apart). On a CPU, inductor writes and builds C++ (gcc)."""
    with torch.no_grad():
        eager = time_call(lambda: fn(*inputs), device, repeat)
        compiled = torch.compile(fn)
        start = time.perf_counter()
        compiled(*inputs)
        _sync(device)
        build = time.perf_counter() - start
        fast = time_call(lambda: compiled(*inputs), device, repeat)
    return {"eager s": eager, "compiled s": fast, "speedup": eager / fast, "compile s": build}


def crossover(rows: list[dict]) -> int | None:
    """The smallest token count from which linear attention beats every kind that still ran."""
    for i, row in enumerate(rows):
        if all(_linear_wins(r) for r in rows[i:]):
            return row["tokens"]
    return None


def _linear_wins(row: dict) -> bool:
    others = [row[f"{k} s"] for k in KINDS[:2] if row[f"{k} s"] is not None]
    return row["linear s"] is not None and all(row["linear s"] < s for s in others)
