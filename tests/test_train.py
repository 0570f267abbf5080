import torch

from minidcae.core.config import DCAEConfig, TrainConfig
from minidcae.models.dcae import DCAE
from minidcae.models.discriminators import PatchGAN
from minidcae.recipes.autoencoder import autoencoder_trainer
from minidcae.sound.data import MelCache, SynthMelDataset
from minidcae.training.losses import discriminator_hinge_loss, multi_resolution_mel_loss
from minidcae.training.trainer import STATE_FILE, infinite_batches

SMALL = DCAEConfig(widths=(8, 16, 16, 16), latent_channels=4)


def run(tmp_path, name, steps, seed=0, resume=False, **cfg):
    ds = SynthMelDataset(8, 1.5, 32, cache=MelCache(tmp_path / "cache"))
    torch.manual_seed(seed)
    model = DCAE(SMALL)
    config = TrainConfig(steps=6, batch_size=4, crop_frames=32, log_every=1, checkpoint_every=3, **cfg)
    trainer = autoencoder_trainer(model, config, tmp_path / name, "cpu", resume=resume, quiet=True)
    trainer.fit(infinite_batches(ds, 4, 0), steps)
    return model, trainer


def test_seeded_runs_repeat_exactly(tmp_path):
    a, _ = run(tmp_path, "a", 4)
    b, _ = run(tmp_path, "b", 4)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))


def test_resume_continues_as_if_never_stopped(tmp_path):
    whole, _ = run(tmp_path, "whole", 6, ema_decay=0.9)
    run(tmp_path, "split", 3, ema_decay=0.9)
    resumed, trainer = run(tmp_path, "split", 6, seed=123, resume=True, ema_decay=0.9)  # other init: overwritten
    assert trainer.step == 6
    assert all(torch.equal(x, y) for x, y in zip(whole.state_dict().values(), resumed.state_dict().values()))
    assert (tmp_path / "split" / STATE_FILE).exists() and (tmp_path / "split" / "log.csv").exists()
    assert not list((tmp_path / "split").glob("*.tmp"))


def test_training_lowers_the_loss(tmp_path):
    _, trainer = run(tmp_path, "l", 30, lr=3e-3)
    losses = [row["loss"] for row in trainer.history]
    assert sum(losses[-3:]) / 3 < 0.7 * sum(losses[:3]) / 3


def test_phase_two_freezes_the_encoder_and_trains_decoder_and_critic(tmp_path):
    ds = SynthMelDataset(4, 1.5, 32, cache=MelCache(tmp_path / "cache"))
    model, disc = DCAE(SMALL), PatchGAN(width=8)
    enc, dec, d = ([p.clone() for p in m.parameters()] for m in (model.encoder, model.decoder, disc))
    trainer = autoencoder_trainer(
        model, TrainConfig(steps=2, batch_size=2, adv_steps=2), device="cpu", disc=disc, quiet=True
    )
    trainer.fit(infinite_batches(ds, 2, 0))
    assert all(torch.equal(a, b) for a, b in zip(enc, model.encoder.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(dec, model.decoder.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(d, disc.parameters()))
    assert {"g_adv", "fm", "d_loss"} <= set(trainer.history[-1])


def test_losses_on_hand_worked_cases():
    x = torch.zeros(1, 1, 8, 8)
    assert float(multi_resolution_mel_loss(x + 0.5, x)) == 0.5  # a constant offset survives every pooling
    # real scored +2 (beyond the margin), fake scored -1 (at the margin): no loss left
    assert float(discriminator_hinge_loss(torch.full((4,), 2.0), torch.full((4,), -1.0))) == 0.0
    assert float(discriminator_hinge_loss(torch.zeros(4), torch.zeros(4))) == 2.0


def test_mel_spectral_convergence_on_a_hand_worked_case():
    import math

    from minidcae.sound.audio import normalize_log_mel
    from minidcae.training.losses import mel_spectral_convergence

    m = torch.rand(2, 1, 8, 8) + 0.1
    x = normalize_log_mel(torch.log(m))
    x_double = normalize_log_mel(torch.log(2 * m))  # every bin twice as loud: SC = ||2M - M|| / ||M|| = 1
    assert math.isclose(float(mel_spectral_convergence(x_double, x)), 1.0, rel_tol=1e-4)
    assert float(mel_spectral_convergence(x, x)) == 0.0
