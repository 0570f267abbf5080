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


def hand_sampled(model, prompts, x, grid, scales, heun):
    """A second sampler written out: APG (momentum -0.75, moved on the first call of a step only) at scales[k] on
    step k, the prompt's velocity alone where scales[k] is None; Euler or Heun steps along grid."""
    from minidcae.generation.guidance import apg
    from minidcae.models.text import tokenize

    b = len(prompts)
    ids, mask = tokenize(prompts + [""] * b)
    history = {"a": 0.0, "previous": 0.0}

    def velocity(x, t, k, first):
        if scales[k] is None:
            return model(x, torch.full((b,), t), ids[:b], mask[:b])
        v_cond, v_uncond = model(torch.cat([x, x]), torch.full((2 * b,), t), ids, mask).chunk(2)
        if first:  # a_k = d_k - 0.75 a_{k-1}
            history["previous"] = history["a"]
            history["a"] = (v_cond - v_uncond) - 0.75 * history["previous"]
            d = history["a"]
        else:  # Heun's second call: its own d with the same history a_{k-1}
            d = (v_cond - v_uncond) - 0.75 * history["previous"]
        return apg(v_cond, v_cond - d, scales[k])  # cap, projection and eta as apg does them, the momentum done here

    with torch.no_grad():
        for k, (t, t_next) in enumerate(zip(grid[:-1], grid[1:])):
            d1 = velocity(x, t, k, True)
            if not heun:
                x = x + (t_next - t) * d1
                continue
            d2 = velocity(x + (t_next - t) * d1, t_next, k, False)
            x = x + (t_next - t) * (d1 + d2) / 2
    return x


def test_apg_sampling_moves_the_momentum_once_a_step_and_guides_only_the_window():
    from minidcae.core.config import SHIPPED_TRANSFORMER
    from minidcae.generation.guidance import GuidanceWindow
    from minidcae.generation.samplers import time_grid

    torch.set_num_threads(1)
    model, _ = load_transformer(SHIPPED_TRANSFORMER)
    prompts, steps = ["happy piano", "sad violin"], 4
    noise = torch.randn(2, 8, 16, 4, generator=torch.Generator().manual_seed(3))  # (B, C, F, T)
    grid = time_grid(steps, 3.0)
    window = GuidanceWindow(0.5, decay=1.0, min_scale=3.0)  # 4 steps: steps 1 and 2, at 15 then 3
    calls = []
    hook = model.register_forward_hook(lambda m, args, out: calls.append(args[0].shape[0]))
    for sampler, w, scales in (
        ("heun", None, [15.0] * steps),
        ("euler", window, [None, 15.0, 3.0, None]),
        ("heun", window, [None, 15.0, 3.0, None]),
    ):
        calls.clear()
        got = sample_latents(model, prompts, 4, steps, 15.0, sampler, noise=noise, guidance="apg", window=w)
        per_step = 2 if sampler == "heun" else 1
        assert calls == [2 if s is None else 4 for s in scales for _ in range(per_step)]  # B alone, 2B guided
        want = hand_sampled(model, prompts, noise, grid, scales, sampler == "heun")
        # float rounding only (the momentum moved at every call instead would differ by up to 4.4 here)
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)
    hook.remove()


def test_the_guidance_flags_reach_the_pipeline(trained, tmp_path, capsys):
    from minidcae.generation.guidance import GuidanceWindow

    root, _ = trained
    checkpoint = root / "tr" / "transformer.safetensors"
    flags = ["--seconds", "1", "--steps", "4", "--cfg", "6", "--checkpoint", str(checkpoint)]
    window = ["--guidance-interval", "0.5", "--guidance-decay", "1", "--guidance-min", "2"]
    assert main(["generate", "sad violin", str(tmp_path / "w.wav"), *flags, *window]) == 0
    transformer, autoencoder, mel = load_generator(checkpoint, SHIPPED_DCAE)
    wav = generate(
        transformer, autoencoder, mel, "sad violin", 1.0, steps=4, cfg_scale=6.0, window=GuidanceWindow(0.5, 1.0, 2.0)
    )  # (1, samples)
    every = generate(transformer, autoencoder, mel, "sad violin", 1.0, steps=4, cfg_scale=6.0)  # (1, samples)
    written, _ = sf.read(tmp_path / "w.wav", dtype="float32")
    assert np.allclose(wav[0].clamp(-1, 1).numpy(), written, atol=1e-4)
    assert not torch.allclose(wav, every)  # the window changed the clip
    assert main(["generate", "sad violin", str(tmp_path / "x.wav"), *flags, "--guidance-interval", "1.5"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "guidance interval 1.5" in err[0] and not (tmp_path / "x.wav").exists()


def test_the_window_comparison_counts_evaluations_by_hand_and_an_interval_of_1_changes_nothing():
    from minidcae.core.config import SHIPPED_CLASSIFIER, SHIPPED_TRANSFORMER
    from minidcae.generation.guidance import GuidanceWindow
    from minidcae.measure.guidance import window_comparison
    from minidcae.models.classifier import load_classifier

    torch.set_num_threads(1)
    transformer, autoencoder, mel = load_generator(SHIPPED_TRANSFORMER, SHIPPED_DCAE)
    classifier, _ = load_classifier(SHIPPED_CLASSIFIER)
    same = window_comparison(transformer, autoencoder, classifier, mel, GuidanceWindow(1.0), 1, steps=2)
    assert same["clips"] == 12 and same["rows"]["window"] == same["rows"]["every step"]  # the same clips, judged alike
    # 4 Heun steps at 0.5: steps 1 and 2 guided; a Heun step evaluates twice, a guided evaluation counts two clips
    half = window_comparison(transformer, autoencoder, classifier, mel, GuidanceWindow(0.5), 1, steps=4, sampler="heun")
    assert half["rows"]["window"]["guided_steps"] == 2 and half["rows"]["window"]["evaluations"] == (4 + 2) * 2
    assert half["rows"]["every step"]["evaluations"] == (4 + 4) * 2 and half["interval"] == 0.5
