"""Latent against waveform diffusion: the cost of generating one second of audio, same denoiser.

    python benchmarks/latent_vs_waveform.py [--device cuda] [--seconds 10] [--steps 30]

The same transformer (get_profile("cpu").transformer sizes, 128 numbers per token) denoises either
  latent:    one token per latent frame (8 channels x 16 rows = 128 numbers), 10.8 tokens per second,
             then the DCAE decoder and Griffin-Lim (or the neural vocoder) make the audio;
  waveform:  one token per 128 raw samples, 172 tokens per second, and the audio is the output.
Each path runs `steps` guided velocity calls (a batch of 2: prompt and empty prompt). The table gives
seconds per generated second and the latency saved, to test the article's "over 90% lower latency"
(minidcae.bench.latency.latent_vs_waveform, which notebook 07 runs in small). A second table puts each
speed-up against its limit at equal steps, the ratio of token counts (benchmark.against_limit);
softmax self-attention runs through torch's SDPA, as in the model.
Writes benchmarks/results/latent_vs_waveform.json.
"""

import argparse

import torch
from common import save

from minidcae.bench.latency import against_limit, latency_verdict, latent_vs_waveform
from minidcae.core.config import SHIPPED_DCAE, SHIPPED_VOCODER
from minidcae.core.profiles import get_profile
from minidcae.models.dcae import load_autoencoder, mel_config_of
from minidcae.models.vocoder import load_vocoder
from minidcae.training.recipe import hardware

FINISH_KEYS = {"Griffin-Lim": "griffin_lim", "vocoder": "vocoder"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    device = torch.device(args.device)
    ae, meta = load_autoencoder(SHIPPED_DCAE, device)
    mel = mel_config_of(meta)
    vocoder = load_vocoder(SHIPPED_VOCODER)[0] if SHIPPED_VOCODER.exists() else None
    cost = latent_vs_waveform(ae, mel, get_profile("cpu").transformer, args.seconds, args.steps, device, vocoder)
    where = hardware(device)
    print(f"{args.seconds:g} s of audio, {args.steps} guided steps, on {where}")
    print(
        f"tokens: latent {cost['tokens']['latent']} ({cost['rates']['latent']:.2f}/s), "
        f"waveform {cost['tokens']['waveform']} ({cost['rates']['waveform']:.1f}/s)"
    )
    print(
        f"decode: DCAE decoder {cost['decode']:.3f} s, "
        + ", ".join(f"{name} {s:.3f} s" for name, s in cost["finish"].items())
    )
    result = {
        "machine": where,
        "device": str(device),
        "seconds": args.seconds,
        "steps": args.steps,
        "denoiser_seconds": {f"{path}, {attention}": s for (path, attention), s in cost["denoise"].items()},
        "decoder_seconds": cost["decode"],
        "griffin_lim_seconds": cost["finish"]["Griffin-Lim"],
        "vocoder_seconds": cost["finish"].get("vocoder"),
        "verdict": latency_verdict(cost["saved"]),
    }
    print(f"{'attention':9s} {'finish':12s} {'waveform s/s':>12s} {'latent s/s':>10s} {'saved':>7s}")
    for (attention, finish), saved in cost["saved"].items():
        result[f"saved_{attention}_{FINISH_KEYS[finish]}"] = saved
        waveform = cost["denoise"]["waveform", attention] / args.seconds
        print(f"{attention:9s} {finish:12s} {waveform:12.4f} {waveform * (1 - saved):10.4f} {100 * saved:6.1f}%")
    print(f'claim "latent diffusion cuts latency by over 90%": {result["verdict"]}')
    limit = against_limit(cost)
    result["token_ratio"] = limit["limit"]
    print(
        f"against the limit: at equal steps the latent path is at most {limit['limit']:.1f}x faster "
        f"(the token-count ratio), a saving of at most {100 * (1 - 1 / limit['limit']):.1f}% for a cost linear in tokens"
    )
    print(f"{'attention':9s} {'finish':14s} {'speed-up':>9s} {'share of limit':>15s}")
    for (attention, finish), row in limit["rows"].items():
        key = FINISH_KEYS.get(finish, "denoiser")
        result[f"share_{attention}_{key}"] = row["share"]
        print(f"{attention:9s} {finish:14s} {row['speedup']:8.1f}x {100 * row['share']:14.0f}%")
    print(f"wrote {save('latent_vs_waveform', result)}")


if __name__ == "__main__":
    main()
