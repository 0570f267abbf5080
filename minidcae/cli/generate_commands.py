"""The `minidcae` commands that make music: generate a clip from a prompt (and a melody), and edit one.

    generate   a prompt -> a clip (or --n clips in one batch), optionally following a MIDI file's melody, optionally
               with LoRA adapters (--lora, a new sound and its word: notebook 14)
    edit       repaint a span of a clip, or extend it, with a prompt

Both end in pipeline.mels_to_audio: the neural vocoder with --vocoder neural, else Griffin-Lim (--iters).
Bad input raises a MinidcaeError, which minidcae.cli.main turns into one line and exit status 2.
Taught in notebooks 07 (latent diffusion), 08 (conditioning), 10 (melody) and 12 (editing).
"""

from __future__ import annotations

import time
from pathlib import Path

from minidcae.cli.arguments import check_audio_out, iterations, vocoder_for
from minidcae.cli.cards.reading import read_card
from minidcae.core.config import SHIPPED_TRANSFORMER
from minidcae.core.errors import MinidcaeError
from minidcae.core.profiles import pick_device


def add_commands(add) -> None:
    """Declare this group's commands: add(name, function, help, *shared option names) -> its parser."""
    shared = ("device", "sampling", "autoencoder", "vocoder")
    p = add("generate", cmd_generate, "generate a clip from a text prompt (and a melody)", *shared)
    p.add_argument("prompt", help='e.g. "happy piano, 120 bpm, drums" or "sad violin, slow"; "" for no prompt')
    p.add_argument("output", help="where to write the audio (WAV, FLAC or OGG)")
    p.add_argument("--seconds", type=float, default=8.0)
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
    p.add_argument(
        "--guidance-interval",
        type=float,
        default=1.0,
        metavar="F",
        help="guide only the middle share F of the steps, the prompt alone outside (ACE-Step: 0.5; default 1, all)",
    )
    p.add_argument(
        "--guidance-decay",
        type=float,
        default=0.0,
        metavar="F",
        help="0 to 1: inside the interval the scale falls by F (scale - guidance-min) by its last step (default 0)",
    )
    p.add_argument("--guidance-min", type=float, default=1.0, help="the scale a full decay reaches (default 1)")
    p.add_argument(
        "--lora",
        action="append",
        default=[],
        metavar="ADAPTER",
        help="a LoRA adapter from `minidcae train-lora` (its word joins the prompt's vocabulary); repeat for several, "
        "each merged into the weights in turn (their updates add)",
    )

    p = add("edit", cmd_edit, "repaint a span of a clip, or extend it, with a prompt", *shared)
    p.add_argument("input", help="the clip to edit (WAV, FLAC or OGG)")
    p.add_argument("output", help="where to write the edited clip")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--repaint", metavar="START:END", help="the span to regenerate, in seconds, e.g. 1.0:2.0")
    what.add_argument("--extend", type=float, metavar="SECONDS", help="continue the clip for this many seconds")
    p.add_argument("--prompt", required=True, help='what the span or the extension should be, e.g. "sad violin"')
    p.add_argument("--guidance", choices=("cfg", "apg"), default="cfg")
    p.add_argument("--margin", type=int, default=4, help="crossfade, in latent frames, inside the edited edges")
    p.add_argument(
        "--strength", type=float, default=1.0, help="repaint only: 0 to 1, how far the span may leave what it was"
    )
    p.add_argument("--checkpoint", default=str(SHIPPED_TRANSFORMER), help="the latent transformer")


def cmd_generate(args) -> None:
    from minidcae.generation.guidance import GuidanceWindow
    from minidcae.generation.pipeline import compiled, generate, generate_many, load_generator
    from minidcae.sound.audio_files import save_audio

    check_audio_out(args.output)
    if args.seconds <= 0:
        raise MinidcaeError(f"--seconds must be positive, got {args.seconds}")
    if args.n < 1:
        raise MinidcaeError(f"--n {args.n}: give the number of clips to make, 1 or more")
    if args.n > 1 and (args.melody is not None or args.retake is not None):
        raise MinidcaeError("--n makes several clips of one prompt; it does not combine with --melody or --retake")
    melody, checkpoint, told = melody_for(args)  # the MIDI file is read (and refused) before any model loads
    window = GuidanceWindow(args.guidance_interval, args.guidance_decay, args.guidance_min)  # refused here too
    device = pick_device(args.device)
    transformer, autoencoder, mel = load_generator(checkpoint, args.autoencoder, device)
    adapters = adapters_for(transformer, args.lora)
    if melody is not None and transformer.cfg.melody == "none":
        raise MinidcaeError(f"{checkpoint}: this transformer was trained without a melody; pass one from train-melody")
    card = Path(checkpoint).with_suffix(".json")
    distilled = card.is_file() and read_card(card).get("distilled", False)
    guidance = args.guidance or ("none" if distilled else "cfg")  # a student of minidcae distill: no guidance
    vocoder = vocoder_for(args, device)
    if args.compile:  # not the DCAE decoder: compiled, it ran slower (0.67x, benchmarks/fast_paths.py)
        transformer = compiled(transformer, device)
        vocoder = None if vocoder is None else compiled(vocoder, device)
    sampling = dict(steps=args.steps, cfg_scale=args.cfg, sampler=args.sampler, guidance=guidance, window=window)
    to_sound = dict(seed=args.seed, vocoder=vocoder, gl_iters=iterations(args))
    start = time.perf_counter()
    if args.n > 1:
        prompts = [args.prompt] * args.n
        wavs = generate_many(transformer, autoencoder, mel, prompts, args.seconds, **to_sound, **sampling)  # (N, C, L)
        seconds = time.perf_counter() - start
        out = Path(args.output)
        paths = [out.with_name(f"{out.stem}_{i}{out.suffix}") for i in range(args.n)]
        for path, wav in zip(paths, wavs):
            save_audio(path, wav, mel.sample_rate)
        audio_seconds = args.n * wavs.shape[-1] / mel.sample_rate
        print(
            f"{args.prompt!r}: {args.n} clips, {audio_seconds:.2f} s of audio in {seconds:.2f} s on {device} "
            f"({audio_seconds / seconds:.1f} s of audio per second) -> {paths[0]} ... {paths[-1]}"
        )
        return
    melody_given = dict(melody=melody, melody_scale=args.melody_scale, retake=args.retake)
    wav = generate(
        transformer, autoencoder, mel, args.prompt, args.seconds, **to_sound, **sampling, **melody_given
    )  # (channels, samples)
    seconds = time.perf_counter() - start
    save_audio(args.output, wav, mel.sample_rate)
    audio_seconds = wav.shape[-1] / mel.sample_rate
    if told:
        print(told)
    if adapters:
        print(adapters)
    print(
        f"{args.prompt!r}: {audio_seconds:.2f} s of audio in {seconds:.2f} s on {device} "
        f"({audio_seconds / seconds:.1f} s of audio per second; {args.steps} {args.sampler} steps, "
        f"{'no guidance' if guidance == 'none' else f'{guidance} {args.cfg:g}'}, {args.vocoder}) -> {args.output}"
    )


def adapters_for(transformer, paths) -> str:
    """Merge each LoRA adapter of `paths` into the transformer in turn (refused in one line when one was made for
    another model, or teaches a word it already reads); a line naming them, or "" when there are none."""
    from minidcae.models.lora import apply_adapter

    said = []
    for path in paths:
        card = apply_adapter(transformer, path, merged=True)
        said.append(f"{path} (rank {card['rank']}, word {', '.join(card['words'])})")
    return f"adapters merged: {'; '.join(said)}" if said else ""


def melody_for(args) -> tuple:
    """(notes or None, the transformer checkpoint to use, a line about the melody or ""): --melody's file read,
    its melody looped or padded to --seconds and moved by octaves into the prompt's instrument's register."""
    if args.melody is None:
        return None, args.checkpoint or SHIPPED_TRANSFORMER, ""
    from minidcae.core.config import SHIPPED_MELODY_TRANSFORMER
    from minidcae.models.text import words_of
    from minidcae.sound.melody import fit_length, fit_register, read_midi
    from minidcae.sound.synth import INSTRUMENTS

    notes, info = read_midi(args.melody, args.melody_track)
    notes = fit_length(notes, args.seconds, args.melody_fill)
    instrument = next((w for w in words_of(args.prompt) if w in INSTRUMENTS), None)
    shift = 0
    if instrument is not None:
        notes, shift = fit_register(notes, instrument)
    checkpoint = args.checkpoint or SHIPPED_MELODY_TRANSFORMER
    moved = f", moved {shift:+d} semitones into the {instrument}'s register" if shift else ""
    fill = (
        f"{args.melody_fill}ed to {args.seconds:g} s"
        if info["seconds"] < args.seconds
        else f"cut at {args.seconds:g} s"
    )
    return (
        notes,
        checkpoint,
        f"melody: track {info['track']} of {args.melody}, {info['seconds']:.1f} s {fill}, {len(notes)} notes{moved}",
    )


def cmd_edit(args) -> None:
    from minidcae.generation.editing import edit_audio
    from minidcae.generation.pipeline import load_generator
    from minidcae.sound.audio_files import load_audio, save_audio

    check_audio_out(args.output)
    span = None
    if args.repaint is not None:
        try:
            span = tuple(float(v) for v in args.repaint.split(":"))
        except ValueError:
            span = ()
        if len(span) != 2:
            raise MinidcaeError(f"--repaint {args.repaint}: give the span as START:END in seconds, e.g. 1.0:2.5")
    elif args.extend <= 0:
        raise MinidcaeError(f"--extend {args.extend:g}: give a positive number of seconds")
    if args.margin < 0:
        raise MinidcaeError(f"--margin {args.margin}: give the crossfade as 0 or more latent frames (default 4)")
    device = pick_device(args.device)
    vocoder = vocoder_for(args, device)  # a bad --vocoder-checkpoint is refused before the transformer loads
    transformer, autoencoder, mel = load_generator(args.checkpoint, args.autoencoder, device)
    wav = load_audio(args.input, mel.sample_rate, mel.channels)  # (channels, samples)
    edit = dict(steps=args.steps, cfg_scale=args.cfg, guidance=args.guidance, margin=args.margin, seed=args.seed)
    out = edit_audio(
        transformer,
        autoencoder,
        mel,
        wav,
        args.prompt,
        span,
        args.extend,
        **edit,
        gl_iters=iterations(args),
        source=str(args.input),
        strength=args.strength,
        vocoder=vocoder,
    )  # (channels, samples)
    save_audio(args.output, out, mel.sample_rate)
    what = f"repainted {args.repaint} s" if span else f"extended by {args.extend:g} s"
    if span and args.strength != 1.0:
        what += f" at strength {args.strength:g}"
    print(
        f"{args.input}: {what} as {args.prompt!r} ({args.steps} steps, {args.guidance} {args.cfg:g}, {args.vocoder}): "
        f"{wav.shape[-1] / mel.sample_rate:.2f} s -> {out.shape[-1] / mel.sample_rate:.2f} s -> {args.output}"
    )
