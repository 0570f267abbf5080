"""Configs: every size in the course, as a frozen dataclass, and where the bundled clips and checkpoints are.

    MelConfig, DCAEConfig, TrainConfig, VocoderConfig, TransformerConfig, ClassifierConfig, ClapConfig,
    GenerationConfig    what one model, front end or run is; the presets beside them (DEFAULT_MEL, ACE_STEP_MEL, ...)
    DATA_SAMPLES, SHIPPED_*   the bundled clips and the shipped checkpoints
    parse_setting       a `key=value` from the command line, typed like the field's default

How big each run is under the ci, cpu and gpu profiles is minidcae.core.profiles. Taught from notebook 00 on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

# The bundled real clips and checkpoints (present in a clone of the repository).
DATA_SAMPLES = Path(__file__).resolve().parents[2] / "data_samples"
SHIPPED_DCAE = DATA_SAMPLES / "checkpoints" / "dcae_t8.safetensors"  # phase one (the better)
SHIPPED_DCAE_PHASE2 = DATA_SAMPLES / "checkpoints" / "dcae_t8_phase2.safetensors"  # phase one + two
SHIPPED_VOCODER = DATA_SAMPLES / "checkpoints" / "vocoder.safetensors"
SHIPPED_SWEEP = DATA_SAMPLES / "checkpoints" / "sweep"  # t2c4.safetensors ... t16c16.safetensors
SHIPPED_CLASSIFIER = DATA_SAMPLES / "checkpoints" / "label_classifier.safetensors"
SHIPPED_TRANSFORMER = DATA_SAMPLES / "checkpoints" / "transformer.safetensors"
SHIPPED_MELODY_TRANSFORMER = DATA_SAMPLES / "checkpoints" / "transformer_melody.safetensors"
SHIPPED_CLAP = DATA_SAMPLES / "checkpoints" / "clap.safetensors"


@dataclass(frozen=True)
class MelConfig:
    """How a waveform becomes a log-mel "image" (mels x frames) and back.

    Frames follow one rule for every preset: the signal is reflect-padded by
    (n_fft - hop) / 2 on each side and the STFT is not centred, so a clip of
    L samples gives exactly L // hop frames, frame k centred on sample k * hop + hop / 2.
    """

    sample_rate: int = 22050
    n_fft: int = 1024
    win_length: int = 1024
    hop_length: int = 256
    n_mels: int = 64
    f_min: float = 0.0
    f_max: float = 11025.0
    channels: int = 1  # 1 mono, 2 stereo (left/right become two image channels)
    pad_multiple: int = 1  # waveforms are zero-padded to a multiple of this many samples
    log_floor: float = 1e-5  # log(clamp(mel, floor)): the quietest value a mel bin can hold
    # STFT magnitude = sqrt(re^2 + im^2 + magnitude_eps). ACE-Step adds 1e-6: a silent STFT bin
    # reads 1e-3, a silent mel band about 5e-5, above the log floor, so digital silence (and the
    # zero padding) normalises to about -0.85 instead of -1.07. Ours stays 0, the plain |STFT|:
    # the shipped checkpoints were trained on it, and silence sits at the log floor.
    magnitude_eps: float = 0.0
    # log-mel -> about [-1, 1]:  x = (log_mel + offset) / scale * 2 - 1
    norm_offset: float = 11.0
    norm_scale: float = 14.0

    @property
    def n_freqs(self) -> int:
        return self.n_fft // 2 + 1

    @property
    def frame_rate(self) -> float:
        """Mel frames per second of audio."""
        return self.sample_rate / self.hop_length

    def frames_for(self, n_samples: int) -> int:
        """Frames the log-mel of n_samples samples has (after padding to pad_multiple)."""
        padded = -(-n_samples // self.pad_multiple) * self.pad_multiple
        return padded // self.hop_length

    def seconds_for(self, n_frames: int) -> float:
        return n_frames * self.hop_length / self.sample_rate


# Our CPU-sized default: 22.05 kHz mono, hop 256 (86 frames/s), 64 mel bands.
DEFAULT_MEL = MelConfig()

# ACE-Step v1's music DCAE front end, exactly: 44.1 kHz stereo, n_fft 2048, hop 512,
# magnitude sqrt(re^2 + im^2 + 1e-6), 128 Slaney mels from 40 Hz to 16 kHz, log(clamp(., 1e-5)),
# (x + 11) / 14 * 2 - 1, waveform padded to a multiple of 4096 samples.
ACE_STEP_MEL = MelConfig(
    sample_rate=44100,
    n_fft=2048,
    win_length=2048,
    hop_length=512,
    n_mels=128,
    f_min=40.0,
    f_max=16000.0,
    channels=2,
    pad_multiple=4096,
    magnitude_eps=1e-6,
)


# The same front end in mono (one image channel): what `make gpu-train` trains its DCAE, vocoder and
# latent transformer on (tools/gpu_train.py).
ACE_STEP_MONO_MEL = replace(ACE_STEP_MEL, channels=1)


@dataclass(frozen=True)
class DCAEConfig:
    """A deep compressed autoencoder over (batch, channels, mels, frames) log-mel images.

    widths[i] is the width at level i; between consecutive levels the image shrinks by 2 in time
    while the time factor allows it, and by 2 in frequency while the frequency factor allows it.
    """

    in_channels: int = 1
    widths: tuple[int, ...] = (16, 32, 64, 128)
    blocks_per_level: int = 1
    time_factor: int = 8  # latent frames = mel frames / time_factor (1, 2, 4, 8 or 16)
    freq_factor: int = 4  # latent rows = mel bands / freq_factor
    latent_channels: int = 8
    bottleneck: str = "plain"  # plain, kl or vq
    kl_weight: float = 1e-4
    codebook_size: int = 256
    shortcuts: bool = True  # DC-AE's space-to-channel / channel-to-space residuals
    # U-Net skips: the decoder also reads the encoder's feature map of each level (notebook 13 shows why a
    # generative autoencoder must not have them: the latent alone no longer decodes)
    skips: bool = False

    def compression(self, n_mels: int) -> float:
        """How many times fewer numbers the latent holds than the mel (per input channel set)."""
        return (self.in_channels * n_mels * self.time_factor * self.freq_factor) / (self.latent_channels * n_mels)


# The CPU-sized default: 8x in time, 4x in frequency, 8 channels (4x fewer numbers than the mel).
DEFAULT_DCAE = DCAEConfig()
# ACE-Step's latent geometry, f8 in time and frequency with 8 channels, at a width a CPU can train.
ACE_GEOMETRY_DCAE = DCAEConfig(widths=(16, 32, 64, 128), time_factor=8, freq_factor=8, latent_channels=8)
# The same geometry at ACE-Step's widths (128/256/512/1024) on stereo: built to compare, not trained.
# (ACE-Step's last stage uses linear attention; here every stage is convolutional.)
ACE_FULL_DCAE = DCAEConfig(
    in_channels=2, widths=(128, 256, 512, 1024), blocks_per_level=2, time_factor=8, freq_factor=8, latent_channels=8
)


@dataclass(frozen=True)
class TrainConfig:
    """How one training run goes; every model in the course trains through minidcae.training.trainer."""

    steps: int = 200
    batch_size: int = 16
    crop_frames: int = 128  # frames per training crop (128 frames = 1.5 s at the default hop)
    lr: float = 1e-3
    min_lr_ratio: float = 0.1  # cosine decay from lr to lr * min_lr_ratio over the run (1 = constant)
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    ema_decay: float = 0.0  # 0 = no EMA copy; 0.999 keeps a slow average of the weights
    bf16: bool = True  # autocast to bfloat16 on CUDA (ignored on CPU)
    compile: bool = (
        False  # torch.compile the loss and its backward (pays on a GPU for long runs; the first step compiles)
    )
    log_every: int = 10
    checkpoint_every: int = 100
    seed: int = 0
    recon_loss: str = "l1"  # l1 or l2 on the normalised log-mel
    mr_weight: float = 1.0  # multi-resolution mel loss weight
    sc_weight: float = 0.5  # spectral convergence of the linear mel (punishes loud overshoots)
    adv_steps: int = 0  # phase two: encoder frozen, decoder trained with PatchGAN losses added
    adv_lr: float = 2e-4  # phase two's learning rate: a gentle fine-tune of the decoder
    adv_weight: float = 0.1  # hinge generator loss weight in phase two
    fm_weight: float = 2.0  # feature matching weight in phase two
    n_clips: int = 256  # synthetic training clips
    clip_seconds: float = 4.0


@dataclass(frozen=True)
class VocoderConfig:
    """A Vocos-style neural vocoder (minidcae.models.vocoder): normalised log-mel -> waveform.

    ConvNeXt blocks over the frames predict each frame's log-magnitude (a correction to the mel
    spread back over the linear bins) and phase; an inverse STFT with the mel's own frames gives
    the samples. The mel fields say which front end it inverts; build it with for_mel.
    """

    dim: int = 192  # channels of the ConvNeXt stack
    blocks: int = 8
    kernel: int = 7  # depthwise kernel, in frames
    expansion: int = 3  # hidden width of each block's MLP = expansion * dim
    frame_clock: bool = True  # add each bin's phase turn per frame, and tell the network where in that cycle it is
    consistency_steps: int = 2  # Griffin-Lim steps built into the network: keep |S|, take the phase of STFT(iSTFT(S))
    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 256
    n_mels: int = 64
    f_min: float = 0.0
    f_max: float = 11025.0
    log_floor: float = 1e-5
    norm_offset: float = 11.0
    norm_scale: float = 14.0

    @classmethod
    def for_mel(cls, mel: MelConfig, **sizes) -> VocoderConfig:
        if mel.win_length != mel.n_fft:
            raise ValueError(f"the vocoder needs win_length == n_fft, got {mel.win_length} and {mel.n_fft}")
        return cls(
            sample_rate=mel.sample_rate,
            n_fft=mel.n_fft,
            hop_length=mel.hop_length,
            n_mels=mel.n_mels,
            f_min=mel.f_min,
            f_max=mel.f_max,
            log_floor=mel.log_floor,
            norm_offset=mel.norm_offset,
            norm_scale=mel.norm_scale,
            **sizes,
        )

    @property
    def clock_period(self) -> int:
        """Frames after which every bin's clock phase 2 pi f k hop / n_fft is back where it started."""
        return self.n_fft // math.gcd(self.n_fft, self.hop_length) if self.frame_clock else 0

    @property
    def mel(self) -> MelConfig:
        """The (mono) front end whose log-mels this vocoder turns into waveforms."""
        return MelConfig(
            sample_rate=self.sample_rate,
            n_fft=self.n_fft,
            win_length=self.n_fft,
            hop_length=self.hop_length,
            n_mels=self.n_mels,
            f_min=self.f_min,
            f_max=self.f_max,
            log_floor=self.log_floor,
            norm_offset=self.norm_offset,
            norm_scale=self.norm_scale,
        )


@dataclass(frozen=True)
class TransformerConfig:
    """The latent transformer (minidcae.models.transformer): one token per latent frame.

    A latent (channels, rows, frames) becomes frames tokens of channels * rows numbers each, as
    ACE-Step's (16, 1) patches fold the whole frequency axis into one token.
    """

    latent_channels: int = 8
    latent_rows: int = 16  # mel bands / the autoencoder's frequency factor
    dim: int = 128
    depth: int = 4
    heads: int = 4
    ff_mult: int = 2  # the gated feed-forward's hidden width = ff_mult * dim
    conv_kernel: int = 3  # its depthwise convolution over neighbouring tokens (ACE-Step: 3)
    attention: str = "linear"  # self-attention: linear (ReLU, O(N)) or softmax (O(N^2))
    rope_base: float = 10000.0  # rotary position embedding: wavelengths up to 2 pi base tokens
    # a melody as a second condition (minidcae.sound.melody): none; cross (every block attends to melody
    # tokens, with rotary positions on both sides); add (melody tokens added to the frame tokens)
    melody: str = "none"
    # the prompt's encoder (minidcae.models.condition): labels (a word encoder over text.VOCAB, trained with the
    # model); phrases (the same over phrasings.PHRASE_VOCAB, up to 16 words); clap (miniCLAP's frozen text
    # tower, its per-word states through a trained Linear; the tower's sizes below, its weights inside)
    text: str = "labels"
    clap_text_width: int = 64
    clap_text_layers: int = 2
    clap_text_heads: int = 4
    # words a LoRA adapter taught the model (minidcae.models.lora), read with ids after its vocabulary's; set when an
    # adapter is loaded, never by a checkpoint of the base model
    new_words: tuple[str, ...] = ()

    @property
    def token_size(self) -> int:
        return self.latent_channels * self.latent_rows


@dataclass(frozen=True)
class ClassifierConfig:
    """The label classifier (minidcae.models.classifier): log-mel -> instrument and mode, and an embedding
    for the Frechet distance. Trained on real mels only, never on generated ones."""

    widths: tuple[int, ...] = (16, 32, 64, 96)  # each level halves frequency and time
    embed_dim: int = 64
    n_mels: int = 64


@dataclass(frozen=True)
class ClapConfig:
    """miniCLAP (minidcae.models.clap): an audio tower over log-mels and a text tower over phrasings, trained
    contrastively into one embed_dim space (text-to-audio search, CLAP score)."""

    audio_widths: tuple[int, ...] = (16, 32, 64, 96)  # each level halves frequency and time
    audio_width: int = 128  # the convolution over pooled frames
    text_width: int = 64
    text_layers: int = 2
    text_heads: int = 4
    max_words: int = 16
    embed_dim: int = 64
    n_mels: int = 64


@dataclass(frozen=True)
class GenerationConfig:
    """How the latent transformer is trained (beyond TrainConfig) and how it samples by default."""

    clip_seconds: float = 3.0  # every training clip is this long (one latent sequence each)
    n_clips: int = 2048  # synthetic training clips, encoded once by the autoencoder
    drop_prompt: float = 0.1  # share of training prompts replaced by "" (for guidance)
    time_shift: float = 3.0  # logit-normal t, shifted towards the noise (ACE-Step: 3)
    steps: int = 30  # sampling steps
    cfg_scale: float = 3.0  # classifier-free guidance scale
    sampler: str = "euler"  # euler or heun


# The compression sweep (minidcae.recipes.sweep, notebook 05): one small DCAE per (time factor, channels),
# every point trained with the same steps on the same data. Five widths allow a time factor of 16.
SWEEP_TIME_FACTORS = (2, 4, 8, 16)
SWEEP_CHANNELS = (4, 16)
SWEEP_DCAE = DCAEConfig(widths=(8, 16, 32, 32, 32))


def parse_setting(key: str, text: str, default):
    """A `key=value` setting from the command line, typed like the field's default value."""
    try:
        if isinstance(default, bool):
            if text.lower() not in ("true", "false", "1", "0"):
                raise ValueError
            return text.lower() in ("true", "1")
        if isinstance(default, tuple):
            return tuple(int(v) for v in text.split(","))
        return type(default)(text)
    except ValueError:
        raise ValueError(f"{key}={text!r}: expected a {type(default).__name__} like {default!r}") from None
