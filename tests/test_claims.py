"""The pieces behind notebook 13's claims: U-Net skips in the DCAE, latent moments, the classifier as a
perceptual network, the damage functions and restoration pairs, and each claim's verdict rule."""

import math

import numpy as np
import pytest
import scipy.stats
import torch

from minidcae.claims import article as ac
from minidcae.claims import restoration as rs
from minidcae.core.config import SHIPPED_DCAE, ClassifierConfig, DCAEConfig, MelConfig, TrainConfig
from minidcae.core.errors import MinidcaeError
from minidcae.generation.autoencoding import reconstruct
from minidcae.measure.latent import channel_moments, excess_kurtosis
from minidcae.models.classifier import LabelClassifier
from minidcae.models.dcae import DCAE, load_autoencoder
from minidcae.recipes.autoencoder import autoencoder_losses
from minidcae.sound.audio import log_mel
from minidcae.training.losses import feature_matching_loss

SMALL = DCAEConfig(widths=(4, 8, 8, 8))


def test_skips_off_keeps_the_shipped_checkpoint_and_adds_no_weights():
    model, _ = load_autoencoder(SHIPPED_DCAE)
    assert model.cfg.skips is False
    assert not any("skip_in" in k for k in model.state_dict())
    skip = DCAE(DCAEConfig(skips=True))
    extra = set(skip.state_dict()) - set(model.state_dict())
    # one 1x1 conv (weight and bias) per level below the latent: widths 16, 32, 64
    assert extra == {f"decoder.skip_in.{k}.{p}" for k in range(3) for p in ("weight", "bias")}


def test_encoder_with_a_skip_list_computes_the_same_latent():
    torch.manual_seed(0)
    model = DCAE(SMALL).eval()
    x = torch.randn(2, 1, 64, 32)
    z, skips = model.encode_with_skips(x)
    assert torch.equal(z, model.encode(x))
    # level i's map before its Down: widths (4, 8, 8), frequency / 2^i and time / 2^i (factors 4 and 8)
    assert [tuple(s.shape) for s in skips] == [(2, 4, 64, 32), (2, 8, 32, 16), (2, 8, 16, 8)]


def test_zero_skip_convs_decode_exactly_as_the_latent_alone():
    torch.manual_seed(0)
    model = DCAE(replace_skips(SMALL)).eval()
    for conv in model.decoder.skip_in:
        torch.nn.init.zeros_(conv.weight), torch.nn.init.zeros_(conv.bias)
    x = torch.randn(1, 1, 64, 32)
    z, skips = model.encode_with_skips(x)
    assert torch.equal(model.decode(z, skips=skips), model.decode(z))


def test_skip_forward_is_decode_of_encode_with_skips_and_the_skips_matter():
    torch.manual_seed(0)
    model = DCAE(replace_skips(SMALL)).eval()
    x = torch.randn(1, 1, 64, 32)
    z, skips = model.encode_with_skips(x)
    with torch.no_grad():
        assert torch.allclose(model(x)[0], model.decode(z, x.shape[-2:], skips))
        assert not torch.allclose(model.decode(z, skips=skips), model.decode(z, skips=[s * 0 for s in skips]))


def test_skips_are_refused_where_they_cannot_be_used():
    with pytest.raises(ValueError, match="without U-Net skips"):
        DCAE(SMALL).decode(torch.zeros(1, 8, 16, 4), skips=[])
    with pytest.raises(MinidcaeError, match="cannot decode a latent alone"):
        reconstruct(DCAE(replace_skips(SMALL)), torch.zeros(1, 4096), MelConfig())


def replace_skips(cfg):
    from dataclasses import replace

    return replace(cfg, skips=True)


def test_excess_kurtosis_of_two_points_is_minus_two():
    # values -a, +a in equal numbers: m4 = a^4, m2 = a^2, kurtosis 1, excess -2, whatever the mean added
    z = torch.tensor([-3.0, 3.0] * 8).reshape(2, 1, 2, 4) + 5.0
    assert torch.allclose(excess_kurtosis(z), torch.tensor([-2.0], dtype=torch.float64))


def test_channel_moments_match_scipy_on_gaussian_uniform_and_laplace_channels():
    g = torch.Generator().manual_seed(0)
    n = 4 * 8 * 1000
    cols = [
        torch.randn(n, generator=g) * 2 + 1,
        torch.rand(n, generator=g),
        torch.distributions.Laplace(0, 1).sample((n,)),
    ]
    z = torch.stack(cols).reshape(3, 4, 8, 1000).permute(1, 0, 2, 3)  # (B=4, C=3, F=8, T=1000): channel c = cols[c]
    m = channel_moments(z)
    for c, col in enumerate(cols):
        v = col.double().numpy()
        assert m["mean"][c] == pytest.approx(v.mean(), abs=1e-9)
        assert m["std"][c] == pytest.approx(v.std(), rel=1e-9)
        assert m["excess_kurtosis"][c] == pytest.approx(scipy.stats.kurtosis(v, fisher=True, bias=True), abs=1e-9)
    # and near the textbook values 0, -1.2, 3 at this size
    assert m["excess_kurtosis"] == pytest.approx([0.0, -1.2, 3.0], abs=0.3)


def test_classifier_feature_maps_are_each_level_and_the_embedding():
    torch.manual_seed(0)
    model = LabelClassifier(ClassifierConfig()).eval()
    x = torch.randn(2, 1, 64, 64)
    maps = model.feature_maps(x)
    assert [tuple(m.shape) for m in maps] == [(2, 16, 64, 64), (2, 32, 32, 32), (2, 64, 16, 16), (2, 96, 8, 8), (2, 64)]
    assert torch.equal(maps[-1], model.embedding(x))
    with torch.no_grad():
        assert float(feature_matching_loss(maps, model.feature_maps(x.clone()))) == 0.0


def test_perceptual_term_adds_weight_times_feature_l1():
    torch.manual_seed(0)
    model, judge = DCAE(SMALL).eval(), LabelClassifier(ClassifierConfig()).eval()
    batch = {"mel": torch.randn(2, 1, 64, 32)}
    cfg = TrainConfig()
    plain = autoencoder_losses(cfg)({"autoencoder": model}, batch)
    with_judge = autoencoder_losses(cfg, judge, 0.5)({"autoencoder": model}, batch)
    x_hat, _ = model(batch["mel"])
    by_hand = sum((f - r).abs().mean() for r, f in zip(judge.feature_maps(batch["mel"]), judge.feature_maps(x_hat))) / 5
    assert float(with_judge["perceptual"]) == pytest.approx(float(by_hand), rel=1e-5)
    assert float(with_judge["loss"] - plain["loss"]) == pytest.approx(0.5 * float(by_hand), rel=1e-4)


def test_a_batch_input_is_encoded_and_the_mel_is_the_target():
    torch.manual_seed(0)
    model = DCAE(SMALL).eval()
    x, y = torch.randn(2, 1, 64, 32), torch.randn(2, 1, 64, 32)
    losses = autoencoder_losses(TrainConfig())
    same = losses({"autoencoder": model}, {"mel": x, "input": x})
    assert float(same["loss"]) == float(losses({"autoencoder": model}, {"mel": x})["loss"])
    x_hat, _ = model(y)
    assert float(losses({"autoencoder": model}, {"mel": x, "input": y})["rec"]) == pytest.approx(
        float((x_hat - x).abs().mean()), rel=1e-6
    )


def test_noise_and_hum_sit_exactly_at_the_asked_level():
    g = torch.Generator().manual_seed(0)
    wav = torch.sin(torch.arange(22050) / 10.0)[None]  # (1, samples)
    noisy = rs.add_noise(wav, 10.0, g)
    snr = 10 * math.log10(float(wav.pow(2).mean() / (noisy - wav).pow(2).mean()))
    assert snr == pytest.approx(10.0, abs=1e-4)
    hum = rs.add_hum(wav, 22050, -20.0, g) - wav
    level = 20 * math.log10(float(hum.pow(2).mean().sqrt() / wav.pow(2).mean().sqrt()))
    assert level == pytest.approx(-20.0, abs=1e-4)
    # 50 Hz and its harmonics only: the spectrum's peak is at 50 Hz (one second, so bin k is k Hz)
    assert int(torch.fft.rfft(hum[0]).abs().argmax()) == 50


def test_clicks_are_counted_short_and_repeatable():
    wav = torch.zeros(1, 22050)
    wav[0, 0] = 1.0  # a peak of 1, so each click's first sample is +-0.5
    clicked = rs.add_clicks(wav, 22050, 8.0, torch.Generator().manual_seed(3))
    changed = (clicked - wav)[0, 1:] != 0
    assert 0 < int(changed.sum()) <= 8 * 22  # 8 bursts of 1 ms (22 samples) at most
    assert torch.equal(clicked, rs.add_clicks(wav, 22050, 8.0, torch.Generator().manual_seed(3)))
    assert float((clicked - wav).abs().max()) == pytest.approx(0.5 * 2, abs=0.5)  # overlapping bursts add at most


def test_damaged_pairs_give_the_clean_crop_as_target_and_repeat():
    mel = MelConfig()
    g = torch.Generator().manual_seed(0)
    waves = [torch.randn(1, 32 * 256, generator=g) * 0.1]  # exactly one crop long: the crop must start at 0
    pairs = rs.DamagedPairs(waves, 32, mel, seed=1)
    item, again = pairs[0], pairs[0]
    assert torch.equal(item["mel"], again["mel"]) and torch.equal(item["input"], again["input"])
    assert item["mel"].shape == item["input"].shape == (1, 64, 32)
    assert torch.equal(item["mel"], log_mel(waves[0], mel))
    assert not torch.allclose(item["input"], item["mel"])
    pairs.set_epoch(1)  # another epoch draws other damage
    assert not torch.equal(pairs[0]["input"], item["input"])


def test_skip_verdict_follows_its_rule_on_hand_made_rows():
    rows = [{"plain": 2.0, "skip_own": 0.5, "skip_zeroed": 9.0, "skip_swapped": 8.0, "skip_swapped_vs_donor": 3.0}] * 3
    report = {"rows": rows, "mean": ac._means(rows)}
    v = ac.skip_verdict(report)
    assert v == {
        "reconstructs_better": True,
        "zeroed_over_plain": 4.5,
        "share_nearer_skips_clip": 1.0,
        "latent_insufficient": True,
        "confirmed": True,
    }
    rows = [dict(rows[0], skip_zeroed=3.0)] * 3  # zeroed only 1.5x worse than plain: not shown
    assert ac.skip_verdict({"rows": rows, "mean": ac._means(rows)})["confirmed"] is False


def test_prior_verdict_needs_intervals_apart():
    def variant(low, high, kurt):
        m = {"mean": [0.0], "std": [1.0], "excess_kurtosis": [kurt]}
        return {"generated_vs_real": {"kad_interval": [low, high]}, "latents": {"raw": m, "normalised": m}}

    report = {"plain_raw": variant(0.5, 0.8, 2.0), "plain": variant(0.2, 0.6, 2.0), "kl": variant(0.05, 0.1, 0.5)}
    v = ac.prior_verdict(report)
    assert v == {
        "kl_closes_gap": "yes",
        "normalisation_closes_gap": "no difference",
        "kl_latents_nearer_gaussian": True,
    }
    report["kl"] = variant(0.7, 0.9, 3.0)
    assert ac.prior_verdict(report)["kl_closes_gap"] == "no, it widens it"


def test_perceptual_and_restoration_verdicts_read_the_sign_of_paired_differences():
    n = 40
    report = {
        "plain": {
            "mel_l1_db": [1.0] * n,
            "mr_stft": [2.0] * n,
            "same_instrument": [1.0] * n,
            "same_mode": [0.5] * n,
            "clap_cosine": [0.9] * n,
        },
        "perceptual": {
            "mel_l1_db": [1.2] * n,
            "mr_stft": [2.0] * n,
            "same_instrument": [1.0] * n,
            "same_mode": [0.5] * n,
            "clap_cosine": [0.95] * n,
        },
    }
    v = ac.perceptual_verdict(report, n_boot=50)
    assert (v["mel_l1_db"]["sign"], v["mr_stft"]["sign"], v["clap_cosine"]["sign"]) == ("+", "0", "+")
    assert v["keeps_meaning_better"] and v["costs_fidelity"] and not v["improves_fidelity"]
    rows = {
        f"c{i}": {
            w: {"mel_l1_db": d, "mr_stft": d}
            for w, d in (("damaged", 5.0), ("shipped", 4.0), ("finetuned", 3.0 + 0.01 * i))
        }
        for i in range(10)
    }
    r = rs.restoration_verdict({"music": rows}, n_boot=50)
    assert r["restores"] and r["beats_shipped"]
    assert r["mel_l1_db_vs_damaged"]["mean"] == pytest.approx(-2.0 + 0.01 * 4.5)
    assert np.isclose(rs.paired({"music": rows}, "mr_stft", "shipped", "damaged"), -1.0).all()
