import pytest
import torch

from minidcae.core.config import TrainConfig
from minidcae.models.article_ae import ArticleAE, article_ae_as_printed, parameter_breakdown
from minidcae.recipes.autoencoder import autoencoder_trainer
from minidcae.sound.data import MelCache, SynthMelDataset
from minidcae.training.trainer import infinite_batches


def test_as_printed_fails_on_its_own_example_input():
    model = article_ae_as_printed()
    # three halvings of 128 x 64 give 16 x 8, so the linear layer sees 128 * 16 * 8 = 16384 features
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(1x16384 and 8192x64\)"):
        model(torch.zeros(1, 1, 128, 64))


def test_fixed_model_keeps_the_article_input_shape():
    model = ArticleAE(n_mels=128, frames=64)
    x = torch.zeros(2, 1, 128, 64)
    x_hat, aux = model(x)
    assert x_hat.shape == x.shape and aux == {}
    assert model.encode(x).shape == (2, 64)
    # the same numbers the article printed for the decoder's reshape, now agreeing with the encoder
    assert model.unflatten_shape == (128, 16, 8) and model.to_latent.in_features == 128 * 16 * 8


def test_default_64_mel_model_round_trips_shapes_and_stays_in_range():
    torch.manual_seed(0)
    model = ArticleAE()
    x = 3 * torch.randn(4, 1, 64, 64)  # values well outside [-1, 1] on purpose
    z = model.encode(x)
    x_hat = model.decode(z, shape=(64, 64))
    assert z.shape == (4, model.latent_numbers()) == (4, 64)
    assert x_hat.shape == (4, 1, 64, 64)
    assert x_hat.min() >= -1 and x_hat.max() <= 1


def test_wrong_input_length_raises_value_error_naming_expected_frames():
    model = ArticleAE(n_mels=64, frames=64)
    with pytest.raises(ValueError, match="fixed input length.*64 frames, got 64 mels x 128 frames"):
        model(torch.zeros(1, 1, 64, 128))


def test_parameter_breakdown_linear_dominates_and_sums_to_total():
    model = ArticleAE()
    counts = parameter_breakdown(model)
    assert sum(counts.values()) == sum(p.numel() for p in model.parameters())
    assert counts["linear"] > counts["conv"]
    # by hand: Linear(128*8*8, 64) + Linear(64, 128*8*8), weights and biases
    flat = 128 * 8 * 8
    assert counts["linear"] == (flat * 64 + 64) + (64 * flat + flat)


def test_a_few_training_steps_reduce_the_loss(tmp_path):
    torch.manual_seed(0)
    cfg = TrainConfig(steps=30, batch_size=4, crop_frames=64, log_every=1, lr=2e-3, n_clips=8, clip_seconds=1.0)
    ds = SynthMelDataset(n=cfg.n_clips, seconds=cfg.clip_seconds, crop=cfg.crop_frames, cache=MelCache(tmp_path))
    trainer = autoencoder_trainer(ArticleAE(), cfg, device="cpu", quiet=True)
    history = trainer.fit(infinite_batches(ds, cfg.batch_size, cfg.seed))
    losses = [row["loss"] for row in history]
    assert len(losses) == 30
    assert sum(losses[-2:]) / 2 < sum(losses[:2]) / 2
