"""The article's latency claim, measured: the same transformer denoising latent tokens against raw-sample tokens.

    denoiser_cost       seconds per generated second of audio for the same transformer on latent tokens
                        and on raw-sample tokens
    latent_vs_waveform  the claim: both paths end to end (notebook 07 and benchmarks/latent_vs_waveform.py)
    against_limit       latent_vs_waveform's speed-ups as a share of their limit, the ratio of token counts
    latency_verdict     held, failed, or depends: the claim's verdict from the measured saving

Timing is minidcae.bench.speed's time_call (median after warm-up, CUDA synchronised). Taught in notebook 07
(latent diffusion).
"""

from __future__ import annotations

import torch

from minidcae.bench.speed import time_call


@torch.no_grad()
def denoiser_cost(model, tokens_per_second: float, seconds: float, steps: int, device="cpu", repeat: int = 3) -> float:
    """Wall seconds for `steps` velocity calls (guidance doubles the batch) on a clip of `seconds`,
    at tokens_per_second tokens (model: a LatentTransformer; give the latent and the waveform
    denoiser the same token size, so only the number of tokens differs)."""
    from minidcae.models.text import tokenize

    n = max(1, round(seconds * tokens_per_second))
    cfg = model.cfg
    x = torch.randn(2, cfg.latent_channels, cfg.latent_rows, n, device=device)  # (2, C, F, N): cond + uncond
    ids, mask = (t.to(device) for t in tokenize(["happy piano", ""]))

    def run():
        for i in range(steps):
            model(x, i / steps, ids, mask)

    return time_call(run, device, repeat, warmup=1)


def latent_vs_waveform(
    autoencoder,
    mel,
    base,
    seconds: float,
    steps: int,
    device="cpu",
    vocoder=None,
    measured_calls: int | None = None,
    repeat: int = 3,
) -> dict:
    """The seed article's "latent diffusion cuts latency by over 90%", measured (notebook 07 and
    benchmarks/latent_vs_waveform.py): the same transformer (base's sizes, fresh weights: speed does
    not depend on training) denoises either
      latent tokens    one per latent frame (C x F' = 128 numbers), then the DCAE decoder and
                       Griffin-Lim (or the neural vocoder) make the audio, or
      waveform tokens  one per 128 raw samples, and its output is the audio.
    `measured_calls` guided velocity calls are timed (all `steps` when None) and scaled to `steps`.
    Returns the token counts, the seconds of each part, and the latency saved,
    1 - latent path / waveform path, for each (attention, finish)."""
    from dataclasses import replace

    from minidcae.models.transformer import LatentTransformer
    from minidcae.models.vocoder import vocode
    from minidcae.sound.audio import griffin_lim

    cfg = autoencoder.cfg
    rows = mel.n_mels // cfg.freq_factor  # F': latent rows
    token = cfg.latent_channels * rows  # numbers per latent token (128 for the shipped DCAE)
    latent_rate = mel.frame_rate / cfg.time_factor  # latent tokens per second
    wave_rate = mel.sample_rate / token  # waveform tokens per second, `token` samples each
    calls = measured_calls or steps
    denoise = {}  # (path, attention) -> seconds for `steps` guided calls
    for attention in ("linear", "softmax"):
        torch.manual_seed(0)
        on_latent = (
            LatentTransformer(replace(base, latent_channels=cfg.latent_channels, latent_rows=rows, attention=attention))
            .to(device)
            .eval()
        )
        on_wave = (
            LatentTransformer(replace(base, latent_channels=1, latent_rows=token, attention=attention))
            .to(device)
            .eval()
        )
        # the same network but for the input and output projections' shapes: equal parameter counts
        assert sum(p.numel() for p in on_latent.parameters()) == sum(p.numel() for p in on_wave.parameters())
        for path, model, rate in (("latent", on_latent, latent_rate), ("waveform", on_wave, wave_rate)):
            denoise[path, attention] = denoiser_cost(model, rate, seconds, calls, device, repeat) * steps / calls
    frames = round(seconds * latent_rate)
    z = torch.randn(1, cfg.latent_channels, rows, frames, device=device)  # (1, C, F', T')
    shape = (mel.n_mels, frames * cfg.time_factor)
    with torch.no_grad():
        decode = time_call(lambda: autoencoder.decode(z, shape), device, repeat)
        x = autoencoder.decode(z, shape)[0].float().cpu()  # (1, n_mels, T)
    finish = {"Griffin-Lim": time_call(lambda: griffin_lim(x, mel, 32), repeat=repeat)}
    if vocoder is not None:
        finish["vocoder"] = time_call(lambda: vocode(vocoder, x, mel), repeat=repeat)
    # saved = 1 - (steps calls on latent tokens + decoder + finish) / (steps calls on waveform tokens)
    saved = {
        (a, f): 1 - (denoise["latent", a] + decode + s) / denoise["waveform", a]
        for a in ("linear", "softmax")
        for f, s in finish.items()
    }
    return {
        "tokens": {"latent": frames, "waveform": round(seconds * wave_rate)},
        "token_size": token,
        "rates": {"latent": latent_rate, "waveform": wave_rate},
        "denoise": denoise,
        "decode": decode,
        "finish": finish,
        "saved": saved,
        "denoiser_saved": {a: 1 - denoise["latent", a] / denoise["waveform", a] for a in ("linear", "softmax")},
    }


def against_limit(cost: dict) -> dict:
    """latent_vs_waveform's result against its limit. At equal steps and a cost linear in tokens, the
    latent path can be at most (waveform tokens / latent tokens) times faster: the limit (about 16x).
    For each (attention, finish): the measured speed-up, waveform seconds / latent seconds, and that
    speed-up as a share of the limit; the same for the denoiser alone. Softmax's cost grows as N^2,
    so its denoiser can pass the linear limit (a share above 1); the decoder and finish only lower it."""
    limit = cost["tokens"]["waveform"] / cost["tokens"]["latent"]  # the token-count ratio
    denoise = cost["denoise"]
    rows = {}
    for attention, finish in cost["saved"]:
        # speed-up = T_waveform / (T_latent denoise + T_decode + T_finish) = 1 / (1 - saved)
        speedup = 1 / (1 - cost["saved"][attention, finish])
        rows[attention, finish] = {"speedup": speedup, "share": speedup / limit}
    for attention in ("linear", "softmax"):
        speedup = denoise["waveform", attention] / denoise["latent", attention]
        rows[attention, "denoiser only"] = {"speedup": speedup, "share": speedup / limit}
    return {"limit": limit, "rows": rows}


def latency_verdict(saved: dict, claim: float = 0.9, margin: float = 0.05) -> str:
    """held / failed / depends for "saves over `claim`", called only on rows clearly past it: a row
    within `margin` of the claim could fall either side on another machine, so it decides nothing."""
    over = [s > claim + margin for s in saved.values()]
    under = [s < claim - margin for s in saved.values()]
    if all(over):
        return "held"
    if all(under):
        return "failed"
    return "depends on the attention (and the decoder)"
