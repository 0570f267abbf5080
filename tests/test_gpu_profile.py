"""The `gpu` profile without a GPU: every model it trains is built at its sizes and takes one training step
on tiny data (batch 2) on the CPU, so a broken `gpu` setting fails here first; and the library runs without
soundfile, as on a GPU machine with its own Python (tools/gpu_check.py)."""

import subprocess
import sys

import pytest
import torch

from minidcae.bench.throughput import PROFILED, measure, profiled_trainer
from minidcae.core.profiles import get_profile


@pytest.mark.parametrize("name", PROFILED)
def test_every_gpu_profile_model_takes_one_training_step(name):
    torch.set_num_threads(1)
    profile = get_profile("gpu")
    trainer, next_batch, seconds = profiled_trainer(name, profile, "cpu", batch_size=2)
    before = {k: p.detach().clone() for m in trainer.optimize.values() for k, p in m.named_parameters()}
    result = measure(trainer, next_batch, steps=1, warmup=0, seconds_per_item=seconds)
    assert all(torch.isfinite(torch.tensor(v)) for v in result["losses"].values())
    after = {k: p for m in trainer.optimize.values() for k, p in m.named_parameters()}
    assert any(not torch.equal(before[k], after[k]) for k in before)  # the step moved the weights
    assert result["peak_bytes"] is None and result["samples_per_s"] > 0
    if name == "transformer":
        # at the start the model predicts 0 (zero-initialised output), so the flow-matching loss is
        # E|x1 - x0|^2 = Var(x1) + Var(x0) = 2 for unit-normal data and noise
        assert abs(result["losses"]["loss"] - 2.0) < 0.15
        assert trainer.modules["transformer"].cfg.dim == profile.transformer.dim == 512


def test_the_library_runs_without_soundfile_and_files_say_what_is_missing():
    code = (
        "import sys; sys.modules['soundfile'] = None\n"
        "import minidcae.sound.audio, minidcae.sound.audio_files, minidcae.sound.synth, minidcae.bench.throughput\n"
        "import minidcae.generation.pipeline\n"
        "from minidcae.core.errors import MinidcaeError\n"
        "try:\n    minidcae.sound.audio_files.load_audio('data_samples/audio/train/instrument_drum-roll.flac')\n"
        "except MinidcaeError as err:\n    print(err)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.count("\n") == 1 and "pip install soundfile" in out
