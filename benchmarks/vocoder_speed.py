"""From latent to sound: the DCAE decoder plus the neural vocoder against the decoder plus Griffin-Lim.

    python benchmarks/vocoder_speed.py [--seconds 10]

Both start from the same latent of a held-out synthetic clip; the table gives wall seconds and
the real-time factor (seconds of audio per second). Writes benchmarks/results/vocoder_speed.json.
"""

import argparse

import torch
from common import save

from minidcae.bench.speed import time_call
from minidcae.core.config import SHIPPED_DCAE, SHIPPED_VOCODER
from minidcae.models.dcae import load_autoencoder, mel_config_of
from minidcae.models.vocoder import load_vocoder, vocode
from minidcae.sound.audio import griffin_lim, log_mel
from minidcae.sound.synth import HELDOUT_SEED_BASE, synth_clip
from minidcae.training.recipe import hardware


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    ae, meta = load_autoencoder(SHIPPED_DCAE)
    vocoder, _ = load_vocoder(SHIPPED_VOCODER)
    mel = mel_config_of(meta)
    x = log_mel(torch.from_numpy(synth_clip(HELDOUT_SEED_BASE, args.seconds, mel.sample_rate)[0])[None], mel)
    with torch.no_grad():
        z = ae.encode(x[None])
    decode = lambda: ae.decode(z, x.shape[-2:])[0]  # noqa: E731
    with torch.no_grad():
        rows = {
            "DCAE decoder + Griffin-Lim (32)": time_call(lambda: griffin_lim(decode(), mel, 32)),
            "DCAE decoder + neural vocoder": time_call(lambda: vocode(vocoder, decode(), mel)),
        }
    where = hardware("cpu")
    print(f"{args.seconds:g} s of audio from its latent, on {where}")
    for name, s in rows.items():
        print(f"  {name:32s} {s:7.3f} s   {args.seconds / s:6.1f} s of audio per second")
    ratio = rows["DCAE decoder + Griffin-Lim (32)"] / rows["DCAE decoder + neural vocoder"]
    print(f"  the neural vocoder path is {ratio:.1f}x faster")
    print(f"wrote {save('vocoder_speed', {'machine': where, 'seconds': args.seconds, 'rows': rows, 'speedup': ratio})}")


if __name__ == "__main__":
    main()
