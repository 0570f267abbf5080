"""The `minidcae` command: parses arguments and hands them to commands.py. Nothing else lives here.

    minidcae synth --out DIR --n N --seconds S --seed K
    minidcae reconstruct IN OUT [--checkpoint CKPT] [--iters N] [--vocoder griffin-lim|neural --vocoder-checkpoint V]
    minidcae train-ae --profile ci|cpu|gpu --out DIR [key=value ...] [--resume]
    minidcae train-vocoder --profile ci|cpu|gpu --out DIR [--extra-audio DIR ...] [key=value ...] [--resume]
    minidcae sweep --profile ci|cpu|gpu --out DIR [--points t8c4,t16c4]
    minidcae train-classifier --profile ci|cpu|gpu --out DIR [key=value ...]
    minidcae train-clap --profile ci|cpu|gpu --out DIR [key=value ...]
    minidcae search "happy piano" --data DIR [--top K] [--checkpoint CLAP]
    minidcae train-transformer --profile ci|cpu|gpu --autoencoder CKPT --out DIR [--classifier C] [key=value ...]
    minidcae train-melody --profile ci|cpu|gpu --out DIR [--init TRANSFORMER --melody cross|add] [key=value ...]
    minidcae distill --profile ci|cpu|gpu --out DIR [--teacher TRANSFORMER --pairs N] [key=value ...]
    minidcae evaluate-melody --checkpoint MELODY_TRANSFORMER [--text TRANSFORMER --autoencoder AE]
    minidcae generate "happy piano, 120 bpm" OUT.wav [--seconds 8 --steps 30 --cfg 3 --seed 0 --sampler euler|heun]
                      [--checkpoint TRANSFORMER --autoencoder AE --vocoder griffin-lim|neural --vocoder-checkpoint V]
                      [--melody TUNE.mid --melody-track N --melody-fill loop|pad --melody-scale 2]
                      [--guidance cfg|apg --retake ANGLE]
    minidcae edit IN OUT (--repaint START:END | --extend SECONDS) --prompt P [--guidance cfg|apg --margin 4 --strength 1]
    minidcae encode IN OUT.safetensors --checkpoint CKPT
    minidcae decode IN.safetensors OUT --checkpoint CKPT
    minidcae evaluate --checkpoint CKPT --data DIR --out REPORT.json [--iters N] [--max-seconds S]
    minidcae demo --out DIR [--profile ci|cpu|gpu]
    minidcae info

Bad input gives one line on stderr and exit status 2, never a traceback
(set MINIDCAE_DEBUG=1 to see one). The commands are the README's; each (in commands.py) calls one recipe
(train_autoencoder, train_vocoder, train_classifier, train_transformer, sweep) or one pipeline.
"""

from __future__ import annotations

import argparse
import os
import sys

from minidcae.cli import commands
from minidcae.core.config import SHIPPED_CLAP, SHIPPED_DCAE, SHIPPED_TRANSFORMER
from minidcae.core.errors import MinidcaeError
from minidcae.core.profiles import PROFILE_NAMES


def _parents() -> dict:
    """The options several commands share, each defined once (argparse parent parsers)."""

    def parent():
        return argparse.ArgumentParser(add_help=False)

    profile, device, resumable, settings = parent(), parent(), parent(), parent()
    profile.add_argument("--profile", choices=PROFILE_NAMES, help="ci, cpu or gpu (default: MINIDCAE_PROFILE)")
    device.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")
    resumable.add_argument("--resume", action="store_true", help="continue from OUT's last training state")
    resumable.add_argument("--skip-eval", action="store_true", help="skip the held-out measurement at the end")
    settings.add_argument(
        "settings", nargs="*", metavar="key=value", help="overrides of the recipe's configs, e.g. steps=500"
    )
    return {"profile": profile, "device": device, "resumable": resumable, "settings": settings}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="minidcae", description="Learn latent audio generation step by step.")
    sub = parser.add_subparsers(dest="command", required=True)
    shared = _parents()

    def add(name, func, help, *parents, aliases=()):
        p = sub.add_parser(name, help=help, description=help, parents=[shared[k] for k in parents], aliases=aliases)
        p.set_defaults(func=func)
        return p

    def add_recipe(name, func, help, out, *parents, aliases=()):
        """A training recipe: a profile, a device, the given parents, key=value settings, a required --out."""
        p = add(name, func, help, "profile", "device", *parents, "settings", aliases=aliases)
        p.add_argument("--out", required=True, help=out)
        return p

    state = "folder for logs, training state and the checkpoint"

    add("info", commands.cmd_info, "print the profile and device in use", "profile")

    p = add("synth", commands.cmd_synth, "write labelled synthetic clips (WAV) and metadata.csv")
    p.add_argument("--out", required=True, help="folder to write into")
    p.add_argument("--n", type=int, default=8, help="number of clips")
    p.add_argument("--seconds", type=float, default=4.0, help="length of each clip")
    p.add_argument("--seed", type=int, default=0, help="seed of the first clip; clip i uses seed + i")
    p.add_argument("--sample-rate", type=int, default=22050)

    p = add(
        "reconstruct",
        commands.cmd_reconstruct,
        "round-trip an audio file through log-mel and back, and measure it",
        "profile",
    )
    p.add_argument("input", help="WAV, FLAC, OGG or MP3 file")
    p.add_argument("output", help="where to write the reconstruction")
    p.add_argument("--checkpoint", help="a DCAE checkpoint (.safetensors); without it, the oracle round trip")
    p.add_argument("--iters", type=int, default=None, help="Griffin-Lim iterations (default: the profile's)")
    p.add_argument(
        "--vocoder",
        choices=("griffin-lim", "neural"),
        default="griffin-lim",
        help="how the log-mel becomes sound (default griffin-lim)",
    )
    p.add_argument("--vocoder-checkpoint", help="a vocoder checkpoint for --vocoder neural (default: the shipped one)")

    add_recipe(
        "train-ae",
        commands.cmd_train_ae,
        "train a DCAE (phase one, then optional adversarial phase two); settings: TrainConfig or DCAEConfig fields",
        state,
        "resumable",
    )

    p = add_recipe(
        "train-vocoder",
        commands.cmd_train_vocoder,
        "train a neural vocoder (log-mel -> waveform) and measure it against "
        "Griffin-Lim; settings: TrainConfig fields or the vocoder's sizes (dim, blocks, kernel, expansion, "
        "frame_clock, consistency_steps)",
        state,
        "resumable",
    )
    p.add_argument(
        "--extra-audio",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of more training audio, cut into clips (repeatable); files a held-out clip "
        "came from are skipped",
    )

    p = add(
        "sweep",
        commands.cmd_sweep,
        "train the compression sweep (time factor x channels, one budget) and measure it",
        "profile",
        "device",
    )
    p.add_argument("--out", required=True, help="folder: one sub-folder per point, and sweep.json")
    p.add_argument("--points", default=None, help="comma-separated points like t8c4,t16c16 (default: all)")

    add_recipe(
        "train-classifier",
        commands.cmd_train_classifier,
        "train the label classifier that judges generated clips; settings: TrainConfig fields",
        "folder for logs and label_classifier.safetensors",
    )

    add_recipe(
        "train-clap",
        commands.cmd_train_clap,
        "train miniCLAP (contrastive text-audio embeddings) and measure retrieval on held-out clips and phrasings; "
        "settings: TrainConfig or ClapConfig fields",
        "folder for logs and clap.safetensors",
    )

    p = add("search", commands.cmd_search, "rank the audio files of a folder by how well they match a prompt", "device")
    p.add_argument("prompt", help='e.g. "happy piano" or "sad violin, slow, with drums"')
    p.add_argument("--data", required=True, help="folder of audio files (searched recursively)")
    p.add_argument("--top", type=int, default=10, help="how many results to print (default 10)")
    p.add_argument("--checkpoint", default=str(SHIPPED_CLAP), help="a miniCLAP checkpoint (default: the shipped one)")

    p = add_recipe(
        "train-transformer",
        commands.cmd_train_transformer,
        "train the latent transformer (flow matching, text prompts) "
        "on an autoencoder's latents; settings: TrainConfig, GenerationConfig or TransformerConfig fields",
        "folder for logs and transformer.safetensors",
        aliases=("train-dit",),
    )
    p.add_argument(
        "--autoencoder",
        default=str(SHIPPED_DCAE),
        help="the DCAE checkpoint whose latents it learns (default: the shipped one)",
    )
    p.add_argument(
        "--classifier",
        default=None,
        help="a label classifier; with it, conditional accuracy and Frechet distance go on the card",
    )

    p = add_recipe(
        "train-melody",
        commands.cmd_train_melody,
        "fine-tune a text transformer to follow a melody (piano roll) too, and measure it against a text-only "
        "and a random-melody baseline; settings: TrainConfig, GenerationConfig or TransformerConfig fields",
        "folder for logs and transformer.safetensors",
    )
    p.add_argument("--autoencoder", default=str(SHIPPED_DCAE), help="the DCAE the transformer was trained with")
    p.add_argument("--init", default=str(SHIPPED_TRANSFORMER), help="the text transformer to start from")
    p.add_argument("--melody", choices=("cross", "add"), default="cross", help="how the melody enters the model")
    p.add_argument("--skip-eval", action="store_true", help="skip the melody measurement at the end")

    p = add_recipe(
        "distill",
        commands.cmd_distill,
        "train a few-step student of a latent transformer by rectified-flow reflow (pairs sampled from the teacher); "
        "settings: TrainConfig or GenerationConfig fields",
        "folder for logs and transformer.safetensors",
    )
    p.add_argument("--teacher", default=str(SHIPPED_TRANSFORMER), help="the transformer to distill (default: shipped)")
    p.add_argument("--autoencoder", default=str(SHIPPED_DCAE), help="the DCAE it was trained with")
    p.add_argument(
        "--pairs", type=int, default=None, help="teacher samples to train on (default: the profile's n_clips)"
    )

    p = add(
        "evaluate-melody",
        commands.cmd_evaluate_melody,
        "measure how well a melody transformer follows melodies, against a text-only and a random-melody "
        "baseline, and write the figures onto its card",
        "profile",
        "device",
    )
    p.add_argument("--checkpoint", required=True, help="a transformer from train-melody")
    p.add_argument("--text", default=str(SHIPPED_TRANSFORMER), help="the text-only baseline (default: the shipped one)")
    p.add_argument("--autoencoder", default=str(SHIPPED_DCAE), help="the DCAE both were trained with")

    p = add("generate", commands.cmd_generate, "generate a clip from a text prompt (and a melody)", "device")
    p.add_argument("prompt", help='e.g. "happy piano, 120 bpm, drums" or "sad violin, slow"; "" for no prompt')
    p.add_argument("output", help="where to write the audio (WAV, FLAC or OGG)")
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--cfg", type=float, default=3.0, help="classifier-free guidance scale (1 = none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--n",
        type=int,
        default=1,
        help="clips to make at once, in one batch (written as OUTPUT's name + _0, _1, ...; a GPU makes 128 "
        "almost as fast as one)",
    )
    p.add_argument("--sampler", choices=("euler", "heun"), default="euler")
    p.add_argument(
        "--checkpoint",
        default=None,
        help="the latent transformer (default: the shipped one; with --melody, the shipped melody transformer)",
    )
    p.add_argument(
        "--autoencoder", default=str(SHIPPED_DCAE), help="the DCAE it was trained with (default: the shipped one)"
    )
    p.add_argument("--vocoder", choices=("griffin-lim", "neural"), default="griffin-lim")
    p.add_argument("--vocoder-checkpoint", default=None, help="for --vocoder neural (default: the shipped vocoder)")
    p.add_argument("--iters", type=int, default=32, help="Griffin-Lim iterations")
    p.add_argument(
        "--compile",
        action="store_true",
        help="torch.compile the transformer and the neural vocoder (about 1.4x and 1.7x on one CPU thread, "
        "benchmarks/fast_paths.py; on CUDA as CUDA graphs, one replay per network call); the first call compiles "
        "for seconds, so it pays for long clips or many",
    )
    p.add_argument(
        "--melody",
        default=None,
        metavar="TUNE.mid",
        help="a standard MIDI file whose melody to follow (needs a melody checkpoint; default: the shipped one)",
    )
    p.add_argument(
        "--melody-track", type=int, default=None, help="the MIDI track to read (default: the highest melodic one)"
    )
    p.add_argument(
        "--melody-fill",
        choices=("loop", "pad"),
        default="loop",
        help="a melody shorter than --seconds is looped (default) or padded with no melody",
    )
    p.add_argument("--melody-scale", type=float, default=2.0, help="guidance scale of the melody")
    p.add_argument(
        "--guidance",
        choices=("cfg", "apg", "none"),
        default=None,
        help="classifier-free, ACE-Step's APG, or none (one call a step, for a distilled student); default: cfg, "
        "or none for a checkpoint from `minidcae distill`",
    )
    p.add_argument(
        "--retake",
        type=float,
        default=None,
        metavar="ANGLE",
        help="a variation of the --seed clip: its noise turned by ANGLE radians towards another (0 = same, 1.57 = new)",
    )

    p = add("edit", commands.cmd_edit, "repaint a span of a clip, or extend it, with a prompt", "device")
    p.add_argument("input", help="the clip to edit (WAV, FLAC or OGG)")
    p.add_argument("output", help="where to write the edited clip")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--repaint", metavar="START:END", help="the span to regenerate, in seconds, e.g. 1.0:2.0")
    what.add_argument("--extend", type=float, metavar="SECONDS", help="continue the clip for this many seconds")
    p.add_argument("--prompt", required=True, help='what the span or the extension should be, e.g. "sad violin"')
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--cfg", type=float, default=3.0, help="guidance scale (1 = none)")
    p.add_argument("--guidance", choices=("cfg", "apg"), default="cfg")
    p.add_argument("--margin", type=int, default=4, help="crossfade, in latent frames, inside the edited edges")
    p.add_argument(
        "--strength", type=float, default=1.0, help="repaint only: 0 to 1, how far the span may leave what it was"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--iters", type=int, default=32, help="Griffin-Lim iterations")
    p.add_argument("--checkpoint", default=str(SHIPPED_TRANSFORMER), help="the latent transformer")
    p.add_argument("--autoencoder", default=str(SHIPPED_DCAE), help="the DCAE it was trained with")

    p = add("encode", commands.cmd_encode, "audio file -> latent (.safetensors)")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--checkpoint", required=True)

    p = add("decode", commands.cmd_decode, "latent (.safetensors) -> audio file, through Griffin-Lim")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--iters", type=int, default=None)

    p = add(
        "evaluate",
        commands.cmd_evaluate,
        "measure a DCAE against the oracle (Griffin-Lim from the true mel) on a folder",
        "profile",
    )
    p.add_argument("--checkpoint", required=True, help="a DCAE checkpoint (.safetensors)")
    p.add_argument("--data", required=True, help="folder of audio files (searched recursively)")
    p.add_argument("--out", required=True, help="where to write the JSON report")
    p.add_argument("--iters", type=int, default=None, help="Griffin-Lim iterations (default: the profile's)")
    p.add_argument("--max-seconds", type=float, default=None, help="measure only each file's first S seconds")

    p = add(
        "demo",
        commands.cmd_demo,
        "run the pipeline on synthetic and bundled clips; write WAVs, figures, metrics",
        "profile",
    )
    p.add_argument("--out", default="runs/demo")
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
