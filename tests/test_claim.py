"""The claim experiment's held-out prompt set and its verdict rule, on hand-worked cases."""

import torch

from minidcae.claims.text_encoder import claim_verdict
from minidcae.core.config import MelConfig
from minidcae.measure.prompts import heldout_prompt_set
from minidcae.models.phrasings import HELDOUT_TEMPLATES, PHRASE_ID, TRAIN_TEMPLATES
from minidcae.models.text import unknown_words
from minidcae.sound.synth import INSTRUMENTS, MODES


def result(inst, mode, score, kad):
    return {
        "instrument_accuracy": {"interval": inst},
        "mode_accuracy": {"interval": mode},
        "clap_score": {"interval": score},
        "distances": {"kad_interval": kad},
    }


WORDS = result([0.6, 0.8], [0.7, 0.9], [0.3, 0.4], [0.1, 0.2])


def test_verdict_accuracy_intervals_decide_first():
    assert claim_verdict(WORDS, result([0.85, 0.95], [0.7, 0.9], [0.0, 0.1], [0.5, 0.6]))["verdict"] == "improves"
    assert claim_verdict(WORDS, result([0.6, 0.8], [0.4, 0.6], [0.5, 0.6], [0.0, 0.1]))["verdict"] == "lowers"
    assert claim_verdict(WORDS, result([0.85, 0.95], [0.4, 0.6], [0.3, 0.4], [0.1, 0.2]))["verdict"] == "mixed"


def test_verdict_overlapping_accuracies_fall_back_to_clap_score_and_kad():
    assert claim_verdict(WORDS, result([0.7, 0.9], [0.7, 0.9], [0.45, 0.5], [0.15, 0.3]))["verdict"] == "improves"
    # CLAP score above but KAD wholly worse: no claim
    no = claim_verdict(WORDS, result([0.7, 0.9], [0.7, 0.9], [0.45, 0.5], [0.25, 0.3]))
    assert no["verdict"] == "no difference at this scale"
    assert claim_verdict(WORDS, result([0.7, 0.9], [0.7, 0.9], [0.1, 0.2], [0.1, 0.2]))["verdict"] == "lowers"
    assert claim_verdict(WORDS, WORDS)["verdict"] == "no difference at this scale"


def test_heldout_prompt_set_has_each_combination_with_its_own_heldout_phrasing():
    mel = MelConfig()
    mels, prompts, instruments, modes = heldout_prompt_set(1, mel, 0.5)
    assert mels.shape[:3] == (12, 1, mel.n_mels) and len(prompts) == 12
    pairs = [(INSTRUMENTS[i], MODES[m]) for i, m in zip(instruments.tolist(), modes.tolist())]
    assert pairs == [(i, m) for i in INSTRUMENTS for m in MODES]
    for (instrument, _), prompt in zip(pairs, prompts):
        assert instrument in prompt and unknown_words(prompt, PHRASE_ID) == []
    assert torch.isfinite(mels).all()
    assert len(TRAIN_TEMPLATES) and len(HELDOUT_TEMPLATES)
