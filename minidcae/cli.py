"""The `minidcae` command: parses arguments, calls the library, prints. Nothing else lives here.

    minidcae synth --out DIR --n N --seconds S --seed K
    minidcae reconstruct IN OUT [--iters N]
    minidcae demo --out DIR [--profile ci|cpu|gpu]
    minidcae info

Bad input gives one line on stderr and exit status 2, never a traceback
(set MINIDCAE_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .config import PROFILE_NAMES, get_profile, pick_device, profile_name
from .errors import MinidcaeError


def cmd_info(args) -> None:
    print(f"profile: {profile_name(args.profile)}  device: {pick_device()}")


def cmd_synth(args) -> None:
    from .synth import write_dataset

    paths = write_dataset(args.out, args.n, args.seconds, args.seed, args.sample_rate)
    print(f"wrote {len(paths)} clips and metadata.csv to {args.out}")


def cmd_reconstruct(args) -> None:
    from .audio import AUDIO_SUFFIXES, griffin_lim, load_audio, log_mel, save_audio
    from .metrics import reconstruction_report

    if Path(args.output).suffix.lower() not in AUDIO_SUFFIXES:
        raise MinidcaeError(f"{args.output}: output must end in one of {', '.join(AUDIO_SUFFIXES)}")
    profile = get_profile(args.profile)
    cfg = profile.mel
    wav = load_audio(args.input, cfg.sample_rate, cfg.channels)  # (channels, samples)
    x = log_mel(wav, cfg, args.input)  # (channels, n_mels, frames)
    recon = griffin_lim(x, cfg, args.iters or profile.griffin_lim_iters)  # (channels, frames * hop)
    save_audio(args.output, recon, cfg.sample_rate)
    print(f"oracle round trip (log-mel -> Griffin-Lim, {args.iters or profile.griffin_lim_iters} iterations): "
          f"{wav.shape[-1] / cfg.sample_rate:.2f} s -> {args.output}")
    for key, value in reconstruction_report(wav, recon, cfg).items():
        print(f"  {key:22s} {value:8.3f}")


def cmd_demo(args) -> None:
    from .demo import run_demo

    run_demo(args.out, get_profile(args.profile))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minidcae", description="Learn latent audio generation step by step.")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name, func, help):
        p = sub.add_parser(name, help=help, description=help)
        p.set_defaults(func=func)
        return p

    p = add("info", cmd_info, "print the profile and device in use")
    p.add_argument("--profile", choices=PROFILE_NAMES)

    p = add("synth", cmd_synth, "write labelled synthetic clips (WAV) and metadata.csv")
    p.add_argument("--out", required=True, help="folder to write into")
    p.add_argument("--n", type=int, default=8, help="number of clips")
    p.add_argument("--seconds", type=float, default=4.0, help="length of each clip")
    p.add_argument("--seed", type=int, default=0, help="seed of the first clip; clip i uses seed + i")
    p.add_argument("--sample-rate", type=int, default=22050)

    p = add("reconstruct", cmd_reconstruct, "round-trip an audio file through log-mel and back, and measure it")
    p.add_argument("input", help="WAV, FLAC, OGG or MP3 file")
    p.add_argument("output", help="where to write the reconstruction")
    p.add_argument("--iters", type=int, default=None, help="Griffin-Lim iterations (default: the profile's)")
    p.add_argument("--profile", choices=PROFILE_NAMES)

    p = add("demo", cmd_demo, "run the pipeline on synthetic and bundled clips; write WAVs, figures, metrics")
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--profile", choices=PROFILE_NAMES)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except KeyboardInterrupt:
        print("minidcae: interrupted", file=sys.stderr)
        return 130
    except (MinidcaeError, OSError, ValueError) as err:
        if os.environ.get("MINIDCAE_DEBUG"):
            raise
        print(f"minidcae: error: {err}", file=sys.stderr)
        return 2
    except Exception as err:  # a bug, not bad input: still one line, with a way to see more
        if os.environ.get("MINIDCAE_DEBUG"):
            raise
        print(f"minidcae: unexpected {type(err).__name__}: {err} (set MINIDCAE_DEBUG=1 for the traceback)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
