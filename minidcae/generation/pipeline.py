"""From a prompt to audio: the generation pipeline around the sampler.

    generate              a prompt -> a waveform: the whole pipeline `minidcae generate` and the demo run
    generate_many         prompts -> waveforms, every clip in one batch (`minidcae generate --n`)
    load_generator        the latent transformer and the autoencoder it was trained with, checked to fit
    compiled              torch.compile for where it runs (CUDA graphs on a GPU)
    latents_to_mels       normalised latents -> log-mels through the autoencoder's decoder
    mels_to_audio         log-mels -> waveforms: the neural vocoder, or Griffin-Lim
    generate_mels         prompts -> log-mels, a chunk at a time (what obedience and the benchmarks measure)

Sampling the latents (noise, guidance, Euler or Heun steps) is minidcae.generation.sampling; training the latent
transformer is minidcae.recipes.transformer; the network is minidcae.models.transformer.
Taught in notebook 07 (latent diffusion) and notebook 08 (conditioning).
"""

from __future__ import annotations

import torch

from minidcae.core.config import MelConfig
from minidcae.core.errors import MinidcaeError
from minidcae.generation.sampling import latent_frame_rate, latent_frames, sample_latents
from minidcae.generation.sampling import retake as retake_latents
from minidcae.models.dcae import load_latent_autoencoder, mel_config_of
from minidcae.models.transformer import load_transformer
from minidcae.models.vocoder import vocode
from minidcae.sound.melody import piano_roll
from minidcae.sound.streaming import DECODE_WINDOW, decode_long, griffin_lim_long


def load_generator(checkpoint, autoencoder_path, device="cpu"):
    """(latent transformer, autoencoder, the autoencoder's front end) from two checkpoints, refused
    with one line when the transformer's latents are not the shape the autoencoder decodes."""
    transformer, _ = load_transformer(checkpoint, device)
    autoencoder, ae_meta = load_latent_autoencoder(autoencoder_path, device)
    mel = mel_config_of(ae_meta)
    made, decoded = transformer.cfg, (autoencoder.cfg.latent_channels, mel.n_mels // autoencoder.cfg.freq_factor)
    if (made.latent_channels, made.latent_rows) != decoded:
        raise MinidcaeError(
            f"{checkpoint} generates latents of {made.latent_channels} x {made.latent_rows}, "
            f"but {autoencoder_path} decodes {decoded[0]} x {decoded[1]}: "
            f"pass the autoencoder it was trained with"
        )
    return transformer, autoencoder, mel


@torch.no_grad()
def generate(
    transformer,
    autoencoder,
    mel: MelConfig,
    prompt: str,
    seconds: float,
    seed: int = 0,
    vocoder=None,
    gl_iters: int = 32,
    melody=None,
    retake: float | None = None,
    **sampling,
) -> torch.Tensor:
    """A prompt -> waveform (C, samples) of about `seconds`: seeded noise -> sampled latent ->
    the autoencoder's decoder -> log-mel -> the neural vocoder if given, else Griffin-Lim.
    melody: notes [(start s, length s, MIDI)] for a melody-conditioned transformer (minidcae.sound.melody).
    retake: an angle; the seed's noise turned towards seed + 1's (minidcae.generation.sampling.retake).
    sampling: sample_latents' keywords (steps, cfg_scale, sampler, shift, guidance, melody_scale, window)."""
    if retake is None:
        melodies = None if melody is None else [melody]
        return generate_many(
            transformer, autoencoder, mel, [prompt], seconds, seed, vocoder, gl_iters, melodies, **sampling
        )[0]
    frames = latent_frames(seconds, mel, autoencoder)
    roll = None
    if melody is not None:
        roll = piano_roll(melody, frames, latent_frame_rate(mel, autoencoder))[None]  # (1, P + 1, frames)
    z = retake_latents(transformer, [prompt], frames, retake, seed, melody=roll, **sampling)  # (1, C, F, T)
    return mels_to_audio(latents_to_mels(autoencoder, z), mel, vocoder, gl_iters)[0]


def compiled(module, device):
    """torch.compile for where it runs: on CUDA as CUDA graphs ("reduce-overhead": every call replays one captured
    graph, so a small model is no longer paced by launching its kernels one by one), on a CPU inductor's fused
    kernels. The first call (and the first of each new shape) compiles."""
    cuda = torch.device(device).type == "cuda"
    return torch.compile(module, mode="reduce-overhead" if cuda else None)


@torch.no_grad()
def generate_many(
    transformer,
    autoencoder,
    mel: MelConfig,
    prompts: list[str],
    seconds: float,
    seed: int = 0,
    vocoder=None,
    gl_iters: int = 32,
    melodies=None,
    **sampling,
) -> torch.Tensor:
    """Prompts -> waveforms (N, C, samples), every clip in one batch: one network call a step for all of them
    (on a GPU, 128 clips cost little more than one). The noise of the batch comes from `seed`.
    melodies: one list of notes per prompt, or None. sampling: sample_latents' keywords."""
    frames = latent_frames(seconds, mel, autoencoder)
    roll = None
    if melodies is not None:
        rate = latent_frame_rate(mel, autoencoder)
        roll = torch.stack([piano_roll(notes, frames, rate) for notes in melodies])  # (N, P + 1, frames)
    z = sample_latents(transformer, list(prompts), frames, seed=seed, melody=roll, **sampling)  # (N, C, F, frames)
    return mels_to_audio(latents_to_mels(autoencoder, z), mel, vocoder, gl_iters)  # (N, C_audio, samples)


def mels_to_audio(x: torch.Tensor, mel: MelConfig, vocoder=None, gl_iters: int = 32) -> torch.Tensor:
    """Log-mels (N, C, n_mels, T) -> waveforms (N, C, T * hop): the neural vocoder if given, else Griffin-Lim."""
    if vocoder is not None:
        return vocode(vocoder, x, mel)  # (N, C, T * hop), every clip in one batch
    return torch.stack([griffin_lim_long(one, mel, gl_iters) for one in x])  # (N, C, T * hop)


@torch.no_grad()
def latents_to_mels(autoencoder, z: torch.Tensor, mel_frames: int | None = None) -> torch.Tensor:
    """Normalised latents (B, C, F, T) -> log-mels (B, in_channels, n_mels, T * time_factor or mel_frames)."""
    z = autoencoder.denormalize_latent(z.to(next(autoencoder.parameters()).device))  # (B, C, F, T)
    t = mel_frames or z.shape[-1] * autoencoder.cfg.time_factor
    n_mels = z.shape[-2] * autoencoder.cfg.freq_factor
    if z.shape[-1] <= DECODE_WINDOW:  # short clips: the whole batch in one decoder call
        return autoencoder.decode(z, (n_mels, t)).float().cpu()  # (B, in_channels, n_mels, t)
    return torch.stack([decode_long(autoencoder, one.cpu(), n_mels, t) for one in z])  # window by window when long


def generate_mels(model, autoencoder, prompts: list[str], frames: int, chunk: int = 48, **sampling) -> torch.Tensor:
    """Prompts -> log-mels (N, in_channels, n_mels, frames * time_factor), sampled `chunk` at a time.

    sampling: sample_latents' keywords (steps, cfg_scale, sampler, shift, seed, melody, melody_scale), with
    its defaults; melody holds one piano roll per prompt.
    The chunk that starts at prompt i uses seed + i, so the result does not depend on how many
    prompts come after."""
    seed, melody = sampling.pop("seed", 0), sampling.pop("melody", None)  # melody: rolls (N, P + 1, frames) or None
    z = torch.cat(
        [
            sample_latents(
                model,
                prompts[i : i + chunk],
                frames,
                seed=seed + i,
                melody=None if melody is None else melody[i : i + chunk],
                **sampling,
            )
            for i in range(0, len(prompts), chunk)
        ]
    )
    return latents_to_mels(autoencoder, z)
