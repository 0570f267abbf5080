"""What each `minidcae` command does: read the parsed arguments, call the library, print.

The parser lives in cli.py; each `cmd_*` here is one command of the README's (taught there, not in
a notebook). Bad input raises a MinidcaeError, which cli.main turns into one line and exit 2.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from minidcae.core.config import SHIPPED_TRANSFORMER, SHIPPED_VOCODER
from minidcae.core.errors import MinidcaeError
from minidcae.core.profiles import get_profile, pick_device, profile_name
from minidcae.training.recipe import Run, accuracy_text, obedience_text, parse_settings, read_card


def cmd_info(args) -> None:
    print(f"profile: {profile_name(args.profile)}  device: {pick_device()}")


def cmd_synth(args) -> None:
    from minidcae.sound.synth import write_dataset

    paths = write_dataset(args.out, args.n, args.seconds, args.seed, args.sample_rate)
    print(f"wrote {len(paths)} clips and metadata.csv to {args.out}")


def _check_audio_out(path) -> None:
    from minidcae.sound.audio import AUDIO_SUFFIXES

    if Path(path).suffix.lower() not in AUDIO_SUFFIXES:
        raise MinidcaeError(f"{path}: output must end in one of {', '.join(AUDIO_SUFFIXES)}")


def cmd_reconstruct(args) -> None:
    from minidcae.sound.audio import load_audio, log_mel
    from minidcae.sound.streaming import griffin_lim_long

    _check_audio_out(args.output)
    profile = get_profile(args.profile)
    iters = args.iters or profile.griffin_lim_iters
    if args.vocoder == "neural" or args.vocoder_checkpoint:
        return _reconstruct_neural(args, profile)
    if args.checkpoint:
        from minidcae.models.dcae import load_latent_autoencoder, mel_config_of, reconstruct

        model, meta = load_latent_autoencoder(args.checkpoint)
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
    _write_and_report(args.output, wav, recon, cfg, what)


def _write_and_report(output, wav, recon, cfg, what: str) -> None:
    """Save the reconstruction, then one line saying what made it and a line per measure against the input."""
    from minidcae.measure.evaluate import reconstruction_report
    from minidcae.sound.audio import save_audio

    save_audio(output, recon, cfg.sample_rate)
    print(f"{what}: {wav.shape[-1] / cfg.sample_rate:.2f} s -> {output}")
    for key, value in reconstruction_report(wav, recon, cfg).items():
        print(f"  {key:22s} {value:8.3f}")


def _reconstruct_neural(args, profile) -> None:
    from minidcae.models.vocoder import load_vocoder, resynthesize
    from minidcae.sound.audio import load_audio

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
        from minidcae.models.dcae import load_latent_autoencoder, mel_config_of

        autoencoder, meta = load_latent_autoencoder(args.checkpoint)
        cfg, what = mel_config_of(meta), f"DCAE {Path(args.checkpoint).name}"
    wav = load_audio(args.input, cfg.sample_rate, cfg.channels)  # (channels, samples)
    recon = resynthesize(vocoder, wav, cfg, autoencoder, args.input)  # (channels, frames * hop)
    _write_and_report(args.output, wav, recon, cfg, f"{what} -> neural vocoder {Path(args.vocoder_checkpoint).name}")


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
    from minidcae.recipes.autoencoder import train_ae
    from minidcae.training import distributed

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
    from minidcae.recipes.vocoder import train_vocoder

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
    from minidcae.recipes.sweep import heldout_rhythm_clips, load_sweep, sweep_table, train_sweep, write_table

    profile = get_profile(args.profile)
    train_sweep(args.out, profile, args.points, args.device, command=_command_line())
    models = load_sweep(args.out)
    rows = sweep_table(models, profile.mel, heldout_rhythm_clips(profile.mel))
    path = write_table(rows, Path(args.out) / "sweep.json")
    print(f"{'point':8s} {'compression':>11s} {'mel L1 dB':>9s} {'onset F1':>8s}")
    for r in rows:
        print(f"{r['point']:8s} {r['compression']:11.2f} {r['mel_l1_db']:9.2f} {r['onset_f1']:8.3f}")
    print(f"wrote {path}")


def cmd_train_classifier(args) -> None:
    from minidcae.recipes.classifier import train_classifier

    path = train_classifier(args.out, get_profile(args.profile), _run(args))
    info = read_card(path)
    print(f"wrote {path}\n{_trained(info)}; held-out accuracy on {info['heldout_clips']} clips: {accuracy_text(info)}")


def cmd_train_clap(args) -> None:
    from minidcae.recipes.clap import retrieval_text, train_clap

    path = train_clap(args.out, get_profile(args.profile), _run(args))
    info = read_card(path)
    print(f"wrote {path}\n{_trained(info)} ({info['parameters'] / 1e6:.2f} M parameters)")
    print(retrieval_text(info["retrieval"]))


def cmd_search(args) -> None:
    from minidcae.models.clap import search_folder
    from minidcae.models.phrasings import PHRASE_ID
    from minidcae.models.text import unknown_words

    if args.top < 1:
        raise MinidcaeError(f"--top must be at least 1, got {args.top}")
    unknown = unknown_words(args.prompt, PHRASE_ID)
    if unknown:
        raise MinidcaeError(
            f"{args.prompt!r}: miniCLAP does not know the word(s) {', '.join(unknown)}; "
            "use moods, instruments, tempo words and drums (minidcae.models.phrasings.PHRASE_VOCAB)"
        )
    for rank, (score, path) in enumerate(
        search_folder(args.checkpoint, args.prompt, args.data, args.top, args.device), 1
    ):
        print(f"{rank:4d}  {score:+.3f}  {path}")


def cmd_train_transformer(args) -> None:
    from minidcae.recipes.transformer import train_transformer
    from minidcae.training import distributed

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

    from minidcae.generation.pipeline import generate, load_generator
    from minidcae.sound.audio import save_audio

    _check_audio_out(args.output)
    if args.seconds <= 0:
        raise MinidcaeError(f"--seconds must be positive, got {args.seconds}")
    melody, checkpoint, told = _melody_for(args)  # the MIDI file is read (and refused) before any model loads
    device = pick_device(args.device)
    transformer, autoencoder, mel = load_generator(checkpoint, args.autoencoder, device)
    if melody is not None and transformer.cfg.melody == "none":
        raise MinidcaeError(f"{checkpoint}: this transformer was trained without a melody; pass one from train-melody")
    card = Path(checkpoint).with_suffix(".json")
    distilled = card.is_file() and read_card(card).get("distilled", False)
    guidance = args.guidance or ("none" if distilled else "cfg")  # a student of minidcae distill: no guidance
    vocoder = None
    if args.vocoder == "neural":
        from minidcae.models.vocoder import load_vocoder

        vocoder, _ = load_vocoder(args.vocoder_checkpoint or SHIPPED_VOCODER, device)
    if args.n < 1:
        raise MinidcaeError(f"--n {args.n}: give the number of clips to make, 1 or more")
    if args.n > 1 and (melody is not None or args.retake is not None):
        raise MinidcaeError("--n makes several clips of one prompt; it does not combine with --melody or --retake")
    if args.compile:  # not the DCAE decoder: compiled, it ran slower (0.67x, benchmarks/fast_paths.py)
        from minidcae.generation.pipeline import compiled

        transformer = compiled(transformer, device)
        vocoder = None if vocoder is None else compiled(vocoder, device)
    start = time.perf_counter()
    if args.n > 1:
        from minidcae.generation.pipeline import generate_many

        sampling = dict(steps=args.steps, cfg_scale=args.cfg, sampler=args.sampler, guidance=guidance)
        wavs = generate_many(
            transformer,
            autoencoder,
            mel,
            [args.prompt] * args.n,
            args.seconds,
            args.seed,
            vocoder,
            args.iters,
            **sampling,
        )  # (N, channels, samples)
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
        melody=melody,
        melody_scale=args.melody_scale,
        guidance=guidance,
        retake=args.retake,
    )  # (channels, samples)
    seconds = time.perf_counter() - start
    save_audio(args.output, wav, mel.sample_rate)
    audio_seconds = wav.shape[-1] / mel.sample_rate
    if told:
        print(told)
    print(
        f"{args.prompt!r}: {audio_seconds:.2f} s of audio in {seconds:.2f} s on {device} "
        f"({audio_seconds / seconds:.1f} s of audio per second; {args.steps} {args.sampler} steps, "
        f"{'no guidance' if guidance == 'none' else f'{guidance} {args.cfg:g}'}, {args.vocoder}) -> {args.output}"
    )


def cmd_edit(args) -> None:
    from minidcae.generation.editing import edit_audio
    from minidcae.generation.pipeline import load_generator
    from minidcae.sound.audio import load_audio, save_audio

    _check_audio_out(args.output)
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
    transformer, autoencoder, mel = load_generator(args.checkpoint, args.autoencoder, device)
    wav = load_audio(args.input, mel.sample_rate, mel.channels)  # (channels, samples)
    out = edit_audio(
        transformer,
        autoencoder,
        mel,
        wav,
        args.prompt,
        span,
        args.extend,
        args.steps,
        args.cfg,
        args.guidance,
        args.margin,
        args.seed,
        args.iters,
        str(args.input),
        args.strength,
    )  # (channels, samples)
    save_audio(args.output, out, mel.sample_rate)
    what = f"repainted {args.repaint} s" if span else f"extended by {args.extend:g} s"
    if span and args.strength != 1.0:
        what += f" at strength {args.strength:g}"
    print(
        f"{args.input}: {what} as {args.prompt!r} ({args.steps} steps, {args.guidance} {args.cfg:g}): "
        f"{wav.shape[-1] / mel.sample_rate:.2f} s -> {out.shape[-1] / mel.sample_rate:.2f} s -> {args.output}"
    )


def _melody_for(args) -> tuple:
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
    fitted = (
        f"{args.melody_fill}ed to {args.seconds:g} s"
        if info["seconds"] < args.seconds
        else f"cut at {args.seconds:g} s"
    )
    told = (
        f"melody: track {info['track']} of {args.melody}, {info['seconds']:.1f} s {fitted}, {len(notes)} notes{moved}"
    )
    return notes, checkpoint, told


def cmd_distill(args) -> None:
    from minidcae.recipes.distill import distill

    if args.pairs is not None and args.pairs < 1:
        raise MinidcaeError(f"--pairs must be at least 1, got {args.pairs}")
    path = distill(args.out, get_profile(args.profile), args.teacher, args.autoencoder, _run(args), args.pairs)
    info = read_card(path)
    print(
        f"wrote {path}\n{_trained(info)} on {info['pairs']} teacher pairs ({info['pair_sampling']['seconds']} s to sample them); "
        f"loss {info['first_loss']:.4f} -> {info['last_loss']:.4f}; sample it with --guidance none --steps 2"
    )


def cmd_evaluate_melody(args) -> None:
    from minidcae.recipes.melody import evaluate_melody, melody_obedience_text

    figures = evaluate_melody(
        args.checkpoint, get_profile(args.profile), args.text, args.autoencoder, _command_line(), args.device
    )
    print(melody_obedience_text(figures))
    print(f"wrote the figures onto {args.checkpoint}'s card")


def cmd_train_melody(args) -> None:
    from minidcae.recipes.melody import train_melody

    path = train_melody(args.out, get_profile(args.profile), args.autoencoder, args.init, args.melody, _run(args))
    info = read_card(path)
    print(
        f"wrote {path}\n{_trained(info)} ({info['new_parameters'] / 1e6:.2f} M new parameters, melody {info['melody']})"
    )
    if "melody_obedience" in info:
        from minidcae.recipes.melody import melody_obedience_text

        print(melody_obedience_text(info["melody_obedience"]))


def _trained(info: dict) -> str:
    return f"trained {info['train_seconds']} s on {info['hardware']}"


def _command_line() -> str | None:
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


def cmd_encode(args) -> None:
    from minidcae.models.dcae import encode_audio, load_latent_autoencoder

    model, meta = load_latent_autoencoder(args.checkpoint)
    path = encode_audio(model, meta, args.input, args.output)
    print(f"wrote latent {path}")


def cmd_decode(args) -> None:
    from minidcae.models.dcae import decode_latent, load_latent_autoencoder
    from minidcae.sound.audio import save_audio

    _check_audio_out(args.output)
    model, meta = load_latent_autoencoder(args.checkpoint)
    wav, rate = decode_latent(model, meta, args.input, args.iters or get_profile().griffin_lim_iters)
    save_audio(args.output, wav, rate)
    print(f"decoded {wav.shape[-1] / rate:.2f} s -> {args.output}")


def cmd_evaluate(args) -> None:
    from minidcae.core.checkpoint import write_json
    from minidcae.measure.evaluate import evaluate_folder, print_report
    from minidcae.models.dcae import load_latent_autoencoder

    if Path(args.out).suffix.lower() != ".json":
        raise MinidcaeError(f"{args.out}: the report is JSON; name it something.json")
    model, meta = load_latent_autoencoder(args.checkpoint)
    iters = args.iters or get_profile(args.profile).griffin_lim_iters
    report = evaluate_folder(model, meta, args.data, iters, args.max_seconds)
    report["checkpoint"] = str(args.checkpoint)
    print_report(report)
    write_json(args.out, report)
    print(f"wrote {args.out}")


def cmd_demo(args) -> None:
    from minidcae.cli.demo import run_demo

    run_demo(args.out, get_profile(args.profile))
