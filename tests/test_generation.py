"""The label classifier, the Frechet distance, and the train-dit / generate commands on ci sizes."""

import json

import pytest
import soundfile as sf
import torch

from minidcae.classifier import frechet_distance, labelled_mels, train_classifier
from minidcae.cli import main
from minidcae.config import DEFAULT_MEL, SHIPPED_DCAE, get_profile
from minidcae.generation import encode_training_set, load_dit, sample_latents


def test_frechet_distance_is_zero_for_one_set_and_matches_the_formula_for_gaussians():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(4000, 3, generator=g)
    assert frechet_distance(a, a) == pytest.approx(0, abs=1e-6)
    # N(0, I) against N(m, s^2 I) in 3 dims: |m|^2 + 3 (1 + s^2 - 2 s)
    b = 2 * torch.randn(4000, 3, generator=g) + torch.tensor([1.0, 0.0, 0.0])
    assert frechet_distance(a, b) == pytest.approx(1 + 3 * (1 + 4 - 4), rel=0.1)
    assert frechet_distance(a, b) > frechet_distance(a, a + 0.1)


def test_classifier_training_never_reads_held_out_seeds():
    with pytest.raises(ValueError, match="held-out"):
        labelled_mels(10, 1.0, DEFAULT_MEL, seed=999_995)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("gen")
    classifier = train_classifier(root / "clf", get_profile("ci"), quiet=True)
    assert main(["train-dit", "--profile", "ci", "--out", str(root / "dit"), "--classifier", str(classifier)]) == 0
    return root, classifier


def test_train_dit_writes_a_card_with_obedience_and_chance(trained):
    root, _ = trained
    info = json.loads((root / "dit" / "dit.json").read_text())["info"]
    o = info["obedience"]
    assert o["chance"] == {"instrument": pytest.approx(1 / 6), "mode": 0.5}
    assert 0 <= o["instrument_accuracy"] <= 1 and o["frechet_generated_vs_real"] >= 0
    assert info["latent_shape"][:2] == [8, 16] and info["command"].startswith("minidcae train-dit")


def test_generate_writes_the_asked_length_and_repeats_with_a_seed(trained, tmp_path, capsys):
    root, _ = trained
    dit = str(root / "dit" / "dit.safetensors")
    for name in ("a.wav", "b.wav"):
        assert main(["generate", "happy piano, 120 bpm", str(tmp_path / name), "--seconds", "2", "--steps", "4",
                     "--checkpoint", dit]) == 0
    a, sr = sf.read(tmp_path / "a.wav")
    b, _ = sf.read(tmp_path / "b.wav")
    assert abs(len(a) / sr - 2.0) < 0.1 and (a == b).all()
    assert "s of audio per second" in capsys.readouterr().out


def test_guidance_and_seed_change_the_sample(trained):
    root, _ = trained
    model, _ = load_dit(root / "dit" / "dit.safetensors")
    z = [sample_latents(model, ["sad violin"], 6, steps=3, cfg_scale=s, seed=k) for s, k in ((1, 0), (5, 0), (1, 1))]
    assert z[0].shape == (1, 8, 16, 6)
    assert not torch.allclose(z[0], z[1]) and not torch.allclose(z[0], z[2])


def test_bad_prompts_and_wrong_autoencoders_fail_in_one_line(trained, tmp_path, capsys):
    root, classifier = trained
    dit = str(root / "dit" / "dit.safetensors")
    assert main(["generate", "sad kazoo", str(tmp_path / "x.wav"), "--checkpoint", dit]) == 2
    assert "kazoo" in capsys.readouterr().err
    assert main(["generate", "sad violin", str(tmp_path / "x.wav"), "--checkpoint", str(classifier)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "label_classifier" in err[0]
    assert not (tmp_path / "x.wav").exists()


def test_the_training_set_is_normalised_with_the_autoencoders_statistics():
    from minidcae.autoencoder import load_autoencoder

    ae, _ = load_autoencoder(SHIPPED_DCAE)
    z, labels = encode_training_set(ae, DEFAULT_MEL, 16, 2.0)
    assert z.shape[:3] == (16, 8, 16) and len(labels) == 16
    assert abs(z.mean().item()) < 0.5 and 0.5 < z.std().item() < 2.0
