"""Retrieval between clips and captions, LAION-CLAP's figures (`get_metrics` in its training/train.py).

    retrieval_metrics   R@1, R@5, R@10, mean and median rank, mAP@10, audio -> text and text -> audio
    chance_metrics      the same figures for a model that ranks at random (one caption per clip)

Each query ranks every candidate by similarity, best first; a query's rank is the 0-based position of its
right answer. Then R@k = share of ranks < k, mean rank = mean + 1, median rank = floor(median) + 1 and
mAP@10 = mean(1 / (rank + 1) if rank < 10 else 0). Two choices change the figures:

    ties      "against" (ours, the default, what every shipped figure used): among equal scores every wrong
              answer ranks before the right one, so a model that scores everything alike ranks last.
              "laion": among equal scores the earlier index ranks first, as LAION-CLAP's argsort leaves them.
    captions  several captions per clip, as LAION-CLAP scores AudioCaps and Clotho (evaluate_clotho_audiocaps):
              text -> audio, each caption is a query against every clip; audio -> text, a clip's rank is the
              best of its captions' ranks, and its mAP@10 is the average precision of all its captions within
              the top 10: sum over them, in rank order j = 1, 2, .., of j / (rank_j + 1), divided by the
              number of captions (LAION's docstring, after Mei et al.; one caption gives 1 / (rank + 1)).
              LAION reports only R@k and mAP@10 for audio -> text there; our mean and median rank are of the
              best rank.

The model is minidcae.models.clap; its recipe measures it on held-out clips (minidcae.recipes.clap).
Taught in notebook 11 (contrastive text and audio).
"""

from __future__ import annotations

import numpy as np
import torch

TIES = ("against", "laion")


def _positions(scores: torch.Tensor, right: torch.Tensor, ties: str) -> torch.Tensor:
    """scores (Q, M) of M candidates for Q queries, right (Q, M) True at each query's right answers ->
    (Q, M): each candidate's 0-based position in its query's ranking, best first."""
    if ties not in TIES:
        raise ValueError(f"ties must be one of {', '.join(TIES)}; got {ties!r}")
    s_k, s_j = scores[:, :, None], scores[:, None, :]  # candidate k placed, against every candidate j
    index = torch.arange(scores.shape[1])
    earlier = index[None, :] < index[:, None]  # (M_k, M_j): j has the smaller index
    if ties == "laion":
        before = earlier[None]  # (1, M, M)
    else:  # a wrong answer before a right one; among two of one kind, the smaller index
        r_k, r_j = right[:, :, None], right[:, None, :]
        before = (~r_j & r_k) | ((r_j == r_k) & earlier)  # (Q, M, M)
    # position of k = #{j : s_j > s_k} + #{j : s_j = s_k and j goes before k}
    return ((s_j > s_k) | ((s_j == s_k) & before)).sum(-1)  # (Q, M)


def _figures(rank: torch.Tensor, ap10: torch.Tensor | None = None) -> dict:
    """LAION-CLAP's figures from 0-based ranks (Q,) of the right answer; ap10 (Q,) replaces the per-query
    1 / (rank + 1) of mAP@10 where a query has several right answers."""
    r = rank.double()
    # mAP@10 = mean(1 / (rank + 1) if rank < 10 else 0): one right answer per query
    ap = torch.where(r < 10, 1 / (r + 1), torch.zeros_like(r)) if ap10 is None else ap10
    return {
        "R@1": float((r < 1).double().mean()),
        "R@5": float((r < 5).double().mean()),
        "R@10": float((r < 10).double().mean()),
        "mean_rank": float(r.mean() + 1),
        "median_rank": float(np.floor(np.median(r.numpy())) + 1),
        "mAP@10": float(ap.mean()),
    }


def _average_precision_at_10(positions: torch.Tensor, right: torch.Tensor) -> torch.Tensor:
    """(Q,) for positions (Q, M) and right (Q, M): sum over a query's right answers ranked under 10, in rank
    order j = 1, 2, .., of j / (position + 1), divided by how many right answers it has."""
    out = []
    for pos, r in zip(positions, right):
        top = torch.sort(pos[r]).values.double()  # (c,) the right answers' positions, best first
        j = torch.arange(1, len(top) + 1, dtype=torch.float64)
        out.append(torch.where(top < 10, j / (top + 1), torch.zeros_like(top)).sum() / len(top))
    return torch.stack(out)


def retrieval_metrics(
    similarity: torch.Tensor, caption_clip: torch.Tensor | None = None, ties: str = "against"
) -> dict:
    """{"audio_to_text": figures, "text_to_audio": figures} for similarity (N, K): row i is clip i, column k
    caption k. caption_clip (K,): the clip each caption describes; None means K = N and caption i describes
    clip i (the default: one caption per clip). ties: "against" (ours, the default) or "laion" (the module
    docstring says what each does, and how several captions per clip are scored)."""
    s = similarity.detach().double().cpu()  # (N, K)
    n_clips, n_captions = s.shape
    owner = torch.arange(n_clips) if caption_clip is None else torch.as_tensor(caption_clip).long().cpu()  # (K,)
    if owner.shape != (n_captions,) or bool((owner < 0).any() | (owner >= n_clips).any()):
        raise ValueError(f"caption_clip must give each of the {n_captions} captions a clip in 0..{n_clips - 1}")
    right = owner[None, :] == torch.arange(n_clips)[:, None]  # (N, K): caption k describes clip i
    if not bool(right.any(1).all()):
        raise ValueError("caption_clip leaves a clip without a caption; every clip needs at least one")
    # audio i -> captions: its rank is the best position of its own captions
    a2t = _positions(s, right, ties)  # (N, K)
    best = torch.where(right, a2t, torch.full_like(a2t, n_captions)).min(1).values  # (N,)
    ap10 = _average_precision_at_10(a2t, right) if caption_clip is not None else None
    # caption k -> clips: each caption is a query with one right clip
    t2a = _positions(s.T, right.T, ties)  # (K, N)
    own = t2a.gather(1, owner[:, None])[:, 0]  # (K,)
    return {"audio_to_text": _figures(best, ap10), "text_to_audio": _figures(own)}


def chance_metrics(n: int) -> dict:
    """The expected figures of a random ranking of n candidates (the rank uniform on 0..n-1)."""
    return {
        "R@1": 1 / n,
        "R@5": min(5, n) / n,
        "R@10": min(10, n) / n,
        "mean_rank": (n + 1) / 2,
        "median_rank": float(np.floor((n - 1) / 2) + 1),
        "mAP@10": sum(1 / (r + 1) for r in range(min(10, n))) / n,
    }
