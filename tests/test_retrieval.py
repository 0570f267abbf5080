"""minidcae.measure.retrieval: LAION-CLAP's figures from hand-worked rankings, both ways of breaking ties (ours
counts them against the model, LAION's argsort puts the earlier index first) and several captions per clip."""

import numpy as np
import pytest
import torch

from minidcae.measure.retrieval import _figures, chance_metrics, retrieval_metrics


def test_retrieval_metrics_match_hand_worked_ranks_in_both_directions():
    # row = audio, column = text. Audio -> text ranks (0-based): row 0: 0; row 1: text 0 and 2 beat 0.5 -> 2;
    # row 2: text 1 (0.9) beats 0.3 -> 1. Text -> audio: column 0: 0; column 1: audio 2 (0.9) beats 0.5 -> 1;
    # column 2: audio 1 (0.6) beats 0.3 -> 1.
    s = torch.tensor([[0.9, 0.1, 0.2], [0.7, 0.5, 0.6], [0.0, 0.9, 0.3]])
    m = retrieval_metrics(s)
    a2t, t2a = m["audio_to_text"], m["text_to_audio"]
    assert a2t["R@1"] == pytest.approx(1 / 3) and t2a["R@1"] == pytest.approx(1 / 3)
    assert a2t["mean_rank"] == pytest.approx(1 + (0 + 2 + 1) / 3)
    assert t2a["mean_rank"] == pytest.approx(1 + (0 + 1 + 1) / 3)
    assert a2t["median_rank"] == 2 and t2a["median_rank"] == 2
    assert a2t["mAP@10"] == pytest.approx((1 + 1 / 3 + 1 / 2) / 3)
    assert t2a["mAP@10"] == pytest.approx((1 + 1 / 2 + 1 / 2) / 3)
    assert a2t["R@5"] == 1.0 and t2a["R@10"] == 1.0
    # ties count against the model: a constant matrix ranks every right answer last
    flat = retrieval_metrics(torch.ones(4, 4))
    assert flat["text_to_audio"]["R@1"] == 0 and flat["audio_to_text"]["mean_rank"] == 4


def test_chance_metrics_match_a_random_ranking_simulated():
    n = 72
    rng = np.random.default_rng(0)
    ranks = torch.tensor(np.concatenate([rng.permutation(n) for _ in range(300)]))  # uniform on 0..n-1
    simulated, chance = _figures(ranks), chance_metrics(n)
    for key in ("R@1", "R@5", "R@10", "mAP@10"):
        assert simulated[key] == pytest.approx(chance[key], abs=0.01), key
    assert simulated["mean_rank"] == pytest.approx(chance["mean_rank"], rel=0.01)
    assert chance["median_rank"] == 36  # floor(median of 0..71 = 35.5) + 1


def stable_argsort_ranks(scores: np.ndarray, right: np.ndarray) -> np.ndarray:
    """A second implementation of LAION's ranking: each row sorted best first by a stable argsort (equal scores
    keep index order), and the 0-based position of every right answer, -1 elsewhere."""
    out = -np.ones(scores.shape, dtype=int)
    for q, row in enumerate(scores):
        order = np.argsort(-row, kind="stable")
        position = np.empty(len(row), dtype=int)
        position[order] = np.arange(len(row))
        out[q, right[q]] = position[right[q]]
    return out


def test_ties_count_against_the_model_by_default_and_by_index_order_as_laion():
    # row = clip, column = caption. Ties: row 0 holds its right 0.5 level with caption 1; row 1 its 0.7 with
    # caption 2; row 2 all three level at 0.3.
    s = torch.tensor([[0.5, 0.5, 0.1], [0.2, 0.7, 0.7], [0.3, 0.3, 0.3]])
    against, laion = retrieval_metrics(s), retrieval_metrics(s, ties="laion")
    # audio -> text ranks: against [1, 1, 2] (every level wrong answer first); laion [0, 0, 2] (index order)
    assert against["audio_to_text"]["mean_rank"] == pytest.approx(1 + 4 / 3)
    assert against["audio_to_text"]["R@1"] == 0 and against["audio_to_text"]["median_rank"] == 2
    assert against["audio_to_text"]["mAP@10"] == pytest.approx((1 / 2 + 1 / 2 + 1 / 3) / 3)
    assert laion["audio_to_text"]["mean_rank"] == pytest.approx(1 + 2 / 3)
    assert laion["audio_to_text"]["R@1"] == pytest.approx(2 / 3) and laion["audio_to_text"]["median_rank"] == 1
    assert laion["audio_to_text"]["mAP@10"] == pytest.approx((1 + 1 + 1 / 3) / 3)
    # text -> audio (columns): no ties at the right answers, ranks [0, 0, 1] either way
    assert against["text_to_audio"] == laion["text_to_audio"]
    assert laion["text_to_audio"]["mean_rank"] == pytest.approx(1 + 1 / 3)
    # a constant matrix: against ranks every right answer last, laion ranks clip i's at i
    flat = retrieval_metrics(torch.ones(4, 4), ties="laion")["audio_to_text"]
    assert flat["R@1"] == 0.25 and flat["mean_rank"] == 2.5 and flat["median_rank"] == 2  # ranks 0, 1, 2, 3
    assert flat["mAP@10"] == pytest.approx((1 + 1 / 2 + 1 / 3 + 1 / 4) / 4)


def test_laion_ties_agree_with_a_stable_argsort_on_many_ties():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 3, (12, 30)).astype(float)  # three levels: ties everywhere
    owner = np.repeat(np.arange(12), [3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2])  # 30 captions, 2 or 3 per clip
    right = owner[None, :] == np.arange(12)[:, None]  # (12, 30)
    m = retrieval_metrics(torch.tensor(scores), torch.tensor(owner), ties="laion")
    best = np.array([r[r >= 0].min() for r in stable_argsort_ranks(scores, right)])
    assert m["audio_to_text"]["mean_rank"] == pytest.approx(best.mean() + 1)
    assert m["audio_to_text"]["R@5"] == pytest.approx(np.mean(best < 5))
    per_caption = stable_argsort_ranks(scores.T, right.T).max(1)  # each caption's own clip
    assert m["text_to_audio"]["mean_rank"] == pytest.approx(per_caption.mean() + 1)
    assert m["text_to_audio"]["mAP@10"] == pytest.approx(np.mean(np.where(per_caption < 10, 1 / (per_caption + 1), 0)))


def test_several_captions_per_clip_match_hand_worked_ranks():
    # 2 clips, 4 captions: captions 0, 1 describe clip 0; captions 2, 3 describe clip 1.
    s = torch.tensor([[0.2, 0.9, 0.8, 0.1], [0.6, 0.5, 0.4, 0.3]])
    m = retrieval_metrics(s, torch.tensor([0, 0, 1, 1]))
    # audio -> text: clip 0 ranks captions 1, 2, 0, 3: its own at 0 and 2, best 0;
    # clip 1 ranks 0, 1, 2, 3: its own at 2 and 3, best 2
    a2t = m["audio_to_text"]
    assert (a2t["R@1"], a2t["R@5"], a2t["mean_rank"], a2t["median_rank"]) == (0.5, 1.0, 2.0, 2.0)
    # AP@10 over a clip's captions in rank order: clip 0 (1/1 + 2/3) / 2 = 5/6, clip 1 (1/3 + 2/4) / 2 = 5/12
    # (LAION's code, which leaves the ranks in caption order, gives clip 0 (1/3 + 2/1) / 2 = 7/6, above 1)
    assert a2t["mAP@10"] == pytest.approx((5 / 6 + 5 / 12) / 2)
    # text -> audio: each caption against both clips: captions 0 and 2 lose to the other clip, 1 and 3 win
    t2a = m["text_to_audio"]
    assert (t2a["R@1"], t2a["mean_rank"], t2a["median_rank"]) == (0.5, 1.5, 1.0)  # ranks 1, 0, 1, 0
    assert t2a["mAP@10"] == pytest.approx((1 / 2 + 1 + 1 / 2 + 1) / 4)


def test_one_caption_per_clip_named_is_the_default_and_bad_owners_are_refused():
    s = torch.tensor([[0.9, 0.1, 0.2], [0.7, 0.5, 0.6], [0.0, 0.9, 0.3]])
    assert retrieval_metrics(s, torch.arange(3)) == retrieval_metrics(s)
    with pytest.raises(ValueError, match="caption_clip must give each of the 3 captions a clip in 0..2"):
        retrieval_metrics(s, torch.tensor([0, 1, 5]))
    with pytest.raises(ValueError, match="leaves a clip without a caption"):
        retrieval_metrics(s, torch.tensor([0, 0, 1]))
    with pytest.raises(ValueError, match="ties must be one of against, laion"):
        retrieval_metrics(s, ties="random")
