import json
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf
import torch

from minidcae.cli.main import main
from minidcae.core.checkpoint import CheckpointError, save_model
from minidcae.core.config import DEFAULT_MEL, TrainConfig, VocoderConfig
from minidcae.core.errors import MinidcaeError
from minidcae.core.profiles import get_profile
from minidcae.measure.spectral import multi_resolution_stft_distance, multi_resolution_stft_loss
from minidcae.models.discriminators import MultiResolutionDiscriminator
from minidcae.models.vocoder import Vocoder, inverse_stft, load_vocoder, make_consistent, spread_matrix, vocode
from minidcae.recipes.vocoder import WaveMelDataset, extra_waves, train_vocoder, vocoder_losses
from minidcae.sound.audio import griffin_lim_magnitude, log_mel, stft
from minidcae.sound.data import heldout_sources
from minidcae.sound.synth import synth_clip
from minidcae.training.recipe import Run
from minidcae.training.trainer import Trainer, infinite_batches

MEL = DEFAULT_MEL
TINY = VocoderConfig.for_mel(MEL, dim=32, blocks=2)
PLAIN = VocoderConfig.for_mel(MEL, dim=32, blocks=2, frame_clock=False, consistency_steps=0)  # Vocos's head alone
HOP = MEL.hop_length


def clip(seed=3, seconds=1.0):
    return torch.from_numpy(synth_clip(seed, seconds, MEL.sample_rate)[0])[None]  # (1, samples)


def test_inverse_stft_undoes_audio_stft_sample_for_sample():
    wav = torch.randn(2, 40 * HOP, generator=torch.Generator().manual_seed(0))
    back = inverse_stft(stft(wav, MEL), MEL)
    assert back.shape == wav.shape
    assert (back - wav).abs().max() < 1e-4


def test_vocoder_gives_frames_times_hop_samples_for_any_batch_shape():
    model = Vocoder(TINY)
    x = log_mel(torch.randn(3, 1, 20 * HOP + 17), MEL)  # (3, 1, 64, 20): the 17 extra samples make no frame
    assert model(x).shape == (3, 1, 20 * HOP)
    assert vocode(model, x[0, 0], MEL).shape == (20 * HOP,)
    assert vocode(model, x[:, 0], MEL).shape == (3, 20 * HOP)


def test_a_click_comes_back_at_its_frame_centre_as_griffin_lim_puts_it():
    # frame k is centred on sample k hop + hop / 2; the click at 5000 is nearest frame 19's centre, 4992
    wav = torch.zeros(1, 40 * HOP)
    wav[0, 5000] = 1.0
    untrained = vocode(Vocoder(PLAIN), log_mel(wav, MEL), MEL)  # each frame a pulse at its centre
    gl = griffin_lim_magnitude(stft(wav, MEL).abs(), MEL, 16)
    assert int(untrained.abs().argmax()) == 19 * HOP + HOP // 2
    assert abs(int(gl.abs().argmax()) - 5000) < HOP // 2
    # and not silent: the start is the mel spread over the bins, not zero
    assert untrained.abs().max() > 0.3


def test_spread_matrix_gives_back_a_flat_spectrum_from_its_mel():
    # a flat spectrum s = 1 has mel = fb^T 1; spreading that mel back must give about 1 in every covered bin
    w = spread_matrix(MEL)  # (F, M)
    from minidcae.sound.audio import mel_filterbank

    fb = mel_filterbank(MEL)
    s = w @ (fb.T @ torch.ones(MEL.n_freqs))  # (F,)
    covered = fb.sum(dim=1) > 0
    assert torch.allclose(s[covered][5:-5], torch.ones(()), atol=0.05)


def test_mr_stft_loss_is_the_metric():
    a, b = clip(3), clip(4)
    loss = float(multi_resolution_stft_loss(a, b, eps=1e-12))  # as vocoder_losses calls it
    assert loss == pytest.approx(multi_resolution_stft_distance(a, b), rel=1e-3)
    assert float(multi_resolution_stft_loss(a, a, eps=1e-12)) < 1e-3


def test_dataset_pairs_each_crop_with_its_own_log_mel():
    ds = WaveMelDataset([clip(3), clip(4, 0.1)], 16, MEL, seed=0)
    item = ds[0]
    assert item["wav"].shape == (1, 16 * HOP) and item["mel"].shape == (1, MEL.n_mels, 16)
    assert torch.allclose(item["mel"], log_mel(item["wav"], MEL))
    assert ds[1]["wav"].shape == (1, 16 * HOP)  # a short clip is padded with silence
    assert torch.equal(ds[0]["wav"], item["wav"])  # the same crop for the same (seed, epoch, index)


def _fit(steps, disc=False, lr=1e-2):
    """(loss on a fixed batch before, after, history) of a tiny vocoder trained for `steps`."""
    torch.manual_seed(0)
    ds = WaveMelDataset([clip(s, 1.0) for s in range(4)], 16, MEL, seed=0)
    batches = infinite_batches(ds, 4, 0)
    model = Vocoder(TINY)
    cfg = TrainConfig(steps=steps, batch_size=4, crop_frames=16, lr=lr, log_every=1, adv_weight=0.1, fm_weight=0.2)
    modules, optimize = {"vocoder": model}, {"loss": model}
    if disc:
        modules["disc"] = optimize["d_loss"] = MultiResolutionDiscriminator()
    loss_fn = vocoder_losses(cfg, MEL)
    with torch.no_grad():
        before = float(loss_fn({"vocoder": model}, batches(0))["loss"])
    trainer = Trainer(modules, loss_fn, optimize, cfg, device="cpu", quiet=True)
    trainer.fit(batches, steps)
    with torch.no_grad():
        after = float(loss_fn({"vocoder": model}, batches(0))["loss"])
    return before, after, trainer.history


def test_a_few_steps_lower_the_loss():
    before, after, _ = _fit(60)
    assert after < 0.75 * before, (before, after)


def test_adversarial_phase_trains_generator_and_critic():
    _, _, history = _fit(3, disc=True)
    assert {"g_adv", "fm", "d_loss"} <= set(history[-1]) and all(np.isfinite(v) for v in history[-1].values())


def test_checkpoint_round_trip_gives_the_same_waveform(tmp_path):
    model = Vocoder(TINY)
    torch.nn.init.normal_(model.head.weight, std=0.01)  # not the plain start
    x = log_mel(clip(), MEL)
    save_model(tmp_path / "v", model, "vocoder", TINY)
    loaded, meta = load_vocoder(tmp_path / "v.safetensors")
    assert meta["kind"] == "vocoder" and loaded.cfg == TINY
    assert torch.allclose(vocode(loaded, x, MEL), vocode(model, x, MEL), atol=1e-6)
    save_model(tmp_path / "other", torch.nn.Linear(2, 2), "dcae", TINY)
    with pytest.raises(CheckpointError, match="expected one of"):
        load_vocoder(tmp_path / "other.safetensors")


def test_vocode_refuses_a_log_mel_from_another_front_end():
    with pytest.raises(MinidcaeError, match="trained on this front end"):
        vocode(Vocoder(TINY), torch.zeros(64, 10), replace(MEL, hop_length=128))


def test_train_vocoder_writes_both_phases_with_their_settings(tmp_path):
    over = {"steps": "2", "adv_steps": "1", "n_clips": "2", "clip_seconds": "1.0", "dim": "16", "blocks": "1"}
    run = Run(overrides=over, device="cpu", quiet=True, evaluate=False)
    path = train_vocoder(tmp_path / "v", get_profile("ci"), run)
    assert path.name == "vocoder.safetensors" and (tmp_path / "v" / "vocoder_phase1.safetensors").exists()
    info = json.loads(path.with_suffix(".json").read_text())["info"]
    assert info["train"]["steps"] == 2 and info["phases"] == {"phase1": 2, "phase2": 1}
    model, _ = load_vocoder(path)
    assert model.cfg.dim == 16
    with pytest.raises(ValueError, match="unknown setting"):
        train_vocoder(tmp_path / "w", get_profile("ci"), replace(run, overrides={"widths": "8"}))


def test_reconstruct_with_the_neural_vocoder_and_its_errors(tmp_path, capsys):
    save_model(tmp_path / "v", Vocoder(TINY), "vocoder", TINY)
    sf.write(tmp_path / "in.wav", synth_clip(5, 1.0)[0], MEL.sample_rate)
    args = ["reconstruct", str(tmp_path / "in.wav"), str(tmp_path / "out.wav")]
    assert main(args + ["--vocoder", "neural", "--vocoder-checkpoint", str(tmp_path / "v.safetensors")]) == 0
    assert "neural vocoder" in capsys.readouterr().out
    data, rate = sf.read(tmp_path / "out.wav")
    assert rate == MEL.sample_rate and len(data) == (MEL.sample_rate // HOP) * HOP
    # without --vocoder-checkpoint the shipped vocoder is used
    assert main(args + ["--vocoder", "neural"]) == 0
    assert "neural vocoder vocoder.safetensors" in capsys.readouterr().out
    # a vocoder checkpoint without --vocoder neural is a mistake worth saying
    assert main(args + ["--vocoder-checkpoint", str(tmp_path / "v.safetensors")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("minidcae: error: ") and "--vocoder" in err and "\n" not in err


def test_extra_audio_is_cut_into_clips_and_never_includes_a_held_out_source(tmp_path):
    sr = MEL.sample_rate
    music, samples = tmp_path / "music", tmp_path / "samples"
    music.mkdir()
    (samples / "audio").mkdir(parents=True)
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(int(9.5 * sr)) / sr).astype(np.float32)  # 9.5 s
    sf.write(music / "long.flac", tone, sr)
    sf.write(music / "test-source.flac", tone[:sr], sr)
    sf.write(music / "silence.flac", np.zeros(2 * sr, np.float32), sr)
    (samples / "audio" / "metadata.csv").write_text(
        "file,split,kind,source,licence\n"
        f"heldout/x.flac,heldout,instrument,Debian pkg: {music / 'test-source.flac'}; first 1 s,CC0-1.0\n"
    )
    assert heldout_sources(samples) == {(music / "test-source.flac").resolve()}
    pieces = extra_waves([music], MEL, 4.0, samples)
    # long.flac: 4 s + 4 s + 1.5 s; the held-out source and the silent file are left out
    assert [p.shape[-1] for p in pieces] == [4 * sr, 4 * sr, int(1.5 * sr)]
    assert torch.allclose(torch.cat(pieces, dim=-1)[0], torch.from_numpy(tone), atol=1e-4)  # FLAC keeps 16 bits


def test_the_frame_clock_turns_each_bin_as_a_steady_sinusoid_at_its_centre_does():
    cfg = VocoderConfig.for_mel(MEL, dim=16, blocks=1, frame_clock=True)
    model = Vocoder(cfg)
    with torch.no_grad():
        model.head.bias.zero_()  # the network says nothing: the phase is the clock alone
        spec = model.spectrum(torch.zeros(1, MEL.n_mels, 12))  # (1, F, 12)
    n = torch.arange(40 * HOP, dtype=torch.float64)
    for b in (1, 2, 3, 5, 37):
        true = stft(torch.cos(2 * torch.pi * b * n / MEL.n_fft).float(), MEL)[b]  # (frames,)
        # the turn from frame k to k+1, in the sinusoid's STFT and in the clock
        turn_true = torch.angle(true[3:11] / true[2:10])
        turn_clock = torch.angle(spec[0, b, 1:9] / spec[0, b, 0:8])
        assert torch.allclose(torch.cos(turn_true - turn_clock), torch.ones(8), atol=1e-4), b
    assert cfg.clock_period == 4 and model.embed.in_channels == MEL.n_mels + 4


def test_a_consistency_step_leaves_a_real_stft_alone_and_brings_a_random_phase_closer():
    spec = stft(clip(5, 1.0)[:, : 40 * HOP], MEL)  # (1, F, 40): the STFT of a waveform is consistent already
    assert torch.allclose(make_consistent(spec, MEL), spec, atol=1e-4 * spec.abs().max())
    torch.manual_seed(0)
    guess = spec.abs() * torch.exp(2j * torch.pi * torch.rand(spec.shape))  # the right magnitude, a random phase

    def misfit(s):  # how far the waveform's own magnitude is from the one asked for (Griffin-Lim lowers it)
        return float((stft(inverse_stft(s, MEL), MEL).abs() - spec.abs()).norm())

    once = make_consistent(guess, MEL)
    assert misfit(once) < 0.8 * misfit(guess) and misfit(make_consistent(once, MEL)) < misfit(once)
    assert torch.allclose(once.abs(), spec.abs(), atol=1e-5 * spec.abs().max())  # the magnitude is kept
