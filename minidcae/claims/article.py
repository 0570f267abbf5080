"""The seed article's remaining claims, each measured at one small budget and given a verdict by a rule
stated before any figure was seen (restoration, the fourth, is minidcae.claims.restoration).

    skip_report / SKIP_RULE / skip_verdict
                        U-Net skips: reconstruction from its own skips, from zeroed skips, from another clip's
    latent_moments      per-channel mean, std, excess kurtosis of a DCAE's latents on held-out clips, raw and normalised
    prior_report / PRIOR_RULE / prior_verdict
                        the same transformer trained on each DCAE's latents: accuracy, KAD and Frechet distance
    perceptual_report / PERCEPTUAL_RULE / perceptual_verdict
                        a DCAE with and without the label classifier as a perceptual loss: fidelity and meaning

Every comparison is between models trained with the same data, steps, batch and seed; the budgets are
small (CPU, minutes), so each verdict says what it holds at that budget. The models, trained at one budget,
and the held-out mels are minidcae.claims.variants; `tools/measure_claims.py` trains and measures, and writes
the JSON notebook 13 reads. Taught in notebook 13 (the article's remaining claims).
"""

from __future__ import annotations

import numpy as np
import torch

from minidcae.claims.variants import mel_l1_db
from minidcae.core.config import GenerationConfig, MelConfig
from minidcae.generation.pipeline import generate_mels
from minidcae.generation.sampling import prompt_grid
from minidcae.measure.distances import bootstrap_interval, embedding_distances
from minidcae.measure.latent import channel_moments
from minidcae.measure.spectral import multi_resolution_stft_distance
from minidcae.models.classifier import labelled_mels, predict
from minidcae.models.dcae import DCAE
from minidcae.sound.audio import log_mel
from minidcae.sound.data import synth_clips

# ----------------------------------------------------------------------------- 1. U-Net skips


@torch.no_grad()
def skip_report(plain: DCAE, skip: DCAE, mels: torch.Tensor, mel: MelConfig) -> dict:
    """Per clip i (mels (N, 1, n_mels, T)), mel L1 in dB against clip i of: the plain DCAE's reconstruction;
    the skip DCAE's from its own skips; from zeroed skips; from clip i + 1's skips (swapped), and that
    swapped decode against clip i + 1 (the skips' clip) too."""
    plain.eval(), skip.eval()
    rows = []
    n = len(mels)
    encoded = [skip.encode_with_skips(mels[i : i + 1]) for i in range(n)]  # [(z (1, C, F', T'), skips)]
    for i in range(n):
        x, shape = mels[i : i + 1], mels.shape[-2:]  # (1, 1, n_mels, T)
        z, skips = encoded[i]
        donor = (i + 1) % n
        swapped = skip.decode(z, shape, encoded[donor][1])  # clip i's latent, clip i + 1's skips
        rows.append(
            {
                "plain": mel_l1_db(x, plain.decode(plain.encode(x), shape), mel),
                "skip_own": mel_l1_db(x, skip.decode(z, shape, skips), mel),
                "skip_zeroed": mel_l1_db(x, skip.decode(z, shape, [torch.zeros_like(s) for s in skips]), mel),
                "skip_swapped": mel_l1_db(x, swapped, mel),
                "skip_swapped_vs_donor": mel_l1_db(mels[donor : donor + 1], swapped, mel),
            }
        )
    return {"clips": len(rows), "frames": int(mels.shape[-1]), "rows": rows, "mean": _means(rows)}


SKIP_RULE = (
    "U-Net skips give near-perfect reconstruction and a latent that no longer suffices if (a) the skip DCAE "
    "reconstructs from its own skips with a lower mean mel L1 than the plain DCAE at the same budget, (b) from "
    "zeroed skips its mean mel L1 is at least twice the plain DCAE's, and (c) decoding one clip's latent with "
    "another clip's skips gives a mel nearer the skips' clip than the latent's clip for more than half the clips."
)


def skip_verdict(report: dict) -> dict:
    """SKIP_RULE applied to a skip_report."""
    m, rows = report["mean"], report["rows"]
    nearer_donor = sum(r["skip_swapped_vs_donor"] < r["skip_swapped"] for r in rows) / len(rows)
    out = {
        "reconstructs_better": m["skip_own"] < m["plain"],
        "zeroed_over_plain": m["skip_zeroed"] / m["plain"],
        "share_nearer_skips_clip": nearer_donor,
    }
    out["latent_insufficient"] = out["zeroed_over_plain"] >= 2 and nearer_donor > 0.5
    out["confirmed"] = out["reconstructs_better"] and out["latent_insufficient"]
    return out


# ----------------------------------------------------------------------------- 2. the prior mismatch


@torch.no_grad()
def latent_moments(model: DCAE, mels: torch.Tensor) -> dict:
    """channel_moments of the model's latents of mels (N, 1, n_mels, T): raw, and normalised per channel
    with its stored stats (what the transformer is trained on)."""
    z = torch.cat([model.encode(x) for x in mels.split(32)])  # (N, C, F', T')
    return {"raw": channel_moments(z), "normalised": channel_moments(model.normalize_latent(z))}


def moments_summary(m: dict) -> dict:
    """The largest |mean|, the largest |log std| and the mean |excess kurtosis| over channels: 0, 0, 0 for N(0, 1)."""
    return {
        "max_abs_mean": float(np.max(np.abs(m["mean"]))),
        "max_abs_log_std": float(np.max(np.abs(np.log(m["std"])))),
        "mean_abs_excess_kurtosis": float(np.mean(np.abs(m["excess_kurtosis"]))),
    }


def _mean_interval(values: torch.Tensor, n_boot: int = 1000) -> dict:
    v = values.double()
    low, high = bootstrap_interval(lambda x: x.mean(), v, n_boot=n_boot)
    return {"mean": float(v.mean()), "ci95": [low, high]}


@torch.no_grad()
def prior_report(
    variants: dict, classifier, mel: MelConfig, gen: GenerationConfig, per_label: int = 8, steps: int = 30, seed=0
) -> dict:
    """variants: {name: (autoencoder, transformer trained on its latents)}. Per variant: latent_moments of
    held-out clips; clips generated for the 12 "mood instrument" prompts, per_label each, judged by the
    classifier (instrument and mode accuracy with intervals); their embeddings' KAD and Frechet distance to
    as many held-out real clips (embedding_distances), beside the same for the autoencoder's reconstructions."""
    prompts, want_i, want_m = prompt_grid(per_label)
    real, _, _ = labelled_mels(len(prompts), gen.clip_seconds, mel, heldout=True)  # (N, 1, n_mels, T)
    e_real, _, _ = predict(classifier, real)
    out = {"clips": len(prompts), "steps": steps, "cfg_scale": gen.cfg_scale}
    sampling = dict(steps=steps, cfg_scale=gen.cfg_scale, shift=gen.time_shift)
    for name, (autoencoder, transformer) in variants.items():
        frames = real.shape[-1] // autoencoder.cfg.time_factor
        generated = generate_mels(transformer, autoencoder, prompts, frames, seed=seed, **sampling)[
            :, :1
        ]  # (N, 1, F, T)
        recon = torch.cat([autoencoder.decode(autoencoder.encode(x), x.shape[-2:]) for x in real.split(32)])
        e_gen, pi, pm = predict(classifier, generated)
        e_rec, _, _ = predict(classifier, recon)
        out[name] = {
            "latents": latent_moments(autoencoder, real),
            "instrument_accuracy": _mean_interval((pi == want_i).float()),
            "mode_accuracy": _mean_interval((pm == want_m).float()),
            "generated_vs_real": embedding_distances(e_real, e_gen, seed=seed),
            "reconstruction_vs_real": embedding_distances(e_real, e_rec, seed=seed),
        }
    return out


PRIOR_RULE = (
    "Between two variants, one has the smaller prior mismatch if the 95% interval of its generated-vs-real KAD "
    "lies wholly below the other's; otherwise neither, at this budget. The KL constraint closes the gap if 'kl' "
    "beats 'plain' (both normalised per channel); normalisation alone closes it if 'plain' beats 'plain_raw'. "
    "Accuracy intervals are reported beside and decide nothing on their own."
)


def _below(a: dict, b: dict, key: str = "kad") -> bool:
    return a[f"{key}_interval"][1] < b[f"{key}_interval"][0]


def prior_verdict(report: dict) -> dict:
    """PRIOR_RULE applied to a prior_report with variants plain_raw, plain and kl."""
    out = {}
    for name, (a, b) in {"kl_closes_gap": ("kl", "plain"), "normalisation_closes_gap": ("plain", "plain_raw")}.items():
        ga, gb = report[a]["generated_vs_real"], report[b]["generated_vs_real"]
        out[name] = "yes" if _below(ga, gb) else ("no, it widens it" if _below(gb, ga) else "no difference")
    kurt = {n: moments_summary(report[n]["latents"]["raw"])["mean_abs_excess_kurtosis"] for n in ("plain", "kl")}
    out["kl_latents_nearer_gaussian"] = kurt["kl"] < kurt["plain"]
    return out


# ----------------------------------------------------------------------------- 3. a perceptual loss


def perceptual_clips(n: int, seconds: float, mel: MelConfig, seed: int = 0) -> tuple[list[torch.Tensor], torch.Tensor]:
    """(n held-out synthetic waveforms (1, samples), their log-mels (n, 1, n_mels, T))."""
    waves = [wav for _, wav, _ in synth_clips(n, seconds, mel.sample_rate, seed)]  # each (1, samples)
    return waves, torch.stack([log_mel(w, mel) for w in waves])


@torch.no_grad()
def perceptual_report(
    models: dict, classifier, clap, mel: MelConfig, n: int = 48, seconds: float = 3.0, gl_iters: int = 32
) -> dict:
    """models: {name: DCAE}. Per held-out synthetic clip and model: mel L1 in dB and MR-STFT (Griffin-Lim audio)
    against the original; whether the classifier hears the same instrument and mode in the reconstruction as in
    the original; and the cosine of miniCLAP's audio embeddings of original and reconstruction (a judge the
    perceptual loss did not train against)."""
    from minidcae.models.clap import embed_mels
    from minidcae.sound.audio import griffin_lim

    waves, mels = perceptual_clips(n, seconds, mel)
    _, oi, om = predict(classifier, mels)
    clap_orig = embed_mels(clap, mels)  # (n, E), unit vectors
    out = {"clips": n, "seconds": seconds}
    for name, model in models.items():
        model.eval()
        recon = torch.cat([model.decode(model.encode(x), x.shape[-2:]) for x in mels.split(16)])  # (n, 1, n_mels, T)
        _, ri, rm = predict(classifier, recon)
        cos = (embed_mels(clap, recon) * clap_orig).sum(-1)  # (n,)
        out[name] = {
            "mel_l1_db": [mel_l1_db(mels[i], recon[i], mel) for i in range(n)],
            "mr_stft": [
                multi_resolution_stft_distance(waves[i], griffin_lim(recon[i], mel, gl_iters)) for i in range(n)
            ],
            "same_instrument": (ri == oi).float().tolist(),
            "same_mode": (rm == om).float().tolist(),
            "clap_cosine": cos.tolist(),
        }
    return out


PERCEPTUAL_RULE = (
    "Per clip, the difference with minus without the perceptual loss, and its 95% bootstrap interval. The loss "
    "keeps meaning better if the interval of miniCLAP's original-vs-reconstruction cosine (a judge it did not "
    "train against) lies wholly above 0, or that of the classifier's same-instrument or same-mode agreement does "
    "(the classifier is inside the loss: the weaker evidence); it costs fidelity where the interval of mel L1 or "
    "MR-STFT lies wholly above 0 and improves it where it lies wholly below."
)


def perceptual_verdict(report: dict, with_: str = "perceptual", without: str = "plain", n_boot: int = 1000) -> dict:
    """PERCEPTUAL_RULE applied: each figure's mean difference, interval and sign."""
    out = {}
    for figure in ("mel_l1_db", "mr_stft", "same_instrument", "same_mode", "clap_cosine"):
        d = np.array(report[with_][figure]) - np.array(report[without][figure])
        low, high = bootstrap_interval(lambda x: x.mean(), d, n_boot=n_boot)
        out[figure] = {
            "with": float(np.mean(report[with_][figure])),
            "without": float(np.mean(report[without][figure])),
            "difference": float(d.mean()),
            "ci95": [low, high],
            "sign": "+" if low > 0 else ("-" if high < 0 else "0"),
        }
    out["keeps_meaning_better"] = any(out[f]["sign"] == "+" for f in ("clap_cosine", "same_instrument", "same_mode"))
    out["costs_fidelity"] = any(out[f]["sign"] == "+" for f in ("mel_l1_db", "mr_stft"))
    out["improves_fidelity"] = any(out[f]["sign"] == "-" for f in ("mel_l1_db", "mr_stft"))
    return out


def _means(rows: list[dict]) -> dict:
    return {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
