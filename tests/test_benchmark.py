"""The benchmark helpers: memory arithmetic, the crossover rule, and a small scaling run."""

import torch

from minidcae.bench.latency import against_limit, latency_verdict, latent_vs_waveform
from minidcae.bench.speed import (
    attention_memory,
    attention_peak_memory,
    attention_scaling,
    crossover,
    peak_bytes,
    time_call,
)
from minidcae.training.recipe import hardware


def test_naive_memory_grows_with_n_squared_and_linear_with_n():
    assert attention_memory("naive softmax", 1, 4, 2048, 32) == 4 * attention_memory("naive softmax", 1, 4, 1024, 32)
    small, big = attention_memory("linear", 1, 4, 1024, 32), attention_memory("linear", 1, 4, 2048, 32)
    assert 1.5 < big / small <= 2


def test_crossover_is_where_linear_wins_from_then_on():
    def row(n, naive, sdpa, linear):
        return {"tokens": n, "naive softmax s": naive, "torch sdpa s": sdpa, "linear s": linear}

    rows = [row(64, 1, 1, 2), row(128, 3, 1, 2), row(256, 9, 4, 3), row(512, None, 16, 4)]
    assert crossover(rows) == 256  # at 128 sdpa is still faster; a skipped kind does not count
    assert crossover(rows[:2]) is None


def test_a_small_scaling_run_skips_what_exceeds_the_budget():
    rows = attention_scaling(
        [64, 256], heads=2, head_dim=8, memory_budget_gb=256 * 256 * 2 * 2 * 4 / 2**30 * 0.99, repeat=1
    )
    assert rows[0]["naive softmax s"] is not None and rows[1]["naive softmax s"] is None
    assert rows[1]["linear s"] > 0 and rows[1]["torch sdpa s"] > 0
    assert time_call(lambda: sum(range(100)), repeat=2) >= 0
    assert "thread" in hardware("cpu")


def test_latency_verdict_calls_only_rows_clearly_past_the_claim():
    assert latency_verdict({"a": 0.97, "b": 0.96}) == "held"
    assert latency_verdict({"a": 0.5, "b": 0.84}) == "failed"
    assert latency_verdict({"a": 0.97, "b": 0.5}).startswith("depends")
    assert latency_verdict({"a": 0.91, "b": 0.92}).startswith("depends")  # near 90%: another machine may differ


def test_latent_vs_waveform_adds_up_and_the_waveform_path_sees_more_tokens():
    from minidcae.core.config import DEFAULT_MEL, TransformerConfig
    from minidcae.models.dcae import DCAE

    ae = DCAE().eval()
    cost = latent_vs_waveform(
        ae, DEFAULT_MEL, TransformerConfig(dim=32, depth=1, heads=2), 1.0, 4, measured_calls=2, repeat=1
    )
    assert cost["token_size"] == 8 * 16 and cost["tokens"] == {"latent": 11, "waveform": 172}
    for (attention, finish), saved in cost["saved"].items():
        latent_path = cost["denoise"]["latent", attention] + cost["decode"] + cost["finish"][finish]
        assert abs(saved - (1 - latent_path / cost["denoise"]["waveform", attention])) < 1e-12
    assert set(cost["finish"]) == {"Griffin-Lim"}  # no vocoder given


def test_peak_bytes_sees_a_known_allocation_whether_kept_or_freed():
    def two_in_turn():
        a = torch.ones(250_000)  # 1,000,000 bytes
        del a
        b = torch.ones(500_000)  # 2,000,000 bytes, allocated after a is freed
        return b

    assert 2_000_000 <= peak_bytes(two_in_turn) < 2_100_000
    assert 3_000_000 <= peak_bytes(lambda: (torch.ones(250_000), torch.ones(500_000))) < 3_100_000


def test_measured_attention_memory_follows_the_shapes():
    rows = attention_peak_memory([256, 512], memory_budget_gb=0.1)
    for r in rows:
        # naive softmax: the N x N scores and their softmax, 2 * H * N^2 * 4 bytes, within 10%
        assert abs(r["naive softmax peak"] / r["naive softmax estimate"] - 1) < 0.1
    growth = {k: rows[1][f"{k} peak"] / rows[0][f"{k} peak"] for k in ("naive softmax", "linear")}
    assert 3.8 < growth["naive softmax"] < 4.2 and 1.8 < growth["linear"] < 2.2  # N^2 and N
    assert attention_peak_memory([64], memory_budget_gb=1e-6)[0]["naive softmax peak"] is None  # over budget


def test_against_limit_of_a_hand_worked_cost():
    cost = {
        "tokens": {"latent": 10, "waveform": 160},  # limit 16x
        "denoise": {("latent", "linear"): 1.0, ("waveform", "linear"): 16.0},
        "saved": {("linear", "vocoder"): 1 - (1.0 + 1.0) / 16.0},  # decoder + vocoder cost another second
    }
    cost["denoise"] |= {("latent", "softmax"): 1.0, ("waveform", "softmax"): 32.0}
    out = against_limit(cost)
    assert out["limit"] == 16
    assert abs(out["rows"]["linear", "vocoder"]["speedup"] - 8) < 1e-9  # 16 s against 2 s
    assert abs(out["rows"]["linear", "vocoder"]["share"] - 0.5) < 1e-9
    assert out["rows"]["linear", "denoiser only"]["share"] == 1.0
    assert out["rows"]["softmax", "denoiser only"]["share"] == 2.0  # quadratic passes the linear limit
