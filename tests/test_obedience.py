"""minidcae.measure.obedience: the one judge of generated audio, on a stand-in classifier whose verdicts are known."""

import numpy as np
import pytest
import torch
import torch.nn as nn

from minidcae.measure.distances import bootstrap_interval
from minidcae.measure.obedience import judge, mean_interval


class Reader(nn.Module):
    """A stand-in classifier that hears the instrument in mel bin 0 and the mode in bin 1 of frame 0:
    mels (B, 1, 2, T) -> (embedding (B, 2 T), one-hot instrument logits (B, 6), one-hot mode logits (B, 2))."""

    def __init__(self):
        super().__init__()
        self.unused = nn.Parameter(torch.zeros(1))  # predict asks the model for its device

    def forward(self, x):
        instrument, mode = x[:, 0, 0, 0].long(), x[:, 0, 1, 0].long()
        return x.flatten(1), nn.functional.one_hot(instrument, 6).float(), nn.functional.one_hot(mode, 2).float()


def mels_heard(instruments, modes):
    x = torch.zeros(len(instruments), 1, 2, 3)
    x[:, 0, 0, :], x[:, 0, 1, :] = torch.tensor(instruments)[:, None], torch.tensor(modes)[:, None]
    return x  # (N, 1, 2, 3)


def test_judge_scores_hits_against_what_was_asked_with_intervals_and_chance():
    # asked instruments 0 1 2 3 4, heard 0 1 2 0 0: 3 of 5; asked modes 0 1 0 1 0, heard 0 0 0 1 1: 3 of 5
    mels = mels_heard([0, 1, 2, 0, 0], [0, 0, 0, 1, 1])
    verdict = judge(Reader(), mels, torch.tensor([0, 1, 2, 3, 4]), torch.tensor([0, 1, 0, 1, 0]), n_boot=300, seed=4)
    assert verdict["instrument"]["mean"] == pytest.approx(3 / 5) and verdict["mode"]["mean"] == pytest.approx(3 / 5)
    hits = torch.tensor([1.0, 1, 1, 0, 0], dtype=torch.float64)
    assert verdict["instrument"]["interval"] == list(bootstrap_interval(lambda h: h.mean(), hits, n_boot=300, seed=4))
    assert verdict["chance"] == {"instrument": 1 / 6, "mode": 1 / 2}
    assert verdict["heard"]["instrument"].tolist() == [0, 1, 2, 0, 0]
    assert torch.equal(verdict["embeddings"], mels.flatten(1))
    # a label not asked is not judged; n_boot=0 leaves the interval out
    quick = judge(Reader(), mels, [0, 0, 0, 0, 0], None, n_boot=0)
    assert "mode" not in quick and quick["instrument"] == {"mean": pytest.approx(3 / 5), "interval": None}


def test_mean_interval_reads_tensors_and_arrays_alike():
    values = np.array([0.2, 0.5, 0.9, 0.4, 0.7])
    from_array, from_tensor = mean_interval(values, n_boot=200), mean_interval(torch.tensor(values), n_boot=200)
    assert from_array["mean"] == pytest.approx(0.54)
    assert from_array["interval"] == pytest.approx(from_tensor["interval"])
    low, high = from_array["interval"]
    assert 0.2 <= low < 0.54 < high <= 0.9
