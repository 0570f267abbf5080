"""Audio through a trained autoencoder and back: what the command line runs on files.

    reconstruct      waveform -> log-mel -> DCAE -> log-mel -> waveform (none: the oracle round trip), window by window
    encode_audio     an audio file -> a latent file (safetensors), with what decoding it needs to know
    decode_latent    a latent file -> a waveform

Every log-mel becomes sound through pipeline.mels_to_audio, the one place that decides how: the neural vocoder
when one is given, else Griffin-Lim. The network itself is minidcae.models.dcae; long files go window by window
(minidcae.sound.streaming), so memory stays bounded. Taught in notebook 03 (training for real) and notebook 04
(latent space, the files).
"""

from __future__ import annotations

from pathlib import Path

import torch

from minidcae.core.checkpoint import CheckpointError, load_tensors, save_tensors
from minidcae.core.config import MelConfig
from minidcae.generation.pipeline import mels_to_audio
from minidcae.models.dcae import DCAE, mel_config_of, refuse_skips
from minidcae.sound.audio import log_mel
from minidcae.sound.audio_files import load_audio
from minidcae.sound.streaming import decode_long, encode_long


@torch.no_grad()
def reconstruct(
    model: DCAE | None, wav: torch.Tensor, mel: MelConfig, gl_iters: int = 32, vocoder=None, name: str = "waveform"
):
    """waveform (C, samples) -> (reconstructed waveform (C, frames * hop), original log-mel, reconstructed log-mel).

    model None is the oracle round trip: the true log-mel straight back to sound. Clips longer than one window
    (1024 frames, about 12 s) go window by window, so memory stays bounded; shorter ones are done whole, with
    identical results. vocoder: a neural vocoder, else Griffin-Lim with gl_iters iterations. name: the clip, for
    the one-line error when it is too short."""
    x = log_mel(wav, mel, name)  # (C, n_mels, frames)
    x_hat = x
    if model is not None:
        refuse_skips(model, "reconstruct")
        x_hat = decode_long(model, encode_long(model, x), x.shape[-2], x.shape[-1])  # (C, n_mels, frames)
    return mels_to_audio(x_hat[None], mel, vocoder, gl_iters)[0], x, x_hat  # (C, frames * hop), ...


@torch.no_grad()
def encode_audio(model: DCAE, meta: dict, audio_path, out_path) -> Path:
    """Audio file -> latent (1, C, F', T') in a safetensors file, with what decode needs to know."""
    refuse_skips(model, "encode")
    mel = mel_config_of(meta)
    wav = load_audio(audio_path, mel.sample_rate, mel.channels)  # (C, samples)
    x = log_mel(wav, mel, str(audio_path))[None]  # (1, C, n_mels, frames)
    z = encode_long(model, x[0])[None]  # (1, latent_channels, F', T'): window by window for a long file
    info = {
        "frames": x.shape[-1],
        "n_mels": x.shape[-2],
        "latent_channels": z.shape[1],
        "sample_rate": mel.sample_rate,
        "source": Path(audio_path).name,
    }
    return save_tensors(out_path, {"latent": z}, info)


@torch.no_grad()
def decode_latent(model: DCAE, meta: dict, latent_path, gl_iters: int = 32, vocoder=None) -> tuple[torch.Tensor, int]:
    """A latent file from encode_audio -> (waveform (C, samples), sample rate), through the vocoder if given."""
    refuse_skips(model, "decode")
    tensors, info = load_tensors(latent_path)
    if "latent" not in tensors:
        raise CheckpointError(f"{latent_path}: holds no 'latent' tensor; make one with `minidcae encode`")
    z = tensors["latent"]
    if z.ndim != 4 or z.shape[1] != model.cfg.latent_channels:
        raise CheckpointError(
            f"{latent_path}: latent of shape {tuple(z.shape)} does not fit this autoencoder "
            f"({model.cfg.latent_channels} latent channels); use the checkpoint that encoded it"
        )
    mel = mel_config_of(meta)
    shape = (info.get("n_mels", mel.n_mels), info.get("frames", z.shape[-1] * model.cfg.time_factor))
    x_hat = decode_long(model, z[0], shape[0], shape[1])  # (C, n_mels, frames)
    return mels_to_audio(x_hat[None], mel, vocoder, gl_iters)[0], mel.sample_rate
