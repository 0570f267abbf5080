"""The `minidcae train-*` commands, the sweep, distillation and the melody measurement: each one's options, then
what it does. Each calls one recipe (minidcae.recipes) and prints the checkpoint's card as minidcae.cli.cards words it.

    train-ae, train-vocoder, sweep, train-classifier, train-clap, train-transformer (alias train-dit),
    train-melody, distill, evaluate-melody, train-lora

Every recipe takes --profile, --device, --out and key=value settings of its configs; train-ae and train-vocoder
resume (--resume) and can skip their held-out measurement (--skip-eval). Taught in notebook 03 (training for real).
"""

from __future__ import annotations

import json
from pathlib import Path

from minidcae.cli.arguments import command_line, run_of
from minidcae.cli.cards.reading import read_card
from minidcae.core.config import SHIPPED_TRANSFORMER
from minidcae.core.errors import MinidcaeError
from minidcae.core.profiles import get_profile
from minidcae.models.lora import DEFAULT_LAYERS, LORA_LAYERS

STATE = "folder for logs, training state and the checkpoint"


def add_commands(add) -> None:
    """Declare this group's commands: add(name, function, help, *shared option names) -> its parser."""

    def recipe(name, func, about, out, *shared, aliases=()):
        """A training recipe: a profile, a device, the shared options named, key=value settings, a required --out."""
        p = add(name, func, about, "profile", "device", *shared, "settings", aliases=aliases)
        p.add_argument("--out", required=True, help=out)
        return p

    about = "train a DCAE (phase one, then optional adversarial phase two); settings: TrainConfig or DCAEConfig fields"
    recipe("train-ae", cmd_train_ae, about, STATE, "resumable")

    about = (
        "train a neural vocoder (log-mel -> waveform) and measure it against Griffin-Lim; settings: TrainConfig "
        "fields or the vocoder's sizes (dim, blocks, kernel, expansion, frame_clock, consistency_steps)"
    )
    recipe("train-vocoder", cmd_train_vocoder, about, STATE, "resumable").add_argument(
        "--extra-audio",
        action="append",
        default=[],
        metavar="DIR",
        help="a folder of more training audio, cut into clips (repeatable); files a held-out clip came from are skipped",
    )

    about = "train the compression sweep (time factor x channels, one budget) and measure it"
    p = add("sweep", cmd_sweep, about, "profile", "device")
    p.add_argument("--out", required=True, help="folder: one sub-folder per point, and sweep.json")
    p.add_argument("--points", default=None, help="comma-separated points like t8c4,t16c16 (default: all)")

    about = "train the label classifier that judges generated clips; settings: TrainConfig fields"
    recipe("train-classifier", cmd_train_classifier, about, "folder for logs and label_classifier.safetensors")

    about = (
        "train miniCLAP (contrastive text-audio embeddings) and measure retrieval on held-out clips and phrasings; "
        "settings: TrainConfig or ClapConfig fields"
    )
    recipe("train-clap", cmd_train_clap, about, "folder for logs and clap.safetensors")

    transformer_out = "folder for logs and transformer.safetensors"
    about = (
        "train the latent transformer (flow matching, text prompts) on an autoencoder's latents; settings: "
        "TrainConfig, GenerationConfig or TransformerConfig fields"
    )
    p = recipe(
        "train-transformer", cmd_train_transformer, about, transformer_out, "autoencoder", aliases=("train-dit",)
    )
    p.add_argument(
        "--classifier",
        default=None,
        help="a label classifier; with it, conditional accuracy and Frechet distance go on the card",
    )

    about = (
        "fine-tune a text transformer to follow a melody (piano roll) too, and measure it against a text-only "
        "and a random-melody baseline; settings: TrainConfig, GenerationConfig or TransformerConfig fields"
    )
    p = recipe("train-melody", cmd_train_melody, about, transformer_out, "autoencoder")
    p.add_argument("--init", default=str(SHIPPED_TRANSFORMER), help="the text transformer to start from")
    p.add_argument("--melody", choices=("cross", "add"), default="cross", help="how the melody enters the model")
    p.add_argument("--skip-eval", action="store_true", help="skip the melody measurement at the end")

    about = (
        "train a few-step student of a latent transformer by rectified-flow reflow (pairs sampled from the teacher); "
        "settings: TrainConfig or GenerationConfig fields"
    )
    p = recipe("distill", cmd_distill, about, transformer_out, "autoencoder")
    p.add_argument("--teacher", default=str(SHIPPED_TRANSFORMER), help="the transformer to distill (default: shipped)")
    p.add_argument(
        "--pairs", type=int, default=None, help="teacher samples to train on (default: the profile's n_clips)"
    )

    about = (
        "measure how well a melody transformer follows melodies, against a text-only and a random-melody "
        "baseline, and write the figures onto its card"
    )
    p = add("evaluate-melody", cmd_evaluate_melody, about, "profile", "device", "autoencoder")
    p.add_argument("--checkpoint", required=True, help="a transformer from train-melody")
    p.add_argument("--text", default=str(SHIPPED_TRANSFORMER), help="the text-only baseline (default: the shipped one)")

    about = (
        "teach the latent transformer a new sound and a new word for it from a few clips: low-rank adapters (LoRA) "
        "and one new row of the prompt embedding, the base frozen; settings: TrainConfig fields (n_clips: the base "
        "model's own clips kept beside them) or prior_share"
    )
    p = recipe("train-lora", cmd_train_lora, about, "folder for lora_WORD.safetensors and its card", "autoencoder")
    p.add_argument("--clips", required=True, help="a folder of at least 4 clips of the sound (e.g. from synth --voice)")
    p.add_argument("--word", required=True, help="the new prompt word, one the model does not know yet (e.g. bell)")
    p.add_argument("--rank", type=int, default=4, help="the adapters' rank r (default 4)")
    p.add_argument("--alpha", type=float, default=None, help="the adapters' scale alpha; the update is alpha / r B A")
    p.add_argument(
        "--layers",
        default=",".join(DEFAULT_LAYERS),
        help=f"which linear layers of each block get adapters, comma-separated, of {','.join(LORA_LAYERS)}",
    )
    p.add_argument("--checkpoint", default=str(SHIPPED_TRANSFORMER), help="the base transformer (default: shipped)")


def cmd_train_ae(args) -> None:
    from minidcae.cli.cards.dcae import dcae_summary
    from minidcae.recipes.autoencoder import train_ae
    from minidcae.training import distributed

    run = run_of(args)
    distributed.init()  # under torchrun: join the other ranks (DDP); otherwise nothing
    path = train_ae(args.out, get_profile(args.profile), run)
    if path is not None:  # None: not rank 0, which reports
        print(f"wrote {path}\n{dcae_summary(read_card(path))}")


def cmd_train_vocoder(args) -> None:
    from minidcae.cli.cards.vocoder import vocoder_summary
    from minidcae.recipes.vocoder import train_vocoder

    path = train_vocoder(args.out, get_profile(args.profile), run_of(args), extra_audio=args.extra_audio)
    print(f"wrote {path}\n{vocoder_summary(read_card(path))}")


def cmd_sweep(args) -> None:
    from minidcae.cli.cards.dcae import sweep_rows
    from minidcae.recipes.sweep import heldout_rhythm_clips, load_sweep, sweep_table, train_sweep, write_table

    profile = get_profile(args.profile)
    train_sweep(args.out, profile, args.points, args.device, command=command_line())
    rows = sweep_table(load_sweep(args.out), profile.mel, heldout_rhythm_clips(profile.mel))
    path = write_table(rows, Path(args.out) / "sweep.json")
    print(f"{sweep_rows(rows)}\nwrote {path}")


def cmd_train_classifier(args) -> None:
    from minidcae.cli.cards.judges import classifier_summary
    from minidcae.recipes.classifier import train_classifier

    path = train_classifier(args.out, get_profile(args.profile), run_of(args))
    print(f"wrote {path}\n{classifier_summary(read_card(path))}")


def cmd_train_clap(args) -> None:
    from minidcae.cli.cards.judges import clap_summary
    from minidcae.recipes.clap import train_clap

    path = train_clap(args.out, get_profile(args.profile), run_of(args))
    print(f"wrote {path}\n{clap_summary(read_card(path))}")


def cmd_train_transformer(args) -> None:
    from minidcae.cli.cards.transformers import transformer_summary
    from minidcae.recipes.transformer import train_transformer
    from minidcae.training import distributed

    distributed.init()  # under torchrun: join the other ranks (DDP); otherwise nothing
    profile = get_profile(args.profile)
    path = train_transformer(args.out, profile, args.autoencoder, run_of(args), classifier_path=args.classifier)
    if path is not None:  # None: not rank 0, which reports
        print(f"wrote {path}\n{transformer_summary(read_card(path))}")


def cmd_train_melody(args) -> None:
    from minidcae.cli.cards.melody import melody_summary
    from minidcae.recipes.melody import train_melody

    path = train_melody(args.out, get_profile(args.profile), args.autoencoder, args.init, args.melody, run_of(args))
    print(f"wrote {path}\n{melody_summary(read_card(path))}")


def cmd_distill(args) -> None:
    from minidcae.cli.cards.transformers import student_summary
    from minidcae.recipes.distill import distill

    if args.pairs is not None and args.pairs < 1:
        raise MinidcaeError(f"--pairs must be at least 1, got {args.pairs}")
    path = distill(args.out, get_profile(args.profile), args.teacher, args.autoencoder, run_of(args), args.pairs)
    print(f"wrote {path}\n{student_summary(read_card(path))}")


def cmd_evaluate_melody(args) -> None:
    from minidcae.cli.cards.melody import melody_obedience_text
    from minidcae.recipes.melody_obedience import evaluate_melody

    profile = get_profile(args.profile)
    figures = evaluate_melody(args.checkpoint, profile, args.text, args.autoencoder, command_line(), args.device)
    print(f"{melody_obedience_text(figures)}\nwrote the figures onto {args.checkpoint}'s card")


def cmd_train_lora(args) -> None:
    from minidcae.cli.cards.lora import lora_summary
    from minidcae.recipes.lora import train_lora

    if args.rank < 1:
        raise MinidcaeError(f"--rank {args.rank}: a LoRA rank is 1 or more")
    layers = tuple(k.strip() for k in args.layers.split(",") if k.strip())
    path = train_lora(
        args.clips,
        args.word,
        args.out,
        get_profile(args.profile),
        run_of(args),
        args.rank,
        args.alpha,
        layers,
        args.checkpoint,
        args.autoencoder,
    )
    print(f"wrote {path}\n{lora_summary(json.loads(path.with_suffix('.json').read_text()))}")
