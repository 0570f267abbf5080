"""The label classifier and the train-transformer / generate commands on ci sizes."""

import json

import numpy as np
import pytest
import soundfile as sf
import torch

from minidcae.cli.main import main
from minidcae.core.config import DEFAULT_MEL, SHIPPED_DCAE
from minidcae.core.profiles import get_profile
from minidcae.generation.pipeline import generate, load_generator
from minidcae.generation.sampling import sample_latents
from minidcae.models.classifier import labelled_mels
from minidcae.models.transformer import load_transformer
from minidcae.recipes.classifier import train_classifier
from minidcae.recipes.transformer import encode_training_set
from minidcae.training.recipe import Run


def test_classifier_training_never_reads_held_out_seeds():
    with pytest.raises(ValueError, match="held-out"):
        labelled_mels(10, 1.0, DEFAULT_MEL, seed=999_995)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    classifier = train_classifier(root / "clf", get_profile("ci"), Run(quiet=True))
    assert (
        main(["train-transformer", "--profile", "ci", "--out", str(root / "tr"), "--classifier", str(classifier)]) == 0
    )
    return root, classifier


def test_train_transformer_writes_a_card_with_obedience_and_chance(trained):
    root, _ = trained
    info = json.loads((root / "tr" / "transformer.json").read_text())["info"]
    o = info["obedience"]
    assert o["chance"] == {"instrument": pytest.approx(1 / 6), "mode": 0.5}
    assert 0 <= o["instrument_accuracy"] <= 1 and o["frechet_generated_vs_real"] >= 0
    assert info["latent_shape"][:2] == [8, 16] and info["command"].startswith("minidcae train-transformer")


def test_generate_writes_the_asked_length_and_repeats_with_a_seed(trained, tmp_path, capsys):
    root, _ = trained
    dit = str(root / "tr" / "transformer.safetensors")
    for name in ("a.wav", "b.wav"):
        assert (
            main(
                [
                    "generate",
                    "happy piano, 120 bpm",
                    str(tmp_path / name),
                    "--seconds",
                    "2",
                    "--steps",
                    "4",
                    "--checkpoint",
                    dit,
                ]
            )
            == 0
        )
    a, sr = sf.read(tmp_path / "a.wav")
    b, _ = sf.read(tmp_path / "b.wav")
    assert abs(len(a) / sr - 2.0) < 0.1 and (a == b).all()
    assert "s of audio per second" in capsys.readouterr().out


def test_guidance_and_seed_change_the_sample(trained):
    root, _ = trained
    model, _ = load_transformer(root / "tr" / "transformer.safetensors")
    z = [sample_latents(model, ["sad violin"], 6, steps=3, cfg_scale=s, seed=k) for s, k in ((1, 0), (5, 0), (1, 1))]
    assert z[0].shape == (1, 8, 16, 6)
    assert not torch.allclose(z[0], z[1]) and not torch.allclose(z[0], z[2])


def test_bad_prompts_and_wrong_autoencoders_fail_in_one_line(trained, tmp_path, capsys):
    root, classifier = trained
    dit = str(root / "tr" / "transformer.safetensors")
    assert main(["generate", "sad kazoo", str(tmp_path / "x.wav"), "--checkpoint", dit]) == 2
    assert "kazoo" in capsys.readouterr().err
    assert main(["generate", "sad violin", str(tmp_path / "x.wav"), "--checkpoint", str(classifier)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "label_classifier" in err[0]
    assert not (tmp_path / "x.wav").exists()


def test_the_training_set_is_normalised_with_the_autoencoders_statistics():
    from minidcae.models.dcae import load_autoencoder

    ae, _ = load_autoencoder(SHIPPED_DCAE)
    z, labels = encode_training_set(ae, DEFAULT_MEL, 16, 2.0)
    assert z.shape[:3] == (16, 8, 16) and len(labels) == 16
    assert abs(z.mean().item()) < 0.5 and 0.5 < z.std().item() < 2.0


def test_generate_is_the_pipeline_the_command_runs(trained, tmp_path):
    root, _ = trained
    checkpoint = root / "tr" / "transformer.safetensors"
    assert (
        main(
            [
                "generate",
                "sad violin",
                str(tmp_path / "c.wav"),
                "--seconds",
                "1",
                "--steps",
                "3",
                "--seed",
                "2",
                "--checkpoint",
                str(checkpoint),
            ]
        )
        == 0
    )
    transformer, autoencoder, mel = load_generator(checkpoint, SHIPPED_DCAE)
    wav = generate(transformer, autoencoder, mel, "sad violin", 1.0, steps=3, seed=2)  # (1, samples)
    written, _ = sf.read(tmp_path / "c.wav", dtype="float32")
    assert wav.shape[-1] == len(written)
    assert np.allclose(wav[0].clamp(-1, 1).numpy(), written, atol=1e-4)  # a 16-bit file: equal to its precision


def test_the_former_command_and_checkpoint_names_still_work():
    from minidcae.cli.main import build_parser
    from minidcae.core.config import SHIPPED_TRANSFORMER

    assert build_parser().parse_args(["train-dit", "--out", "x"]).func.__name__ == "cmd_train_transformer"
    model, meta = load_transformer(SHIPPED_TRANSFORMER)  # written as kind "dit", before the rename
    assert meta["kind"] == "dit" and type(model).__name__ == "LatentTransformer"
