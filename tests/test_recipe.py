"""The skeleton every recipe shares: settings, EMA, means, the held-out guard, hardware, cards."""

import copy

import pytest
import torch

from minidcae.core.config import DCAEConfig, TrainConfig, VocoderConfig
from minidcae.sound.synth import HELDOUT_SEED_BASE, first_seed
from minidcae.training.recipe import (
    Run,
    card_fields,
    fit,
    hardware,
    keep_ema,
    mean_over,
    measure_sets,
    parse_settings,
    split_overrides,
)
from minidcae.training.trainer import Trainer


def test_settings_are_typed_like_the_defaults_and_go_to_the_first_config_that_has_them():
    overrides = parse_settings(["steps=5", "lr = 1e-3", "widths=8,16", "shortcuts=false"])
    train, model = split_overrides(overrides, {"TrainConfig": TrainConfig(), "DCAEConfig": DCAEConfig()})
    assert train == {"steps": 5, "lr": 1e-3} and model == {"widths": (8, 16), "shortcuts": False}


def test_a_setting_no_config_allows_is_refused_in_one_line_naming_what_is_allowed():
    groups = {"TrainConfig": TrainConfig(), "vocoder size": VocoderConfig()}
    with pytest.raises(ValueError, match="unknown setting 'n_fft'") as err:
        split_overrides({"n_fft": "512"}, groups, only={"vocoder size": ("dim", "blocks")})
    assert "vocoder size fields (dim, blocks)" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ValueError, match="key=value"):
        parse_settings(["steps"])


def test_each_latent_recipe_sends_a_shared_setting_to_the_config_it_reads():
    # TrainConfig and GenerationConfig both have n_clips and clip_seconds. A recipe reads one of each pair; the
    # setting must reach that one (train-transformer n_clips=2048 once set TrainConfig's, which it never reads)
    from minidcae.recipes import distill
    from minidcae.recipes import melody as train_melody
    from minidcae.recipes import transformer as train_transformer

    asked = parse_settings(["n_clips=100", "clip_seconds=2.5", "steps=7"])
    train, gen, _ = split_overrides(asked, train_transformer.SETTINGS, train_transformer.SETTABLE)
    assert train == {"steps": 7} and gen == {"n_clips": 100, "clip_seconds": 2.5}
    train, gen, _ = split_overrides(asked, train_transformer.SETTINGS, train_melody.SETTABLE)
    assert train == {"n_clips": 100, "steps": 7} and gen == {"clip_seconds": 2.5}
    train, gen = split_overrides(asked, distill.SETTINGS, distill.SETTABLE)
    assert train == {"n_clips": 100, "steps": 7} and gen == {"clip_seconds": 2.5}


def test_mean_over_clips_is_the_plain_mean_of_each_figure():
    rows = {"a": {"x": 1.0, "y": 4.0}, "b": {"x": 3.0, "y": 0.0}}
    assert mean_over(rows) == {"x": 2.0, "y": 2.0} == mean_over(list(rows.values()))
    assert mean_over(rows, ["y"]) == {"y": 2.0}


def test_measure_sets_reports_every_clip_of_every_set_and_each_sets_means():
    sets = {"music": {"a": 1.0, "b": 3.0}, "speech": {"c": 5.0}}
    report = measure_sets(sets, lambda set_name, wav: {"x": wav, "speech": float(set_name == "speech")})
    assert report == {
        "music": {
            "mean": {"x": 2.0, "speech": 0.0},
            "clips": {"a": {"x": 1.0, "speech": 0.0}, "b": {"x": 3.0, "speech": 0.0}},
        },
        "speech": {"mean": {"x": 5.0, "speech": 1.0}, "clips": {"c": {"x": 5.0, "speech": 1.0}}},
    }


def test_keep_ema_loads_the_average_back_into_the_model():
    model = torch.nn.Linear(2, 1)
    trainer = Trainer(
        {"m": model},
        lambda m, b: {"loss": m["m"](b["x"]).square().mean()},
        {"loss": model},
        TrainConfig(steps=3, ema_decay=0.9, lr=0.1),
        device="cpu",
        ema=("m",),
        quiet=True,
    )
    trainer.fit(lambda step: {"x": torch.ones(4, 2)})
    assert not torch.equal(model.weight, trainer.emas["m"].weight)
    keep_ema(trainer, "m")
    assert torch.equal(model.weight, trainer.emas["m"].weight)


def test_fit_is_the_trainer_run_by_hand_with_the_ema_kept():
    cfg = TrainConfig(steps=4, ema_decay=0.9, lr=0.1, log_every=1)

    def losses(m, b):
        return {"loss": m["m"](b["x"]).square().mean()}

    def batches(step):
        return {"x": torch.full((4, 2), 1.0 + step)}

    torch.manual_seed(0)
    by_hand = torch.nn.Linear(2, 1)
    trainer = Trainer({"m": by_hand}, losses, {"loss": by_hand}, cfg, device="cpu", ema=("m",), quiet=True)
    trainer.fit(batches)
    keep_ema(trainer, "m")
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 1)
    history = fit("m", model, losses, cfg, batches, device="cpu", quiet=True).history
    assert torch.equal(model.weight, by_hand.weight) and torch.equal(model.bias, by_hand.bias)
    assert [row["loss"] for row in history] == [row["loss"] for row in trainer.history]


def test_fit_trains_only_the_part_asked_and_a_critic_on_its_own_loss():
    """Phase two's shape: the "loss" trains model[1] only (model[0] stays, as a frozen encoder), the critic
    modules["disc"] learns from "d_loss" alone, for the steps given, not cfg.steps."""
    torch.manual_seed(0)
    model, critic = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 1)), torch.nn.Linear(1, 1)
    model[0].requires_grad_(False)
    first, second, judge = (copy.deepcopy(m.state_dict()) for m in (model[0], model[1], critic))

    def losses(m, b):
        y = m["m"](b["x"])  # (B, 1)
        return {"loss": (y - 1).square().mean(), "d_loss": m["disc"](y.detach()).square().mean()}

    cfg = TrainConfig(steps=50, lr=0.1, log_every=1)
    setup = dict(device="cpu", critic=critic, trained=model[1], quiet=True)
    trainer = fit("m", model, losses, cfg, lambda step: {"x": torch.ones(3, 2)}, 2, **setup)
    assert trainer.step == 2 and trainer.modules["disc"] is critic
    assert all(torch.equal(v, model[0].state_dict()[k]) for k, v in first.items())
    assert not torch.equal(second["weight"], model[1].weight) and not torch.equal(judge["weight"], critic.weight)


def test_training_seeds_never_reach_the_held_out_range():
    assert first_seed(5, 10) == 5 and first_seed(5, 10, heldout=True) == HELDOUT_SEED_BASE + 5
    with pytest.raises(ValueError, match="held-out range"):
        first_seed(HELDOUT_SEED_BASE - 3, 4)


def test_every_card_names_its_machine_and_settings():
    from minidcae.core.profiles import get_profile

    profile = get_profile("ci")
    card = card_fields(None, "minidcae train-x", profile, profile.ae_train, profile.mel, torch.device("cpu"), 12.34)
    assert card["command"] == "minidcae train-x" and card["train_seconds"] == 12.3 and card["profile"] == "ci"
    assert card["hardware"] == hardware("cpu") and "thread" in card["hardware"]


def test_recipes_that_cannot_resume_refuse_run_resume_before_training():
    from minidcae.core.profiles import get_profile
    from minidcae.recipes.classifier import train_classifier
    from minidcae.recipes.transformer import train_transformer

    with pytest.raises(ValueError, match="train_classifier cannot resume"):
        train_classifier("unused", get_profile("ci"), Run(resume=True))
    with pytest.raises(ValueError, match="train_classifier always measures"):
        train_classifier("unused", get_profile("ci"), Run(evaluate=False))
    with pytest.raises(ValueError, match="train_transformer cannot resume"):
        train_transformer("unused", get_profile("ci"), "unused.safetensors", Run(resume=True))
