"""Attention cost against the number of tokens: naive softmax, torch's SDPA and linear attention.

    python benchmarks/attention_scaling.py [--device cuda] [--max-tokens 65536] [--budget-gb 4]

Prints a table (milliseconds per call, memory of the intermediates) and the crossover: the token
count from which linear attention beats both softmax versions. Writes benchmarks/results/attention_scaling.json.
"""

import argparse

import torch
from common import fmt, save

from minidcae.bench.speed import KINDS, attention_scaling, crossover
from minidcae.training.recipe import hardware


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--min-tokens", type=int, default=64)
    parser.add_argument("--max-tokens", type=int, default=32768)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--head-dim", type=int, default=32)
    parser.add_argument("--budget-gb", type=float, default=4.0, help="skip a kind whose intermediates need more")
    args = parser.parse_args()
    tokens, n = [], args.min_tokens
    while n <= args.max_tokens:
        tokens.append(n)
        n *= 2
    rows = attention_scaling(tokens, args.heads, args.head_dim, device=args.device, memory_budget_gb=args.budget_gb)
    where = hardware(args.device)
    print(f"attention, batch 1, {args.heads} heads of {args.head_dim}, float32, on {where}")
    print(
        f"{'tokens':>7s}" + "".join(f" {k + ' ms':>17s}" for k in KINDS) + "".join(f" {k + ' MB':>17s}" for k in KINDS)
    )
    for r in rows:
        ms = [None if r[f"{k} s"] is None else 1000 * r[f"{k} s"] for k in KINDS]
        print(
            f"{r['tokens']:7d}"
            + "".join(f" {fmt(m, '17.3f'):>17s}" for m in ms)
            + "".join(f" {r[f'{k} bytes'] / 2**20:17.1f}" for k in KINDS)
        )
    cross = crossover(rows)
    print(
        f"crossover: linear attention is the fastest from {cross} tokens on"
        if cross
        else "crossover: linear attention never stays the fastest in this range"
    )
    print(
        f"wrote {save('attention_scaling', {'machine': where, 'device': args.device, 'rows': rows, 'crossover': cross})}"
    )


if __name__ == "__main__":
    main()
