"""Latent against waveform diffusion: the cost of generating one second of audio, same denoiser.

    python benchmarks/latent_vs_waveform.py [--device cuda] [--seconds 10] [--steps 30]

The same transformer (get_profile("cpu").transformer sizes, 128 numbers per token) denoises either
  latent:    one token per latent frame (8 channels x 16 rows = 128 numbers), 10.8 tokens per second,
             then the DCAE decoder and Griffin-Lim (or the neural vocoder) make the audio;
  waveform:  one token per 128 raw samples, 172 tokens per second, and the audio is the output.
Each path runs `steps` guided velocity calls (a batch of 2: prompt and empty prompt). The table gives
seconds per generated second and the latency saved, to test the article's "over 90% lower latency".
Writes benchmarks/results/latent_vs_waveform.json.
"""

import argparse
from dataclasses import replace

import torch
from common import save

from minidcae.audio import griffin_lim
from minidcae.benchmark import denoiser_cost, time_call
from minidcae.config import SHIPPED_DCAE, SHIPPED_VOCODER, get_profile
from minidcae.dcae import load_autoencoder, mel_config_of
from minidcae.recipe import hardware
from minidcae.transformer import LatentTransformer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    device = torch.device(args.device)
    ae, meta = load_autoencoder(SHIPPED_DCAE, device)
    mel = mel_config_of(meta)
    base = get_profile("cpu").transformer
    latent_rate = mel.frame_rate / ae.cfg.time_factor  # latent frames per second
    token = ae.cfg.latent_channels * mel.n_mels // ae.cfg.freq_factor  # 128 numbers per latent token
    wave_rate = mel.sample_rate / token  # one token per `token` samples
    rows = {}
    for attention in ("linear", "softmax"):
        torch.manual_seed(0)
        lat = (
            LatentTransformer(
                replace(
                    base,
                    latent_channels=ae.cfg.latent_channels,
                    latent_rows=mel.n_mels // ae.cfg.freq_factor,
                    attention=attention,
                )
            )
            .to(device)
            .eval()
        )
        wav = (
            LatentTransformer(replace(base, latent_channels=1, latent_rows=token, attention=attention))
            .to(device)
            .eval()
        )
        assert sum(p.numel() for p in lat.parameters()) == sum(p.numel() for p in wav.parameters())
        rows[f"latent, {attention}"] = denoiser_cost(lat, latent_rate, args.seconds, args.steps, device)
        rows[f"waveform, {attention}"] = denoiser_cost(wav, wave_rate, args.seconds, args.steps, device)
    frames = round(args.seconds * latent_rate)
    z = torch.randn(1, ae.cfg.latent_channels, mel.n_mels // ae.cfg.freq_factor, frames, device=device)
    with torch.no_grad():
        decode = time_call(lambda: ae.decode(z, (mel.n_mels, frames * ae.cfg.time_factor)), device)
        x = ae.decode(z, (mel.n_mels, frames * ae.cfg.time_factor))[0].float().cpu()
    gl = time_call(lambda: griffin_lim(x, mel, 32))
    vocoder_s = None
    if SHIPPED_VOCODER.exists():
        from minidcae.vocoder import load_vocoder, vocode

        vocoder, _ = load_vocoder(SHIPPED_VOCODER)
        vocoder_s = time_call(lambda: vocode(vocoder, x, mel))
    where = hardware(device)
    print(
        f"{args.seconds:g} s of audio, {args.steps} guided steps, {sum(p.numel() for p in lat.parameters()) / 1e6:.2f} M-parameter "
        f"denoiser, on {where}"
    )
    print(
        f"tokens: latent {frames} ({latent_rate:.2f}/s), waveform {round(args.seconds * wave_rate)} ({wave_rate:.1f}/s)"
    )
    print(
        f"decode: DCAE decoder {decode:.3f} s, Griffin-Lim (32) {gl:.3f} s"
        + (f", neural vocoder {vocoder_s:.3f} s" if vocoder_s is not None else "")
    )
    result = {
        "machine": where,
        "device": str(device),
        "seconds": args.seconds,
        "steps": args.steps,
        "denoiser_seconds": rows,
        "decoder_seconds": decode,
        "griffin_lim_seconds": gl,
        "vocoder_seconds": vocoder_s,
    }
    print(
        f"{'attention':9s} {'waveform s/s':>12s} {'latent+GL s/s':>13s} {'saved':>7s} {'latent+vocoder s/s':>18s} {'saved':>7s}"
    )
    for attention in ("linear", "softmax"):
        waveform = rows[f"waveform, {attention}"] / args.seconds
        with_gl = (rows[f"latent, {attention}"] + decode + gl) / args.seconds
        result[f"saved_{attention}_griffin_lim"] = 1 - with_gl / waveform
        line = f"{attention:9s} {waveform:12.4f} {with_gl:13.4f} {100 * (1 - with_gl / waveform):6.1f}%"
        if vocoder_s is not None:
            with_voc = (rows[f"latent, {attention}"] + decode + vocoder_s) / args.seconds
            result[f"saved_{attention}_vocoder"] = 1 - with_voc / waveform
            line += f" {with_voc:18.4f} {100 * (1 - with_voc / waveform):6.1f}%"
        print(line)
    print(f"wrote {save('latent_vs_waveform', result)}")


if __name__ == "__main__":
    main()
