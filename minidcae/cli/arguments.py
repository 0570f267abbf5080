"""The options several `minidcae` commands share, each defined once, and the few things that read them.

    shared_options   argparse parent parsers: profile, device, resumable (--resume, --skip-eval), key=value settings,
                     vocoder (--vocoder, --vocoder-checkpoint, --iters), sampling (--steps, --cfg, --seed), autoencoder
    vocoder_for      --vocoder neural's vocoder (its checkpoint, or the shipped one), or None for Griffin-Lim
    iterations       --iters, or the profile's Griffin-Lim iterations
    run_of           how a recipe runs (training.recipe.Run), from its command's arguments
    command_line     the command as typed, for a model card
    check_audio_out  an output path must end in an audio suffix, refused before any work is done

Each group of commands (audio_commands, train_commands, generate_commands) declares its own options beside
what it does; minidcae.cli.main puts them together.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from minidcae.core.config import SHIPPED_DCAE, SHIPPED_VOCODER
from minidcae.core.errors import MinidcaeError
from minidcae.core.profiles import PROFILE_NAMES, get_profile
from minidcae.training.recipe import Run, parse_settings


def shared_options() -> dict[str, argparse.ArgumentParser]:
    """{name: parent parser} for the options several commands share (argparse's parents=)."""
    names = ("profile", "device", "resumable", "settings", "vocoder", "sampling", "autoencoder")
    p = {name: argparse.ArgumentParser(add_help=False) for name in names}
    p["profile"].add_argument("--profile", choices=PROFILE_NAMES, help="ci, cpu or gpu (default: MINIDCAE_PROFILE)")
    p["device"].add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")
    p["resumable"].add_argument("--resume", action="store_true", help="continue from OUT's last training state")
    p["resumable"].add_argument("--skip-eval", action="store_true", help="skip the held-out measurement at the end")
    p["settings"].add_argument(
        "settings", nargs="*", metavar="key=value", help="overrides of the recipe's configs, e.g. steps=500"
    )
    voice = p["vocoder"]
    voice.add_argument(
        "--vocoder", choices=("griffin-lim", "neural"), default="griffin-lim", help="how the log-mel becomes sound"
    )
    voice.add_argument(
        "--vocoder-checkpoint", help="a vocoder checkpoint for --vocoder neural (default: the shipped one)"
    )
    voice.add_argument("--iters", type=int, default=None, help="Griffin-Lim iterations (default: the profile's)")
    p["sampling"].add_argument("--steps", type=int, default=30, help="sampling steps (default 30)")
    p["sampling"].add_argument("--cfg", type=float, default=3.0, help="classifier-free guidance scale (1 = none)")
    p["sampling"].add_argument("--seed", type=int, default=0, help="the seed of the noise (default 0)")
    p["autoencoder"].add_argument(
        "--autoencoder", default=str(SHIPPED_DCAE), help="the DCAE the transformer reads (default: the shipped one)"
    )
    return p


def vocoder_for(args, device="cpu"):
    """The neural vocoder --vocoder neural asks for (--vocoder-checkpoint, default the shipped one), on `device`;
    None for --vocoder griffin-lim. A --vocoder-checkpoint without --vocoder neural is refused in one line."""
    if args.vocoder != "neural":
        if args.vocoder_checkpoint:
            raise MinidcaeError("--vocoder-checkpoint is only used with --vocoder neural")
        return None
    if not args.vocoder_checkpoint and not SHIPPED_VOCODER.exists():
        raise MinidcaeError(
            "--vocoder neural needs --vocoder-checkpoint PATH (a vocoder.safetensors written by `minidcae train-vocoder`)"
        )
    from minidcae.models.vocoder import load_vocoder

    return load_vocoder(args.vocoder_checkpoint or SHIPPED_VOCODER, device)[0]


def vocoder_name(args) -> str:
    """How a command's log-mels became sound, for its printed line."""
    if args.vocoder == "neural":
        return f"neural vocoder {Path(args.vocoder_checkpoint or SHIPPED_VOCODER).name}"
    return f"Griffin-Lim, {iterations(args)} iterations"


def iterations(args) -> int:
    """--iters, or the Griffin-Lim iterations of the command's profile (MINIDCAE_PROFILE without --profile)."""
    return args.iters or get_profile(getattr(args, "profile", None)).griffin_lim_iters


def run_of(args) -> Run:
    """How a recipe runs, from its command's arguments (only train-ae and train-vocoder have --resume
    and --skip-eval; the other recipes run without resuming and with their measurement)."""
    return Run(
        overrides=parse_settings(args.settings),
        device=args.device,
        resume=getattr(args, "resume", False),
        command=command_line(),
        evaluate=not getattr(args, "skip_eval", False),
    )


def command_line() -> str | None:
    """The command as typed, for a model card; None when called from Python rather than the shell."""
    if os.environ.get("WORLD_SIZE") and sys.argv[0].endswith("__main__.py"):  # torchrun ... -m minidcae
        return (
            f"torchrun --nproc_per_node {os.environ.get('LOCAL_WORLD_SIZE', os.environ['WORLD_SIZE'])} -m minidcae "
            + " ".join(sys.argv[1:])
        )
    if sys.argv[0].endswith("minidcae"):
        return "minidcae " + " ".join(sys.argv[1:])
    if sys.argv[0].endswith(os.path.join("minidcae", "__main__.py")):  # python -m minidcae ...
        return "python -m minidcae " + " ".join(sys.argv[1:])
    return None


def check_audio_out(path) -> None:
    from minidcae.sound.audio_files import AUDIO_SUFFIXES

    if Path(path).suffix.lower() not in AUDIO_SUFFIXES:
        raise MinidcaeError(f"{path}: output must end in one of {', '.join(AUDIO_SUFFIXES)}")
