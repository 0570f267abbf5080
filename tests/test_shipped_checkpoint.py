"""The shipped DCAE still meets the figures on its model card, and the card's figures meet the bar.

The card (data_samples/checkpoints/README.md) quotes the means in dcae_t8.json; the per-clip
figures behind them are in dcae_t8_heldout.json. Here we recompute a few clips from scratch.
dcae_t8 is the run's phase-one checkpoint; dcae_t8_phase2 is the same run after phase two.
"""

import json

import pytest

from minidcae.core.config import SHIPPED_DCAE, SHIPPED_DCAE_PHASE2
from minidcae.models.dcae import load_autoencoder, mel_config_of
from minidcae.recipes.autoencoder import evaluate_autoencoder
from minidcae.sound.data import heldout_clips

QUALITY_BAR_DB = 2.0  # mean absolute log-mel error, power mel in dB, 80 dB floor
QUALITY_BAR_EXCESS = 0.15  # Griffin-Lim from the reconstruction within 15% of the oracle on MR-STFT


@pytest.fixture(scope="module")
def shipped():
    model, meta = load_autoencoder(SHIPPED_DCAE)
    per_clip = json.loads(SHIPPED_DCAE.with_name("dcae_t8_heldout.json").read_text())
    return model, meta, per_clip


def test_card_verdicts_follow_from_its_figures(shipped):
    _, meta, _ = shipped
    card = SHIPPED_DCAE.with_name("README.md").read_text()
    assert meta["config"]["time_factor"] == 8
    for name, m in meta["info"]["heldout"].items():
        meets = m["mel_l1_db"] <= QUALITY_BAR_DB and m["mr_stft_excess"] <= QUALITY_BAR_EXCESS
        assert f"{name}: {'meets' if meets else 'MISSES'} the bar" in card


def test_card_figures_meet_the_quality_bar(shipped):
    _, meta, _ = shipped
    for name, m in meta["info"]["heldout"].items():
        assert m["mel_l1_db"] <= QUALITY_BAR_DB, name
        assert m["mr_stft_excess"] <= QUALITY_BAR_EXCESS, name


def test_card_means_are_the_means_of_the_per_clip_figures(shipped):
    _, meta, per_clip = shipped
    for name, report in per_clip.items():
        clips = report["clips"].values()
        for key, value in meta["info"]["heldout"][name].items():
            assert abs(sum(c[key] for c in clips) / len(clips) - value) < 1e-6


def test_recomputed_figures_match_the_card(shipped):
    model, meta, per_clip = shipped
    mel = mel_config_of(meta)
    sets = heldout_clips(mel)
    pick = {
        "synthetic held-out": list(sets["synthetic held-out"])[:2],
        "real held-out": list(sets["real held-out"])[:3],
    }
    subset = {name: {clip: sets[name][clip] for clip in clips} for name, clips in pick.items()}
    fresh = evaluate_autoencoder(model, mel, subset, meta["info"]["griffin_lim_iters"])
    for name, clips in pick.items():
        for clip in clips:
            card, now = per_clip[name]["clips"][clip], fresh[name]["clips"][clip]
            assert now["mel_l1_db"] == pytest.approx(card["mel_l1_db"], abs=0.05), clip
            assert now["mr_stft_dcae"] == pytest.approx(card["mr_stft_dcae"], rel=0.02), clip


def test_the_same_runs_phase_two_checkpoint_is_shipped_beside_it():
    model, meta = load_autoencoder(SHIPPED_DCAE_PHASE2)
    _, first = load_autoencoder(SHIPPED_DCAE)
    assert meta["info"]["phases"] == ["phase1", "phase2"] and first["info"]["phases"] == ["phase1"]
    assert meta["info"]["command"] == first["info"]["command"] and model.cfg.time_factor == 8


def test_the_shipped_sweep_still_measures_what_its_table_says():
    from minidcae.core.config import DEFAULT_MEL, SHIPPED_SWEEP
    from minidcae.recipes.sweep import evaluate_point, heldout_rhythm_clips, load_sweep

    table = {r["point"]: r for r in json.loads((SHIPPED_SWEEP / "sweep.json").read_text())}
    models = load_sweep(SHIPPED_SWEEP)
    assert set(models) | {"oracle"} == set(table)
    clips = heldout_rhythm_clips(DEFAULT_MEL)  # the 8 clips the table was measured on
    for point in ("t2c4", "t16c4"):
        now = evaluate_point(models[point][0], DEFAULT_MEL, clips)
        assert now["mel_l1_db"] == pytest.approx(table[point]["mel_l1_db"], abs=0.05), point
        assert now["onset_f1"] == pytest.approx(table[point]["onset_f1"], abs=0.03), point


def test_the_shipped_classifier_and_vocoder_load_and_their_cards_quote_their_json():
    from minidcae.core.config import SHIPPED_CLASSIFIER, SHIPPED_VOCODER
    from minidcae.models.classifier import load_classifier
    from minidcae.models.vocoder import load_vocoder

    card = SHIPPED_DCAE.with_name("README.md").read_text()
    _, meta = load_classifier(SHIPPED_CLASSIFIER)
    assert f"instrument {meta['info']['heldout_accuracy']['instrument']:.3f}" in card
    _, meta = load_vocoder(SHIPPED_VOCODER)
    speech = meta["info"]["heldout"]["speech"]
    assert f"PESQ {speech['pesq_vocoder']:.2f} vs {speech['pesq_griffin_lim']:.2f}" in card
