"""Which timbre does a clip have? A judge for sounds the label classifier was never taught.

The label classifier (notebook 08) names one of six instruments: a seventh sound gets one of their names. This
judge keeps what the classifier learned to hear and drops its six-way answer: each clip becomes the classifier's
feature maps, pooled, and is given the timbre whose held-out clips are nearest on average (nearest centroid).
Nothing in it is trained, least of all on generated clips; the centroids are real synthetic clips that no model
was trained on (held-out seeds).

    timbre_features   log-mels (N, 1, n_mels, T) -> (N, D): every level of the classifier's features, mean and max
                      over frequency and time, and its embedding
    TimbreJudge       centroids of each timbre's held-out clips, in features standardised over all of them;
                      .hear(mels) -> (N,) the nearest timbre's index, .accuracy on held-out clips it was not built on
    timbre_judge      build one for the six instruments and new voices (synth.NEW_VOICES, e.g. "bell")

Taught in notebook 14 (LoRA), where it hears whether an adapter taught the transformer a new sound.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from minidcae.core.config import MelConfig
from minidcae.sound.audio import log_mel
from minidcae.sound.data import synth_clips
from minidcae.sound.synth import INSTRUMENTS

CENTROID_SEED, TEST_SEED = (
    5000,
    6000,
)  # held-out seed offsets: the clips behind the centroids, and those it is tested on


@torch.no_grad()
def timbre_features(classifier, mels: torch.Tensor, batch: int = 64) -> torch.Tensor:
    """(N, D) on the CPU for log-mels (N, 1, n_mels, T) on any device: each level of classifier.feature_maps (after
    its activation) pooled to its mean and max over frequency and time, then the embedding. D = 2 sum(widths) + E."""
    classifier.eval()
    device, out = next(classifier.parameters()).device, []
    for i in range(0, len(mels), batch):
        *maps, embedding = classifier.feature_maps(
            mels[i : i + batch].to(device).float()
        )  # (b, w_l, f_l, t_l)..., (b, E)
        pooled = [torch.cat((m.mean(dim=(2, 3)), m.amax(dim=(2, 3))), dim=1) for m in maps]  # (b, 2 w_l) each
        out.append(torch.cat([*pooled, embedding], dim=1).cpu())  # (b, D)
    return torch.cat(out)


@dataclass
class TimbreJudge:
    """Nearest centroid in standardised features: z = (features - mean) / std, timbre = argmin_k ||z - c_k||."""

    classifier: object
    names: tuple[str, ...]  # the timbres, in the order of the centroids: INSTRUMENTS, then the new voices
    mean: torch.Tensor  # (D,) over every centroid clip
    std: torch.Tensor  # (D,)
    centroids: torch.Tensor  # (K, D), standardised
    accuracy: dict | None = None  # {timbre: the share of its other held-out clips heard as itself}

    def standardised(self, mels: torch.Tensor) -> torch.Tensor:
        return (timbre_features(self.classifier, mels) - self.mean) / self.std  # (N, D)

    def hear(self, mels: torch.Tensor) -> torch.Tensor:
        """(N,) the index in self.names of the timbre whose centroid is nearest each clip (N, 1, n_mels, T)."""
        return torch.cdist(self.standardised(mels), self.centroids).argmin(dim=1)  # (N,)

    def nearest_known(self, name: str) -> str:
        """The known instrument (of INSTRUMENTS) whose centroid is nearest the centroid of timbre `name`."""
        d = (self.centroids[: len(INSTRUMENTS)] - self.centroids[self.names.index(name)]).norm(dim=1)  # (6,)
        return INSTRUMENTS[int(d.argmin())]


def timbre_mels(name: str, n: int, seconds: float, mel: MelConfig, seed: int) -> torch.Tensor:
    """Log-mels (n, 1, n_mels, T) of n held-out synthetic clips (seeds from HELDOUT_SEED_BASE + seed) played by one
    timbre: the seed's own melody, key, tempo and drums, the instrument named."""
    return torch.stack(
        [log_mel(wav, mel) for _, wav, _ in synth_clips(n, seconds, mel.sample_rate, seed, instrument=name)]
    )


def timbre_judge(
    classifier, mel: MelConfig, new_voices=("bell",), per_timbre: int = 48, seconds: float = 3.0, test: int = 24
) -> TimbreJudge:
    """A TimbreJudge for the six instruments and `new_voices`: per_timbre held-out clips of each make its centroid,
    and `test` other held-out clips of each measure the judge itself (TimbreJudge.accuracy, its ceiling)."""
    names = (*INSTRUMENTS, *new_voices)
    feats = [timbre_features(classifier, timbre_mels(k, per_timbre, seconds, mel, CENTROID_SEED)) for k in names]
    pooled = torch.cat(feats)  # (K per_timbre, D)
    mean, std = pooled.mean(0), pooled.std(0) + 1e-6  # (D,) each
    centroids = torch.stack([((f - mean) / std).mean(0) for f in feats])  # (K, D)
    judge = TimbreJudge(classifier, names, mean, std, centroids)
    if test:
        judge.accuracy = {
            k: float((judge.hear(timbre_mels(k, test, seconds, mel, TEST_SEED)) == i).float().mean())
            for i, k in enumerate(names)
        }
    return judge
