"""The timbre judge (minidcae.measure.timbre): on held-out clips it was not built on, it hears each of the six
instruments and the new voice; nearest centroid against the distances written out."""

import torch

from minidcae.core.config import SHIPPED_CLASSIFIER, MelConfig
from minidcae.measure.timbre import TEST_SEED, timbre_judge, timbre_mels
from minidcae.models.classifier import load_classifier
from minidcae.sound.synth import INSTRUMENTS


def test_the_judge_hears_every_timbre_and_the_new_voice_on_other_held_out_clips():
    classifier, _ = load_classifier(SHIPPED_CLASSIFIER)
    mel = MelConfig()
    judge = timbre_judge(classifier, mel, ("bell",), per_timbre=12, seconds=2.0, test=6)
    assert judge.names == (*INSTRUMENTS, "bell")
    assert min(judge.accuracy.values()) >= 5 / 6, judge.accuracy  # chance is 1 / 7
    x = timbre_mels("bell", 4, 2.0, mel, TEST_SEED + 100)
    z = judge.standardised(x)  # (4, D)
    want = torch.stack([((z[:, None] - judge.centroids[None]) ** 2).sum(-1)[i].argmin() for i in range(4)])
    assert torch.equal(judge.hear(x), want)  # nearest centroid, the distances written out
    assert judge.nearest_known("bell") in INSTRUMENTS
