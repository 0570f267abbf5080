"""The `minidcae` command: one parser made of three groups of commands, and the one-line errors.

    minidcae synth --out DIR --n N --seconds S --seed K [--voice bell]
    minidcae reconstruct IN OUT [--checkpoint CKPT] [--iters N] [--vocoder griffin-lim|neural --vocoder-checkpoint V]
    minidcae encode IN OUT.safetensors --checkpoint CKPT
    minidcae decode IN.safetensors OUT --checkpoint CKPT [--iters N] [--vocoder griffin-lim|neural ...]
    minidcae evaluate --checkpoint CKPT --data DIR --out REPORT.json [--iters N] [--max-seconds S]
    minidcae search "happy piano" --data DIR [--top K] [--checkpoint CLAP]
    minidcae demo --out DIR [--profile ci|cpu|gpu]
    minidcae info
    minidcae train-ae --profile ci|cpu|gpu --out DIR [key=value ...] [--resume]
    minidcae train-vocoder --profile ci|cpu|gpu --out DIR [--extra-audio DIR ...] [key=value ...] [--resume]
    minidcae sweep --profile ci|cpu|gpu --out DIR [--points t8c4,t16c4]
    minidcae train-classifier --profile ci|cpu|gpu --out DIR [key=value ...]
    minidcae train-clap --profile ci|cpu|gpu --out DIR [key=value ...]
    minidcae train-transformer --profile ci|cpu|gpu --autoencoder CKPT --out DIR [--classifier C] [key=value ...]
    minidcae train-melody --profile ci|cpu|gpu --out DIR [--init TRANSFORMER --melody cross|add] [key=value ...]
    minidcae distill --profile ci|cpu|gpu --out DIR [--teacher TRANSFORMER --pairs N] [key=value ...]
    minidcae evaluate-melody --checkpoint MELODY_TRANSFORMER [--text TRANSFORMER --autoencoder AE]
    minidcae train-lora --clips DIR --word WORD --out DIR [--rank R --alpha A --layers attn.qkv,... --profile P]
    minidcae generate "happy piano, 120 bpm" OUT.wav [--seconds 8 --steps 30 --cfg 3 --seed 0 --sampler euler|heun]
                      [--checkpoint TRANSFORMER --autoencoder AE --vocoder griffin-lim|neural --vocoder-checkpoint V]
                      [--melody TUNE.mid --melody-track N --melody-fill loop|pad --melody-scale 2]
                      [--guidance cfg|apg --retake ANGLE --guidance-interval 0.5 --guidance-decay 1]
                      [--lora ADAPTER ...]
    minidcae edit IN OUT (--repaint START:END | --extend SECONDS) --prompt P [--guidance cfg|apg --margin 4 --strength 1]
                  [--vocoder griffin-lim|neural --vocoder-checkpoint V]

The commands on files are minidcae.cli.audio_commands, the recipes minidcae.cli.train_commands, generating and
editing minidcae.cli.generate_commands; each declares its options (the shared ones, minidcae.cli.arguments, once)
beside what it does. Bad input gives one line on stderr and exit status 2, never a traceback (set
MINIDCAE_DEBUG=1 to see one). The commands are the README's.
"""

from __future__ import annotations

import argparse
import os
import sys

from minidcae.cli import audio_commands, generate_commands, train_commands
from minidcae.cli.arguments import shared_options
from minidcae.core.errors import MinidcaeError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minidcae", description="Learn latent audio generation step by step.")
    sub = parser.add_subparsers(dest="command", required=True)
    shared = shared_options()

    def add(name, func, about, *options, aliases=()):
        """A command: its name, the function that runs it, its help, and the shared options it takes."""
        p = sub.add_parser(name, help=about, description=about, parents=[shared[k] for k in options], aliases=aliases)
        p.set_defaults(func=func)
        return p

    for group in (audio_commands, train_commands, generate_commands):
        group.add_commands(add)
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
        print(
            f"minidcae: unexpected {type(err).__name__}: {err} (set MINIDCAE_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
