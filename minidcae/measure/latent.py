"""The latent space: what a trained DCAE's latents hold, and how to move between two of them.

    labelled_clips        held-out synthetic clips, a chosen number per instrument, with their labels
    encode_clips          waveforms (B, samples) -> latents (B, C, F', T'), normalised per channel
    pool_time             (B, C, F, T) -> (B, C F): one vector per clip, the mean over latent frames
    fit_pca / PCA         principal components in torch: fit, project, share of variance
    nearest_neighbours    the k nearest other items by Euclidean distance
    neighbour_agreement   how often an item's nearest neighbour shares its label
    chance_agreement      ... and how often a neighbour picked at random would
    lerp / slerp / interpolation_path   straight and spherical paths between two latents
    path_steps_db         mel L1 in dB between consecutive steps of a path, on one shared floor
    latent_stats          per-channel variance, and how many principal components hold 95% of the variance
    channel_moments / excess_kurtosis   per-channel mean, std and tails against N(0, 1) (notebook 13)

Taught in notebook 04 (latent space); notebook 13 measures the moments.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import torch
from einops import rearrange

from minidcae.core.config import MelConfig
from minidcae.models.dcae import DCAE
from minidcae.sound.audio import log_mel
from minidcae.sound.data import synth_clips
from minidcae.sound.synth import INSTRUMENTS, ClipLabels

# ----------------------------------------------------------------------------- clips and latents


def labelled_clips(
    per_instrument: int, seconds: float, sample_rate: int, seed: int = 0, instruments=INSTRUMENTS
) -> tuple[torch.Tensor, list[ClipLabels]]:
    """`per_instrument` held-out clips of each instrument, from held-out seeds HELDOUT_SEED_BASE + seed on
    (data.synth_clips), which no training command reads.

    The instrument is fixed; mode, key, tempo and drums are whatever each seed draws. Returns (waveforms
    (N, samples), labels), N = per_instrument * len(instruments), grouped by instrument.
    """
    wavs, labels = [], []
    for i, instrument in enumerate(instruments):
        for _, wav, label in synth_clips(
            per_instrument, seconds, sample_rate, seed + i * per_instrument, True, instrument=instrument
        ):
            wavs.append(wav[0])  # (samples,)
            labels.append(label)
    return torch.stack(wavs), labels  # (N, samples)


@torch.no_grad()
def encode_clips(
    model: DCAE, wavs: torch.Tensor, cfg: MelConfig, batch_size: int = 16, normalize: bool = True
) -> torch.Tensor:
    """Waveforms (B, samples) or (B, channels, samples) -> latents (B, C_lat, F', T') on the CPU.

    normalize=True returns the model's per-channel normalised latents, (z - mean) / std, the
    numbers a diffusion model would see: every channel then counts about equally in a distance.
    """
    device = next(model.parameters()).device
    wavs = wavs[:, None] if wavs.ndim == 2 else wavs  # (B, channels, samples)
    zs = []
    for chunk in wavs.split(batch_size):
        x = log_mel(chunk.to(device), cfg)  # (b, channels, n_mels, frames)
        z = model.encode(x)  # (b, C_lat, F', T')
        zs.append((model.normalize_latent(z) if normalize else z).float().cpu())
    return torch.cat(zs)


def pool_time(z: torch.Tensor) -> torch.Tensor:
    """(B, C, F, T) -> (B, C F): each clip's latent averaged over its frames, one vector per clip.

    Averaging keeps what stays put through a clip (timbre, register, how much drum noise there is)
    and washes out what moves (which note, when).
    """
    return rearrange(z.mean(dim=-1), "b c f -> b (c f)")


# ----------------------------------------------------------------------------- PCA


@dataclass(frozen=True)
class PCA:
    """Principal components of a set of vectors: project(x) gives their coordinates."""

    mean: torch.Tensor  # (D,)
    components: torch.Tensor  # (k, D): orthonormal rows, largest variance first
    explained_variance: torch.Tensor  # (k,): the variance of the data along each component
    explained_variance_ratio: torch.Tensor  # (k,): each component's share of the total variance

    def project(self, x: torch.Tensor) -> torch.Tensor:
        """(N, D) -> (N, k) coordinates along the components."""
        return (x.float() - self.mean) @ self.components.T


def fit_pca(x: torch.Tensor, k: int | None = None) -> PCA:
    """The k principal components of the rows of x (N, D); all min(N, D) of them when k is None.

    With the centred data X = U S V^T (an SVD), the rows of V^T are the directions of largest
    variance, in order, and the variance along row i is S_i^2 / N. The sign of each direction is
    arbitrary; we turn each so that its largest coordinate is positive, so a plot repeats exactly.
    """
    x = x.float()
    mean = x.mean(dim=0)  # (D,)
    _, s, vt = torch.linalg.svd(x - mean, full_matrices=False)  # s: (r,), vt: (r, D), r = min(N, D)
    variance = s.pow(2) / x.shape[0]  # (r,)
    # flip each row so that its entry of largest magnitude is positive
    signs = torch.sign(vt.gather(1, vt.abs().argmax(dim=1, keepdim=True)))  # (r, 1)
    vt = vt * signs
    k = vt.shape[0] if k is None else min(k, vt.shape[0])
    return PCA(mean, vt[:k], variance[:k], variance[:k] / variance.sum().clamp(min=1e-12))


# ----------------------------------------------------------------------------- how latents use their numbers


def latent_stats(z: torch.Tensor) -> dict:
    """How a batch of latents z (B, C, F, T) uses its numbers.

    channel_variance: the variance of each channel over batch, rows and frames.
    The principal components are those of the per-frame vectors: each latent frame (all C * F
    numbers at one time step, what a transformer sees as one token) is one sample.
    explained_variance_ratio: each component's share of the total variance, largest first;
    pca_components_95: how many of the largest hold 95% of it.
    """
    channel_variance = z.float().var(dim=(0, 2, 3), correction=0)  # (C,)
    tokens = rearrange(z.float(), "b c f t -> (b t) (c f)")  # (N, C F)
    centred = tokens - tokens.mean(dim=0)  # (N, C F)
    # the covariance's eigenvalues are the squared singular values of the centred data / N
    variances = torch.linalg.svdvals(centred).pow(2) / tokens.shape[0]  # (min(N, C F),), largest first
    ratio = variances / variances.sum().clamp(min=1e-7)
    # the fewest components whose shares add up to 95%
    components = int((torch.cumsum(ratio, 0) < 0.95 - 1e-9).sum()) + 1
    return {
        "channel_variance": channel_variance.tolist(),
        "pca_components_95": min(components, ratio.shape[0]),
        "explained_variance_ratio": ratio.tolist(),
    }


def excess_kurtosis(z: torch.Tensor) -> torch.Tensor:
    """Per-channel excess kurtosis (C,) of latents z (B, C, F, T), over batch, rows and frames:
    E[(z - mu)^4] / sigma^4 - 3, which is 0 for a Gaussian, 3 for a Laplace, -1.2 for a uniform."""
    x = rearrange(z.double(), "b c f t -> c (b f t)")  # (C, N)
    centred = x - x.mean(dim=1, keepdim=True)  # (C, N)
    # kurtosis = m4 / m2^2, with m_k the k-th central moment (population, not the unbiased estimate)
    return centred.pow(4).mean(dim=1) / centred.pow(2).mean(dim=1).pow(2) - 3  # (C,)


def channel_moments(z: torch.Tensor) -> dict:
    """How far latents z (B, C, F, T) are from N(0, 1), channel by channel: mean, std (population) and
    excess kurtosis, each a list of C floats. Per-channel normalisation sets the first two to 0 and 1;
    only the kurtosis says whether the shape (the tails) is Gaussian."""
    x = rearrange(z.double(), "b c f t -> c (b f t)")  # (C, N)
    return {
        "mean": x.mean(dim=1).tolist(),
        "std": x.std(dim=1, correction=0).tolist(),
        "excess_kurtosis": excess_kurtosis(z).tolist(),
    }


# ----------------------------------------------------------------------------- neighbours


def nearest_neighbours(x: torch.Tensor, k: int = 1) -> torch.Tensor:
    """(N, D) -> (N, k): for each row, the indices of the k nearest *other* rows, nearest first."""
    # distances computed directly (not through ||a||^2 - 2 a.b + ||b||^2), so near-ties come out the same everywhere
    d = torch.cdist(x.float(), x.float(), compute_mode="donot_use_mm_for_euclid_dist")  # (N, N)
    d.fill_diagonal_(float("inf"))  # an item is not its own neighbour
    return d.topk(k, dim=1, largest=False).indices  # (N, k)


def neighbour_agreement(labels, neighbours: torch.Tensor) -> float:
    """The fraction of items whose nearest neighbour (neighbours[:, 0]) has the same label."""
    nearest = neighbours[:, 0].tolist()
    return sum(labels[i] == labels[j] for i, j in enumerate(nearest)) / len(labels)


def chance_agreement(labels) -> float:
    """The agreement a neighbour picked at random among the other N - 1 items would have.

    An item of a class with n_c members shares its label with n_c - 1 of the others, so
    chance = sum_c n_c (n_c - 1) / (N (N - 1)). Six equal classes of 6: 5 / 35 = 0.143, not 1/6.
    """
    n = len(labels)
    return sum(c * (c - 1) for c in Counter(labels).values()) / (n * (n - 1))


# ----------------------------------------------------------------------------- paths


def lerp(z0: torch.Tensor, z1: torch.Tensor, t: float) -> torch.Tensor:
    # z(t) = (1 - t) z0 + t z1
    return z0 + t * (z1 - z0)


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: float, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation: along the great circle from z0 to z1, the whole tensor as one vector.

    The norm moves smoothly from |z0| to |z1| (it stays put when they are equal), where a
    straight line dips towards the origin in the middle. Parallel inputs fall back to lerp.
    """
    a, b = z0.flatten().double(), z1.flatten().double()
    # omega = the angle between z0 and z1
    cos = (a @ b / (a.norm() * b.norm()).clamp(min=eps)).clamp(-1.0, 1.0)
    omega = torch.arccos(cos)
    if torch.sin(omega) < eps:
        return lerp(z0, z1, t)
    # z(t) = sin((1 - t) omega) / sin(omega) z0 + sin(t omega) / sin(omega) z1
    w0, w1 = torch.sin((1 - t) * omega) / torch.sin(omega), torch.sin(t * omega) / torch.sin(omega)
    return (w0 * a + w1 * b).reshape(z0.shape).to(z0.dtype)


def interpolation_path(z0: torch.Tensor, z1: torch.Tensor, steps: int, kind: str = "lerp") -> torch.Tensor:
    """`steps` evenly spaced points from z0 (t = 0) to z1 (t = 1), stacked: (steps, *z0.shape).

    On two log-mels, kind="lerp" is a straight crossfade in mel space."""
    if kind not in ("lerp", "slerp"):
        raise ValueError(f"kind must be 'lerp' or 'slerp', got {kind!r}")
    if steps < 2:
        raise ValueError(f"a path needs at least 2 steps (its two ends), got {steps}")
    step = lerp if kind == "lerp" else slerp
    return torch.stack([step(z0, z1, t) for t in torch.linspace(0, 1, steps).tolist()])


def path_steps_db(mels_db: torch.Tensor, top_db: float = 80.0) -> torch.Tensor:
    """Mel L1 in dB between consecutive points of a path: (S, ...) mels in dB -> (S - 1,) steps.

    Every point is floored at the same level, top_db under the louder end of the path, so that
    steps add up: their sum is the path's length, which is never less than the direct distance
    between its ends (the triangle inequality) and equals it for a straight crossfade.
    """
    floor = torch.maximum(mels_db[0].max(), mels_db[-1].max()) - top_db
    db = mels_db.float().clamp(min=floor)  # (S, ...)
    return (db[1:] - db[:-1]).abs().flatten(1).mean(dim=1)  # (S - 1,)


def direct_distance_db(mels_db: torch.Tensor, top_db: float = 80.0) -> float:
    """Mel L1 in dB between the two ends of a path, on the floor path_steps_db uses."""
    return float(path_steps_db(mels_db[[0, -1]], top_db)[0])


def angle_degrees(z0: torch.Tensor, z1: torch.Tensor) -> float:
    """The angle between two latents taken as single vectors, in degrees (90 = unrelated)."""
    a, b = z0.flatten().double(), z1.flatten().double()
    return math.degrees(math.acos(float((a @ b / (a.norm() * b.norm())).clamp(-1.0, 1.0))))
