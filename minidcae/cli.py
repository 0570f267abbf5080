"""The `minidcae` command: parses arguments, calls the library, prints. Nothing else lives here.

    minidcae synth --out DIR --n N --seconds S --seed K
    minidcae reconstruct IN OUT [--checkpoint CKPT] [--iters N] [--vocoder griffin-lim|neural --vocoder-checkpoint V]
    minidcae train-ae --profile ci|cpu|gpu --out DIR [key=value ...] [--resume]
    minidcae train-vocoder --profile ci|cpu|gpu --out DIR [--extra-audio DIR ...] [key=value ...] [--resume]
    minidcae sweep --profile ci|cpu|gpu --out DIR [--points t8c4,t16c4]
    minidcae train-classifier --profile ci|cpu|gpu --out DIR [key=value ...]
    minidcae train-transformer --profile ci|cpu|gpu --autoencoder CKPT --out DIR [--classifier C] [key=value ...]
    minidcae generate "happy piano, 120 bpm" OUT.wav [--seconds 8 --steps 30 --cfg 3 --seed 0 --sampler euler|heun]
                      [--checkpoint TRANSFORMER --autoencoder AE --vocoder griffin-lim|neural --vocoder-checkpoint V]
    minidcae encode IN OUT.safetensors --checkpoint CKPT
    minidcae decode IN.safetensors OUT --checkpoint CKPT
    minidcae evaluate --checkpoint CKPT --data DIR --out REPORT.json [--iters N] [--max-seconds S]
    minidcae demo --out DIR [--profile ci|cpu|gpu]
    minidcae info

Bad input gives one line on stderr and exit status 2, never a traceback
(set MINIDCAE_DEBUG=1 to see one). The commands are the README's; each calls one recipe
(train_autoencoder, train_vocoder, train_classifier, train_transformer, sweep) or one pipeline.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .config import (
    PROFILE_NAMES,
    SHIPPED_DCAE,
    SHIPPED_TRANSFORMER,
    SHIPPED_VOCODER,
    get_profile,
    pick_device,
    profile_name,
)
from .errors import MinidcaeError
from .recipe import Run, accuracy_text, obedience_text, parse_settings, read_card


def cmd_info(args) -> None:
    print(f"profile: {profile_name(args.profile)}  device: {pick_device()}")


def cmd_synth(args) -> None:
    from .synth import write_dataset

    paths = write_dataset(args.out, args.n, args.seconds, args.seed, args.sample_rate)
    print(f"wrote {len(paths)} clips and metadata.csv to {args.out}")


def _check_audio_out(path) -> None:
    from .audio import AUDIO_SUFFIXES

    if Path(path).suffix.lower() not in AUDIO_SUFFIXES:
        raise MinidcaeError(f"{path}: output must end in one of {', '.join(AUDIO_SUFFIXES)}")


def cmd_reconstruct(args) -> None:
    from .audio import load_audio, log_mel, save_audio
    from .metrics import reconstruction_report
    from .streaming import griffin_lim_long

    _check_audio_out(args.output)
    profile = get_profile(args.profile)
    iters = args.iters or profile.griffin_lim_iters
    if args.vocoder == "neural" or args.vocoder_checkpoint:
        return _reconstruct_neural(args, profile)
    if args.checkpoint:
        from .dcae import load_autoencoder, mel_config_of, reconstruct

        model, meta = load_autoencoder(args.checkpoint)
        cfg = mel_config_of(meta)
        wav = load_audio(args.input, cfg.sample_rate, cfg.channels)  # (channels, samples)
        log_mel(wav, cfg, args.input)  # refuses a clip shorter than one window, naming the file
        recon = reconstruct(model, wav, cfg, iters)[0]  # (channels, frames * hop)
        what = f"DCAE {Path(args.checkpoint).name} -> Griffin-Lim, {iters} iterations"
    else:
        cfg = profile.mel
        wav = load_audio(args.input, cfg.sample_rate, cfg.channels)  # (channels, samples)
        recon = griffin_lim_long(log_mel(wav, cfg, args.input), cfg, iters)  # (channels, frames * hop)
        what = f"oracle round trip: log-mel -> Griffin-Lim, {iters} iterations"
    save_audio(args.output, recon, cfg.sample_rate)
    print(f"{what}: {wav.shape[-1] / cfg.sample_rate:.2f} s -> {args.output}")
    for key, value in reconstruction_report(wav, recon, cfg).items():
        print(f"  {key:22s} {value:8.3f}")


def _reconstruct_neural(args, profile) -> None:
    from .audio import load_audio, save_audio
    from .metrics import reconstruction_report
    from .vocoder import load_vocoder, resynthesize

    if args.vocoder != "neural":
        raise MinidcaeError("--vocoder-checkpoint is only used with --vocoder neural")
    if not args.vocoder_checkpoint and not SHIPPED_VOCODER.exists():
        raise MinidcaeError(
            "--vocoder neural needs --vocoder-checkpoint PATH "
            "(a vocoder.safetensors written by `minidcae train-vocoder`)"
        )
    args.vocoder_checkpoint = args.vocoder_checkpoint or str(SHIPPED_VOCODER)
    vocoder, _ = load_vocoder(args.vocoder_checkpoint)
    cfg, autoencoder, what = vocoder.cfg.mel, None, "oracle round trip: log-mel"
    if args.checkpoint:
        from .dcae import load_autoencoder, mel_config_of

        autoencoder, meta = load_autoencoder(args.checkpoint)
        cfg, what = mel_config_of(meta), f"DCAE {Path(args.checkpoint).name}"
    wav = load_audio(args.input, cfg.sample_rate, cfg.channels)  # (channels, samples)
    recon = resynthesize(vocoder, wav, cfg, autoencoder, args.input)  # (channels, frames * hop)
    save_audio(args.output, recon, cfg.sample_rate)
    print(
        f"{what} -> neural vocoder {Path(args.vocoder_checkpoint).name}: "
        f"{wav.shape[-1] / cfg.sample_rate:.2f} s -> {args.output}"
    )
    for key, value in reconstruction_report(wav, recon, cfg).items():
        print(f"  {key:22s} {value:8.3f}")


def _run(args) -> Run:
    """How a recipe runs, from its command's arguments (only train-ae and train-vocoder have --resume
    and --skip-eval; the other recipes run without resuming and with their measurement)."""
    return Run(
        overrides=parse_settings(args.settings),
        device=args.device,
        resume=getattr(args, "resume", False),
        command=_command_line(),
        evaluate=not getattr(args, "skip_eval", False),
    )


def cmd_train_ae(args) -> None:
    from . import distributed
    from .train_autoencoder import train_ae

    run = _run(args)
    distributed.init()  # under torchrun: join the other ranks (DDP); otherwise nothing
    path = train_ae(args.out, get_profile(args.profile), run)
    if path is None:  # not rank 0: rank 0 reports
        return
    info = read_card(path)
    print(f"wrote {path}\n{_trained(info)} ({info['audio_seconds_per_second']} s of audio per second)")
    for name, m in info["heldout"].items():
        print(
            f"  {name:20s} mel L1 {m['mel_l1_db']:.2f} dB   MR-STFT DCAE {m['mr_stft_dcae']:.3f} "
            f"vs oracle {m['mr_stft_oracle']:.3f} ({100 * m['mr_stft_excess']:+.1f}%)"
        )


def cmd_train_vocoder(args) -> None:
    from .train_vocoder import train_vocoder

    path = train_vocoder(args.out, get_profile(args.profile), _run(args), extra_audio=args.extra_audio)
    info = read_card(path)
    print(
        f"wrote {path}\n{_trained(info)}; held out, vocoder vs Griffin-Lim "
        f"({info['griffin_lim_iters']} iterations) from the true log-mel:"
    )
    for name, m in info["heldout"].items():
        line = f"  {name:16s} MR-STFT {m['mr_stft_vocoder']:.3f} vs {m['mr_stft_griffin_lim']:.3f}"
        for key in ("stoi", "pesq"):
            if f"{key}_vocoder" in m:
                line += f"   {key.upper()} {m[f'{key}_vocoder']:.3f} vs {m[f'{key}_griffin_lim']:.3f}"
        print(line + f"   s/clip {m['seconds_vocoder']:.3f} vs {m['seconds_griffin_lim']:.3f}")


def cmd_sweep(args) -> None:
    from .sweep import heldout_rhythm_clips, load_sweep, sweep_table, train_sweep, write_table

    profile = get_profile(args.profile)
    train_sweep(args.out, profile, args.points, args.device, command=_command_line())
    models = {name: m for name, m in load_sweep(args.out).items()}
    rows = sweep_table(models, profile.mel, heldout_rhythm_clips(profile.mel))
    path = write_table(rows, Path(args.out) / "sweep.json")
    print(f"{'point':8s} {'compression':>11s} {'mel L1 dB':>9s} {'onset F1':>8s}")
    for r in rows:
        print(f"{r['point']:8s} {r['compression']:11.2f} {r['mel_l1_db']:9.2f} {r['onset_f1']:8.3f}")
    print(f"wrote {path}")


def cmd_train_classifier(args) -> None:
    from .train_classifier import train_classifier

    path = train_classifier(args.out, get_profile(args.profile), _run(args))
    info = read_card(path)
    print(f"wrote {path}\n{_trained(info)}; held-out accuracy on {info['heldout_clips']} clips: {accuracy_text(info)}")


def cmd_train_transformer(args) -> None:
    from . import distributed
    from .train_transformer import train_transformer

    distributed.init()  # under torchrun: join the other ranks (DDP); otherwise nothing
    path = train_transformer(
        args.out, get_profile(args.profile), args.autoencoder, _run(args), classifier_path=args.classifier
    )
    if path is None:  # not rank 0: rank 0 reports
        return
    info = read_card(path)
    print(f"wrote {path}\n{_trained(info)} ({info['parameters'] / 1e6:.2f} M parameters)")
    if "obedience" in info:
        print(obedience_text(info["obedience"]))


def cmd_generate(args) -> None:
    import time

    from .audio import save_audio
    from .generation import generate, load_generator

    _check_audio_out(args.output)
    if args.seconds <= 0:
        raise MinidcaeError(f"--seconds must be positive, got {args.seconds}")
    device = pick_device(args.device)
    transformer, autoencoder, mel = load_generator(args.checkpoint, args.autoencoder, device)
    vocoder = None
    if args.vocoder == "neural":
        from .vocoder import load_vocoder

        vocoder, _ = load_vocoder(args.vocoder_checkpoint or SHIPPED_VOCODER)
    start = time.perf_counter()
    wav = generate(
        transformer,
        autoencoder,
        mel,
        args.prompt,
        args.seconds,
        args.steps,
        args.cfg,
        args.sampler,
        args.seed,
        vocoder,
        args.iters,
    )  # (channels, samples)
    seconds = time.perf_counter() - start
    save_audio(args.output, wav, mel.sample_rate)
    audio_seconds = wav.shape[-1] / mel.sample_rate
    print(
        f"{args.prompt!r}: {audio_seconds:.2f} s of audio in {seconds:.2f} s on {device} "
        f"({audio_seconds / seconds:.1f} s of audio per second; {args.steps} {args.sampler} steps, cfg {args.cfg:g}, "
        f"{args.vocoder}) -> {args.output}"
    )


def _trained(info: dict) -> str:
    return f"trained {info['train_seconds']} s on {info['hardware']}"


def _command_line() -> str | None:
    """The command as typed, for a model card; None when called from Python rather than the shell."""
    if os.environ.get("WORLD_SIZE") and sys.argv[0].endswith("__main__.py"):  # torchrun ... -m minidcae
        return (
            f"torchrun --nproc_per_node {os.environ.get('LOCAL_WORLD_SIZE', os.environ['WORLD_SIZE'])} -m minidcae "
            + " ".join(sys.argv[1:])
        )
    return "minidcae " + " ".join(sys.argv[1:]) if sys.argv[0].endswith("minidcae") else None


def cmd_encode(args) -> None:
    from .dcae import encode_audio, load_autoencoder

    model, meta = load_autoencoder(args.checkpoint)
    path = encode_audio(model, meta, args.input, args.output)
    print(f"wrote latent {path}")


def cmd_decode(args) -> None:
    from .audio import save_audio
    from .dcae import decode_latent, load_autoencoder

    _check_audio_out(args.output)
    model, meta = load_autoencoder(args.checkpoint)
    wav, rate = decode_latent(model, meta, args.input, args.iters or get_profile().griffin_lim_iters)
    save_audio(args.output, wav, rate)
    print(f"decoded {wav.shape[-1] / rate:.2f} s -> {args.output}")


def cmd_evaluate(args) -> None:
    from .checkpoint import write_json
    from .dcae import load_autoencoder
    from .evaluate import evaluate_folder, print_report

    if Path(args.out).suffix.lower() != ".json":
        raise MinidcaeError(f"{args.out}: the report is JSON; name it something.json")
    model, meta = load_autoencoder(args.checkpoint)
    iters = args.iters or get_profile(args.profile).griffin_lim_iters
    report = evaluate_folder(model, meta, args.data, iters, args.max_seconds)
    report["checkpoint"] = str(args.checkpoint)
    print_report(report)
    write_json(args.out, report)
    print(f"wrote {args.out}")


def cmd_demo(args) -> None:
    from .demo import run_demo

    run_demo(args.out, get_profile(args.profile))


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

    add("info", cmd_info, "print the profile and device in use", "profile")

    p = add("synth", cmd_synth, "write labelled synthetic clips (WAV) and metadata.csv")
    p.add_argument("--out", required=True, help="folder to write into")
    p.add_argument("--n", type=int, default=8, help="number of clips")
    p.add_argument("--seconds", type=float, default=4.0, help="length of each clip")
    p.add_argument("--seed", type=int, default=0, help="seed of the first clip; clip i uses seed + i")
    p.add_argument("--sample-rate", type=int, default=22050)

    p = add(
        "reconstruct", cmd_reconstruct, "round-trip an audio file through log-mel and back, and measure it", "profile"
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
        cmd_train_ae,
        "train a DCAE (phase one, then optional adversarial phase two); settings: TrainConfig or DCAEConfig fields",
        state,
        "resumable",
    )

    p = add_recipe(
        "train-vocoder",
        cmd_train_vocoder,
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
        cmd_sweep,
        "train the compression sweep (time factor x channels, one budget) and measure it",
        "profile",
        "device",
    )
    p.add_argument("--out", required=True, help="folder: one sub-folder per point, and sweep.json")
    p.add_argument("--points", default=None, help="comma-separated points like t8c4,t16c16 (default: all)")

    add_recipe(
        "train-classifier",
        cmd_train_classifier,
        "train the label classifier that judges generated clips; settings: TrainConfig fields",
        "folder for logs and label_classifier.safetensors",
    )

    p = add_recipe(
        "train-transformer",
        cmd_train_transformer,
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

    p = add("generate", cmd_generate, "generate a clip from a text prompt", "device")
    p.add_argument("prompt", help='e.g. "happy piano, 120 bpm, drums" or "sad violin, slow"; "" for no prompt')
    p.add_argument("output", help="where to write the audio (WAV, FLAC or OGG)")
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--cfg", type=float, default=3.0, help="classifier-free guidance scale (1 = none)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--sampler", choices=("euler", "heun"), default="euler")
    p.add_argument(
        "--checkpoint", default=str(SHIPPED_TRANSFORMER), help="the latent transformer (default: the shipped one)"
    )
    p.add_argument(
        "--autoencoder", default=str(SHIPPED_DCAE), help="the DCAE it was trained with (default: the shipped one)"
    )
    p.add_argument("--vocoder", choices=("griffin-lim", "neural"), default="griffin-lim")
    p.add_argument("--vocoder-checkpoint", default=None, help="for --vocoder neural (default: the shipped vocoder)")
    p.add_argument("--iters", type=int, default=32, help="Griffin-Lim iterations")

    p = add("encode", cmd_encode, "audio file -> latent (.safetensors)")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--checkpoint", required=True)

    p = add("decode", cmd_decode, "latent (.safetensors) -> audio file, through Griffin-Lim")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--checkpoint", required=True)
    p.add_argument("--iters", type=int, default=None)

    p = add(
        "evaluate",
        cmd_evaluate,
        "measure a DCAE against the oracle (Griffin-Lim from the true mel) on a folder",
        "profile",
    )
    p.add_argument("--checkpoint", required=True, help="a DCAE checkpoint (.safetensors)")
    p.add_argument("--data", required=True, help="folder of audio files (searched recursively)")
    p.add_argument("--out", required=True, help="where to write the JSON report")
    p.add_argument("--iters", type=int, default=None, help="Griffin-Lim iterations (default: the profile's)")
    p.add_argument("--max-seconds", type=float, default=None, help="measure only each file's first S seconds")

    p = add(
        "demo", cmd_demo, "run the pipeline on synthetic and bundled clips; write WAVs, figures, metrics", "profile"
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
