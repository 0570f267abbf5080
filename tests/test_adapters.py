"""What an adapter taught and cost (minidcae.measure.adapters): the Wilson interval against hand-worked cases, the
paired forgetting figure against its arithmetic, and a model's refusal of a word it does not read."""

import math

import torch

from minidcae.core.config import TransformerConfig
from minidcae.measure.adapters import forgetting, refusal, wilson_interval
from minidcae.models import lora
from minidcae.models.transformer import LatentTransformer


def test_wilson_interval_matches_hand_worked_cases():
    z = 1.96
    # all hits: the low end is n / (n + z^2), the high end 1
    assert (
        math.isclose(wilson_interval(96, 96)[0], 96 / (96 + z * z), rel_tol=1e-12) and wilson_interval(96, 96)[1] == 1
    )
    assert wilson_interval(0, 96)[0] == 0 and math.isclose(
        wilson_interval(0, 96)[1], z * z / (96 + z * z), rel_tol=1e-12
    )
    low, high = wilson_interval(
        50, 100
    )  # symmetric about 0.5, half-width z sqrt(0.25 / 100 + z^2 / 40000) / (1 + z^2 / 100)
    half = z * math.sqrt(0.0025 + z * z / 40000) / (1 + z * z / 100)
    assert math.isclose(low, 0.5 - half) and math.isclose(high, 0.5 + half) and 0.40 < low < 0.41


def test_forgetting_is_the_paired_difference_in_points():
    base = {"instrument": {"mean": 1.0}, "hits": torch.ones(8, dtype=torch.bool), "kad": 0.1, "kad_interval": [0, 0.2]}
    hits = torch.tensor([1, 1, 1, 0, 1, 1, 1, 1], dtype=torch.bool)
    adapted = {"instrument": {"mean": 7 / 8}, "hits": hits, "kad": 0.3, "kad_interval": [0.2, 0.4]}
    f = forgetting(adapted, base)
    assert math.isclose(f["difference_points"], -12.5) and f["accuracy"] == 7 / 8 and f["base_kad"] == 0.1
    low, high = f["difference_interval_points"]
    assert -50 <= low <= -12.5 <= high <= 0  # no draw can lose more than the one miss in eight, or gain


def test_a_model_refuses_a_word_it_does_not_read_until_an_adapter_teaches_it():
    model = LatentTransformer(TransformerConfig(latent_channels=2, latent_rows=3, dim=16, depth=1, heads=2))
    said = refusal(model, "happy bell")
    assert "unknown word(s) ['bell']" in said and "\n" not in said
    assert refusal(model, "happy piano") is None
    lora.add_words(model, ["bell"])
    assert refusal(model, "happy bell") is None
