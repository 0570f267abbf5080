"""The `minidcae` commands on audio files and folders: each one's options, then what it does.

    info          the profile and device in use
    synth         labelled synthetic clips and metadata.csv
    reconstruct   a file through log-mel (and a DCAE) and back to sound, measured against itself
    encode        an audio file -> a latent file;  decode: a latent file -> audio
    evaluate      a DCAE against the oracle on every file of a folder
    search        a folder's files ranked by miniCLAP for a prompt
    demo          `make demo`: the pipeline end to end (minidcae.cli.demo)

Bad input raises a MinidcaeError, which minidcae.cli.main turns into one line and exit status 2.
Taught in the README; the library calls each command makes are taught in notebooks 00-05 and 11.
"""

from __future__ import annotations

from pathlib import Path

from minidcae.cli.arguments import check_audio_out, iterations, vocoder_for, vocoder_name
from minidcae.core.config import SHIPPED_CLAP
from minidcae.core.errors import MinidcaeError
from minidcae.core.profiles import get_profile, pick_device, profile_name


def add_commands(add) -> None:
    """Declare this group's commands: add(name, function, help, *shared option names) -> its parser."""
    add("info", cmd_info, "print the profile and device in use", "profile")

    p = add("synth", cmd_synth, "write labelled synthetic clips (WAV) and metadata.csv")
    p.add_argument("--out", required=True, help="folder to write into")
    p.add_argument("--n", type=int, default=8, help="number of clips")
    p.add_argument("--seconds", type=float, default=4.0, help="length of each clip")
    p.add_argument("--seed", type=int, default=0, help="seed of the first clip; clip i uses seed + i")
    p.add_argument("--sample-rate", type=int, default=22050)
    p.add_argument(
        "--voice",
        default=None,
        help="play every clip with this voice: one of the six instruments, or a sound no shipped model heard "
        "(bell, for `minidcae train-lora`)",
    )

    about = "round-trip an audio file through log-mel and back, and measure it"
    p = add("reconstruct", cmd_reconstruct, about, "profile", "vocoder")
    p.add_argument("input", help="WAV, FLAC, OGG or MP3 file")
    p.add_argument("output", help="where to write the reconstruction")
    p.add_argument("--checkpoint", help="a DCAE checkpoint (.safetensors); without it, the oracle round trip")

    p = add("encode", cmd_encode, "audio file -> latent (.safetensors)")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--checkpoint", required=True)

    p = add("decode", cmd_decode, "latent (.safetensors) -> audio file", "vocoder")
    p.add_argument("input")
    p.add_argument("output")
    p.add_argument("--checkpoint", required=True)

    about = "measure a DCAE against the oracle (Griffin-Lim from the true mel) on a folder"
    p = add("evaluate", cmd_evaluate, about, "profile")
    p.add_argument("--checkpoint", required=True, help="a DCAE checkpoint (.safetensors)")
    p.add_argument("--data", required=True, help="folder of audio files (searched recursively)")
    p.add_argument("--out", required=True, help="where to write the JSON report")
    p.add_argument("--iters", type=int, default=None, help="Griffin-Lim iterations (default: the profile's)")
    p.add_argument("--max-seconds", type=float, default=None, help="measure only each file's first S seconds")

    p = add("search", cmd_search, "rank the audio files of a folder by how well they match a prompt", "device")
    p.add_argument("prompt", help='e.g. "happy piano" or "sad violin, slow, with drums"')
    p.add_argument("--data", required=True, help="folder of audio files (searched recursively)")
    p.add_argument("--top", type=int, default=10, help="how many results to print (default 10)")
    p.add_argument("--checkpoint", default=str(SHIPPED_CLAP), help="a miniCLAP checkpoint (default: the shipped one)")

    about = "run the pipeline on synthetic and bundled clips; write WAVs, figures, metrics"
    add("demo", cmd_demo, about, "profile").add_argument("--out", default="runs/demo")


def cmd_info(args) -> None:
    print(f"profile: {profile_name(args.profile)}  device: {pick_device()}")


def cmd_synth(args) -> None:
    from minidcae.sound.synth import INSTRUMENTS, write_dataset
    from minidcae.sound.voices import NEW_VOICES

    voice = {} if args.voice is None else {"instrument": args.voice}
    if args.voice is not None and args.voice not in (*INSTRUMENTS, *NEW_VOICES):
        raise MinidcaeError(f"--voice {args.voice}: choose one of {', '.join([*INSTRUMENTS, *NEW_VOICES])}")
    paths = write_dataset(args.out, args.n, args.seconds, args.seed, args.sample_rate, **voice)
    print(f"wrote {len(paths)} clips{f' of {args.voice}' if args.voice else ''} and metadata.csv to {args.out}")


def cmd_reconstruct(args) -> None:
    from minidcae.generation.autoencoding import reconstruct
    from minidcae.measure.evaluate import reconstruction_report
    from minidcae.sound.audio_files import load_audio, save_audio

    check_audio_out(args.output)
    vocoder = vocoder_for(args)
    model, mel, what = None, get_profile(args.profile).mel, "oracle round trip: log-mel"
    if vocoder is not None:
        mel = vocoder.cfg.mel  # the front end the vocoder inverts
    if args.checkpoint:
        from minidcae.models.dcae import load_latent_autoencoder, mel_config_of

        model, meta = load_latent_autoencoder(args.checkpoint)
        mel, what = mel_config_of(meta), f"DCAE {Path(args.checkpoint).name}"
    wav = load_audio(args.input, mel.sample_rate, mel.channels)  # (channels, samples)
    recon = reconstruct(model, wav, mel, iterations(args), vocoder, args.input)[0]  # (channels, frames * hop)
    save_audio(args.output, recon, mel.sample_rate)
    print(f"{what} -> {vocoder_name(args)}: {wav.shape[-1] / mel.sample_rate:.2f} s -> {args.output}")
    for key, value in reconstruction_report(wav, recon, mel).items():
        print(f"  {key:22s} {value:8.3f}")


def cmd_encode(args) -> None:
    from minidcae.generation.autoencoding import encode_audio
    from minidcae.models.dcae import load_latent_autoencoder

    model, meta = load_latent_autoencoder(args.checkpoint)
    path = encode_audio(model, meta, args.input, args.output)
    print(f"wrote latent {path}")


def cmd_decode(args) -> None:
    from minidcae.generation.autoencoding import decode_latent
    from minidcae.models.dcae import load_latent_autoencoder
    from minidcae.sound.audio_files import save_audio

    check_audio_out(args.output)
    model, meta = load_latent_autoencoder(args.checkpoint)
    wav, rate = decode_latent(model, meta, args.input, iterations(args), vocoder_for(args))
    save_audio(args.output, wav, rate)
    print(f"decoded {wav.shape[-1] / rate:.2f} s -> {args.output}")


def cmd_evaluate(args) -> None:
    from minidcae.core.checkpoint import write_json
    from minidcae.measure.evaluate import evaluate_folder, print_report
    from minidcae.models.dcae import load_latent_autoencoder

    if Path(args.out).suffix.lower() != ".json":
        raise MinidcaeError(f"{args.out}: the report is JSON; name it something.json")
    model, meta = load_latent_autoencoder(args.checkpoint)
    report = evaluate_folder(model, meta, args.data, iterations(args), args.max_seconds)
    report["checkpoint"] = str(args.checkpoint)
    print_report(report)
    write_json(args.out, report)
    print(f"wrote {args.out}")


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
    found = search_folder(args.checkpoint, args.prompt, args.data, args.top, args.device)
    for rank, (score, path) in enumerate(found, 1):
        print(f"{rank:4d}  {score:+.3f}  {path}")


def cmd_demo(args) -> None:
    from minidcae.cli.demo import run_demo

    run_demo(args.out, get_profile(args.profile))
