"""`minidcae evaluate`: a trained DCAE against the oracle on every audio file in a folder.

    reconstruction_report   mel L1, MR-STFT, spectral convergence and SI-SDR of one (reference, estimate) pair
    clip_measures           every measure of one reconstruction, STOI and PESQ included
    evaluate_folder / print_report        the DCAE against the oracle on a folder, and its table
    compare_pipelines / print_pipelines   oracle or DCAE mels, each through Griffin-Lim or the neural vocoder

Both systems end in Griffin-Lim, so their difference is what the autoencoder loses:

    dcae     waveform -> log-mel -> encoder -> latent -> decoder -> log-mel -> Griffin-Lim
    oracle   waveform -> log-mel ----------------------------------------------> Griffin-Lim

Each output is compared with the original waveform by mel L1 (dB), mel SNR (dB), MR-STFT
distance, SI-SDR (meaningless without the phase, reported anyway), STOI and wideband PESQ.
STOI and PESQ were built for speech; they are computed for every clip, but mean most on speech.

Taught in notebook 05 (evaluating reconstructions).
"""

from __future__ import annotations

from pathlib import Path

import torch

from minidcae.core.config import DEFAULT_MEL, MelConfig
from minidcae.generation.autoencoding import reconstruct
from minidcae.measure.spectral import log_mel_l1_db, mel_snr, multi_resolution_stft_distance, spectral_convergence
from minidcae.measure.speech import pesq_available, pesq_score, si_sdr, stoi
from minidcae.models.dcae import mel_config_of
from minidcae.sound.audio import griffin_lim, log_mel
from minidcae.sound.audio_files import load_audio
from minidcae.sound.data import find_audio_files

SYSTEMS = ("dcae", "oracle")
COLUMNS = (  # (key, heading, decimals): the table print_report prints
    ("log_mel_l1_db", "mel L1 dB", 2),
    ("mel_snr_db", "mel SNR dB", 2),
    ("mr_stft", "MR-STFT", 3),
    ("si_sdr_db", "SI-SDR dB", 1),
    ("stoi", "STOI", 3),
    ("pesq", "PESQ", 2),
)
CELL = 11  # characters per column, the space before it included


def reconstruction_report(ref: torch.Tensor, est: torch.Tensor, cfg: MelConfig = DEFAULT_MEL) -> dict:
    """The quick waveform measures for one (reference, estimate) pair, as a flat dict (notebook 00, `make demo`)."""
    return {
        "log_mel_l1_db": log_mel_l1_db(ref, est, cfg),
        "mr_stft": multi_resolution_stft_distance(ref, est),
        "spectral_convergence": spectral_convergence(ref, est, cfg.n_fft, cfg.hop_length),
        "si_sdr_db": si_sdr(ref, est),
    }


def clip_measures(ref: torch.Tensor, est: torch.Tensor, sample_rate: int, mel) -> dict:
    """Every measure of one reconstruction; PESQ is None where the package is missing or finds no speech."""
    row = {
        "log_mel_l1_db": log_mel_l1_db(ref, est, mel),
        "mel_snr_db": mel_snr(ref, est, mel),
        "mr_stft": multi_resolution_stft_distance(ref, est),
        "si_sdr_db": si_sdr(ref, est),
        "stoi": stoi(ref, est, sample_rate),
        "pesq": None,
    }
    if pesq_available():
        try:
            row["pesq"] = pesq_score(ref, est, sample_rate)
        except RuntimeError:  # pesq.NoUtterancesError and its kin: no speech-like level found
            pass
    return row


def _mean(rows: list[dict]) -> dict:
    """Average of each key over the rows that have a value for it (None where none has)."""
    mean = {}
    for key in rows[0]:
        values = [r[key] for r in rows if r[key] is not None]
        mean[key] = sum(values) / len(values) if values else None
    return mean


@torch.no_grad()
def evaluate_folder(
    model, meta: dict, data_dir, gl_iters: int = 32, max_seconds: float | None = None, allow_heldout: bool = True
) -> dict:
    """{"clips": {file: {"seconds", "dcae": measures, "oracle": measures}}, "mean": {system: measures}, ...}

    Every audio file under data_dir (held-out folders too: evaluating is reading, not training),
    each cut to its first max_seconds if given.
    """
    model.eval()
    mel = mel_config_of(meta)
    root = Path(data_dir)
    clips = {}
    for path in find_audio_files(root, allow_heldout):
        wav = load_audio(path, mel.sample_rate, mel.channels)  # (channels, samples)
        if max_seconds is not None:
            wav = wav[:, : int(max_seconds * mel.sample_rate)]  # (channels, samples')
        x = log_mel(wav, mel, str(path))  # (channels, n_mels, frames); refuses a too-short clip by name
        outputs = {"dcae": reconstruct(model, wav, mel, gl_iters)[0], "oracle": griffin_lim(x, mel, gl_iters)}
        clips[str(path.relative_to(root))] = {
            "seconds": wav.shape[-1] / mel.sample_rate,
            **{name: clip_measures(wav, out, mel.sample_rate, mel) for name, out in outputs.items()},
        }
    mean = {name: _mean([c[name] for c in clips.values()]) for name in SYSTEMS}
    return {
        "data": str(root),
        "griffin_lim_iters": gl_iters,
        "sample_rate": mel.sample_rate,
        "pesq": "wideband, 16 kHz" if pesq_available() else "not installed (pip install pesq==0.0.4)",
        "mean": mean,
        "clips": clips,
    }


def print_report(report: dict) -> None:
    """One line per clip and system, then the means."""
    width = max([len("mean") + 12] + [len(name) for name in report["clips"]])
    print(f"{'clip':{width}s}  system " + "".join(f" {head:>{CELL - 1}s}" for _, head, _ in COLUMNS))

    def line(label: str, system: str, row: dict) -> None:
        cells = [
            f"{'-':>{CELL}s}" if row[key] is None else f" {row[key]:{CELL - 1}.{decimals}f}"
            for key, _, decimals in COLUMNS
        ]
        print(f"{label:{width}s}  {system:6s} " + "".join(cells))

    for name, clip in report["clips"].items():
        for i, system in enumerate(SYSTEMS):
            line(name if i == 0 else "", system, clip[system])
    for i, system in enumerate(SYSTEMS):
        line(f"mean ({len(report['clips'])} clips)" if i == 0 else "", system, report["mean"][system])
    if not report["pesq"].startswith("wideband"):
        print(f"PESQ: {report['pesq']}")


# ----------------------------------------------------------------------------- four pipelines side by side

PIPELINES = ("oracle + griffin-lim", "oracle + neural", "dcae + griffin-lim", "dcae + neural")


@torch.no_grad()
def compare_pipelines(model, vocoder, mel, sets: dict, gl_iters: int = 32) -> dict:
    """{set: {pipeline: mean measures}} for the mel (oracle) or the DCAE's reconstruction of it,
    each made audible by Griffin-Lim or by the neural vocoder; sets is {set: {clip: waveform (C, L)}}.

    The two oracle rows separate what the vocoder loses from what the autoencoder loses."""
    from minidcae.models.vocoder import vocode

    model.eval()
    table = {}
    for set_name, clips in sets.items():
        rows = {p: [] for p in PIPELINES}
        for wav in clips.values():
            x = log_mel(wav, mel)  # (C, n_mels, T)
            device = next(model.parameters()).device
            x_hat = model.decode(model.encode(x[None].to(device)), x.shape[-2:])[0].float().cpu()  # (C, n_mels, T)
            for source, mel_in in (("oracle", x), ("dcae", x_hat)):
                for name, audio in (
                    ("griffin-lim", griffin_lim(mel_in, mel, gl_iters)),
                    ("neural", vocode(vocoder, mel_in, mel)),
                ):
                    rows[f"{source} + {name}"].append(clip_measures(wav, audio, mel.sample_rate, mel))
        table[set_name] = {p: _mean(r) for p, r in rows.items()}
    return table


def print_pipelines(table: dict, columns=COLUMNS) -> None:
    """One block per clip set, one line per pipeline."""
    width = max(len(p) for p in PIPELINES)
    print(f"{'pipeline':{width}s}" + "".join(f" {head:>{CELL - 1}s}" for _, head, _ in columns))
    for set_name, rows in table.items():
        print(f"-- {set_name}")
        for pipeline, row in rows.items():
            print(
                f"{pipeline:{width}s}"
                + "".join(f"{'-':>{CELL}s}" if row[k] is None else f" {row[k]:{CELL - 1}.{d}f}" for k, _, d in columns)
            )
