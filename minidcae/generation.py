"""Text to music in the latent space: sampling, the generation pipeline, and measuring obedience.

    generate              a prompt -> a waveform: the whole pipeline `minidcae generate` and the demo run
    load_generator        the latent transformer and the autoencoder it was trained with, checked to fit
    sample_latents        prompts (and melodies) -> normalised latents: noise, then Euler or Heun steps with guidance
    prompt_velocity       the guided velocity v(x, t) for prompts: cfg or apg, and a melody's own guidance
    latents_to_mels       normalised latents -> log-mels through the autoencoder's decoder
    obedience             conditional accuracy and Frechet distance of generated clips, judged by the classifier

Training the latent transformer is minidcae.train_transformer; the network is minidcae.transformer.
Taught in notebook 07 (latent diffusion) and notebook 08 (conditioning).
"""

from __future__ import annotations

import torch

from .condition import known_words, tokenize_for, unknown_words_for
from .config import GenerationConfig, MelConfig
from .dcae import load_latent_autoencoder, mel_config_of
from .diffusion import Momentum, apg, euler_sample, heun_sample
from .errors import MinidcaeError
from .melody import piano_roll
from .streaming import DECODE_WINDOW, decode_long, griffin_lim_long
from .synth import INSTRUMENTS, MODES
from .transformer import load_transformer
from .vocoder import vocode


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
    steps: int = 30,
    cfg_scale: float = 3.0,
    sampler: str = "euler",
    seed: int = 0,
    vocoder=None,
    gl_iters: int = 32,
    melody=None,
    melody_scale: float = 2.0,
    guidance: str = "cfg",
    retake: float | None = None,
) -> torch.Tensor:
    """A prompt -> waveform (C, samples) of about `seconds`: seeded noise -> sampled latent ->
    the autoencoder's decoder -> log-mel -> the neural vocoder if given, else Griffin-Lim.
    melody: notes [(start s, length s, MIDI)] for a melody-conditioned transformer (minidcae.melody).
    guidance: cfg or apg. retake: an angle; the seed's noise turned towards seed + 1's (minidcae.editing.retake)."""
    if retake is None:
        sampling = dict(steps=steps, cfg_scale=cfg_scale, sampler=sampler, melody_scale=melody_scale, guidance=guidance)
        melodies = None if melody is None else [melody]
        return generate_many(
            transformer, autoencoder, mel, [prompt], seconds, seed, vocoder, gl_iters, melodies, **sampling
        )[0]
    frames = latent_frames(seconds, mel, autoencoder)
    roll = None
    if melody is not None:
        roll = piano_roll(melody, frames, latent_frame_rate(mel, autoencoder))[None]  # (1, P + 1, frames)
    sampling = dict(steps=steps, cfg_scale=cfg_scale, sampler=sampler, melody=roll, melody_scale=melody_scale)
    from .editing import retake as retake_latents  # editing builds on this module

    z = retake_latents(transformer, [prompt], frames, retake, seed, guidance=guidance, **sampling)  # (1, C, F, T)
    return mels_to_audio(latents_to_mels(autoencoder, z), mel, vocoder, gl_iters)[0]


def compiled(module, device):
    """torch.compile for where it runs: on CUDA as CUDA graphs ("reduce-overhead": every call replays one captured
    graph, so a small model is no longer paced by launching its kernels one by one), on a CPU inductor's fused
    kernels. The first call (and the first of each new shape) compiles."""
    cuda = torch.device(device).type == "cuda"
    return torch.compile(module, mode="reduce-overhead" if cuda else None)


def latent_frames(seconds: float, mel: MelConfig, autoencoder) -> int:
    """Latent frames of a clip of `seconds`: seconds * mel frames per second / the time factor (at least 1)."""
    if seconds <= 0:
        raise MinidcaeError(f"seconds must be positive, got {seconds}")
    return max(1, round(seconds * mel.frame_rate / autoencoder.cfg.time_factor))


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
def sample_latents(
    model,
    prompts: list[str],
    frames: int,
    steps: int = 30,
    cfg_scale: float = 3.0,
    sampler: str = "euler",
    shift: float = 3.0,
    seed: int = 0,
    melody: torch.Tensor | None = None,
    melody_scale: float = 2.0,
    guidance: str = "cfg",
    noise: torch.Tensor | None = None,
) -> torch.Tensor:
    """Prompts -> normalised latents (B, C, F, frames): start from seeded noise (t = 0), integrate to t = 1.

    noise: the start (B, C, F, frames) instead of the seed's (minidcae.editing.retake mixes two).
    The velocity is prompt_velocity's (cfg or apg guidance; a melody's own guidance)."""
    c = model.cfg
    g = torch.Generator().manual_seed(seed)
    x0 = torch.randn(len(prompts), c.latent_channels, c.latent_rows, frames, generator=g)  # (B, C, F, T)
    x0 = (x0 if noise is None else noise.float()).to(next(model.parameters()).device)  # (B, C, F, T)
    velocity = prompt_velocity(model, prompts, cfg_scale, melody, melody_scale, guidance)
    if sampler not in ("euler", "heun"):
        raise ValueError(f"sampler must be euler or heun, got {sampler!r}")
    integrate = euler_sample if sampler == "euler" else heun_sample
    return integrate(velocity, x0, steps, shift).float().cpu()


def prompt_velocity(
    model,
    prompts: list[str],
    cfg_scale: float = 3.0,
    melody: torch.Tensor | None = None,
    melody_scale: float = 2.0,
    guidance: str = "cfg",
):
    """The guided velocity v(x, t) of a latent transformer for prompts (a fresh one for every sample).

    Guidance runs the conditional and the empty prompt side by side in one batch of 2B:
    cfg: v = v(empty) + cfg_scale (v(prompt) - v(empty)); apg: diffusion.apg on the same two (ACE-Step's default);
    none: v(prompt) alone, one call in a batch of B, for a student that learned the guided velocity (minidcae.distill).
    melody: piano rolls (B, PITCHES + 1, frames) for a model trained with one (minidcae.melody); then each
    condition has its own guidance (cfg only), three calls in one batch of 3B:
    v = v(empty) + cfg_scale (v(prompt) - v(empty)) + melody_scale (v(prompt, melody) - v(prompt))."""
    for p in prompts:
        if unknown_words_for(model.cfg, p):
            raise ValueError(
                f"prompt {p!r}: unknown word(s) {unknown_words_for(model.cfg, p)}; the model knows {known_words(model.cfg)}"
            )
    if guidance not in ("cfg", "apg", "none"):
        raise ValueError(f"guidance must be cfg, apg or none, got {guidance!r}")
    model.eval()
    device = next(model.parameters()).device
    c = model.cfg

    def times(t, n: int) -> torch.Tensor:
        # (n,) copies of t made on the device: no host-to-device copy per call, and a compiled model sees a tensor
        return t if torch.is_tensor(t) else torch.full((n,), float(t), device=device)

    ids, mask = (
        t.to(device) for t in tokenize_for(c, list(prompts) + [""] * len(prompts))
    )  # (2B, L): conditional, then empty
    momentum = Momentum()  # APG's running average, one per sample

    if melody is None and guidance == "none":
        b = len(prompts)

        def velocity(x, t):
            # a distilled student (minidcae.distill) learned the guided velocity: one call a step, no empty prompt
            return model(x, times(t, b), ids[:b], mask[:b])  # (B, C, F, T)

    elif melody is None:

        def velocity(x, t):
            v = model(torch.cat([x, x]), times(t, 2 * len(x)), ids, mask)  # (2B, C, F, T)
            v_cond, v_uncond = v.chunk(2)
            if guidance == "apg":
                return apg(v_cond, v_uncond, cfg_scale, momentum)  # = apg_guided(...) evaluated in one batch
            return v_uncond + cfg_scale * (v_cond - v_uncond)  # = guided(...) evaluated in one batch

    else:
        if guidance != "cfg":
            raise ValueError("guidance apg is not available with a melody yet; use cfg")
        if getattr(model.cfg, "melody", "none") == "none":
            raise ValueError("this transformer was trained without a melody; pass a melody-conditioned checkpoint")
        b = len(prompts)
        roll = torch.cat([melody, torch.zeros_like(melody), torch.zeros_like(melody)]).to(device)  # (3B, P + 1, T)
        ids3, mask3 = (torch.cat([t[:b], t[:b], t[b:]]) for t in (ids, mask))  # prompt, prompt, empty

        def velocity(x, t):
            v_melody, v_prompt, v_empty = model(
                torch.cat([x, x, x]), times(t, 3 * len(x)), ids3, mask3, melody=roll
            ).chunk(3)
            return v_empty + cfg_scale * (v_prompt - v_empty) + melody_scale * (v_melody - v_prompt)

    return velocity


def latent_frame_rate(mel: MelConfig, autoencoder) -> float:
    """Latent frames per second: mel frames per second / the autoencoder's time factor (about 10.8 here)."""
    return mel.frame_rate / autoencoder.cfg.time_factor


@torch.no_grad()
def latents_to_mels(autoencoder, z: torch.Tensor, mel_frames: int | None = None) -> torch.Tensor:
    """Normalised latents (B, C, F, T) -> log-mels (B, in_channels, n_mels, T * time_factor or mel_frames)."""
    z = autoencoder.denormalize_latent(z.to(next(autoencoder.parameters()).device))  # (B, C, F, T)
    t = mel_frames or z.shape[-1] * autoencoder.cfg.time_factor
    n_mels = z.shape[-2] * autoencoder.cfg.freq_factor
    if z.shape[-1] <= DECODE_WINDOW:  # short clips: the whole batch in one decoder call
        return autoencoder.decode(z, (n_mels, t)).float().cpu()  # (B, in_channels, n_mels, t)
    return torch.stack([decode_long(autoencoder, one.cpu(), n_mels, t) for one in z])  # window by window when long


def prompt_for(instrument: str, mode: str) -> str:
    return f"{'happy' if mode == 'major' else 'sad'} {instrument}"


def prompt_grid(per_label: int) -> tuple[list[str], torch.Tensor, torch.Tensor]:
    """per_label copies of each "mood instrument" prompt (12 of them), with the instrument and mode
    indices each one asks for: (prompts, instruments (N,), modes (N,))."""
    prompts, instruments, modes = [], [], []
    for instrument in INSTRUMENTS:
        for mode in MODES:
            prompts += [prompt_for(instrument, mode)] * per_label
            instruments += [INSTRUMENTS.index(instrument)] * per_label
            modes += [MODES.index(mode)] * per_label
    return prompts, torch.tensor(instruments), torch.tensor(modes)


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


@torch.no_grad()
def obedience(
    model,
    autoencoder,
    classifier,
    mel: MelConfig,
    gen: GenerationConfig,
    per_label: int = 16,
    steps: int | None = None,
    cfg_scale: float | None = None,
    seed: int = 0,
) -> dict:
    """Generate per_label clips for each "mood instrument" prompt (12 prompts) and let the classifier judge:
    instrument and mode accuracy against the prompt (chance 1/6 and 1/2), and the Frechet distance of
    their embeddings to held-out real clips. For scale: the same measures for the autoencoder's
    reconstructions of the held-out clips, and the distance between two halves of the real set."""
    from .classifier import frechet_distance, labelled_mels, predict

    prompts, want_i, want_m = prompt_grid(per_label)
    frames = round(gen.clip_seconds * mel.frame_rate / autoencoder.cfg.time_factor)
    generated = generate_mels(
        model,
        autoencoder,
        prompts,
        frames,
        steps=steps or gen.steps,
        cfg_scale=cfg_scale or gen.cfg_scale,
        sampler=gen.sampler,
        shift=gen.time_shift,
        seed=seed,
    )[:, :1]  # (N, 1, n_mels, T)
    e_gen, pi, pm = predict(classifier, generated)
    real, real_i, real_m = labelled_mels(len(prompts), gen.clip_seconds, mel, heldout=True)  # (N, 1, n_mels, T)
    device = next(autoencoder.parameters()).device
    recon = torch.cat(
        [autoencoder.decode(autoencoder.encode(x.to(device)), x.shape[-2:]).float().cpu() for x in real.split(48)]
    )[:, :1]  # the autoencoder's reconstructions of the same clips
    e_real, ri, rm = predict(classifier, real)
    e_recon, ci_, cm = predict(classifier, recon)
    half = len(e_real) // 2
    return {
        "clips": len(prompts),
        "steps": steps or gen.steps,
        "cfg_scale": cfg_scale or gen.cfg_scale,
        "instrument_accuracy": float((pi == want_i).float().mean()),
        "mode_accuracy": float((pm == want_m).float().mean()),
        "chance": {"instrument": 1 / len(INSTRUMENTS), "mode": 1 / len(MODES)},
        "frechet_generated_vs_real": frechet_distance(e_gen, e_real),
        "reference": {
            "real_instrument_accuracy": float((ri == real_i).float().mean()),
            "real_mode_accuracy": float((rm == real_m).float().mean()),
            "reconstruction_instrument_accuracy": float((ci_ == real_i).float().mean()),
            "reconstruction_mode_accuracy": float((cm == real_m).float().mean()),
            "frechet_reconstruction_vs_real": frechet_distance(e_recon, e_real),
            "frechet_real_half_vs_half": frechet_distance(e_real[:half], e_real[half:]),
        },
    }
