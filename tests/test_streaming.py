"""Long audio: the window machinery is exact for a local operation, and the DCAE's windowed
round trip is as good as the whole-file one (its GroupNorm makes any window a little different)."""

import pytest
import torch
import torch.nn.functional as F

from minidcae.core.config import DEFAULT_MEL, SHIPPED_DCAE
from minidcae.measure.spectral import mel_db_from_log_mel, mel_l1_db_from_mels
from minidcae.models.dcae import load_autoencoder
from minidcae.sound.audio import log_mel
from minidcae.sound.streaming import crossfade_weights, decode_long, encode_long, stream_decode, windowed
from minidcae.sound.synth import synth_clip


def test_crossfades_of_neighbours_sum_to_one():
    a = crossfade_weights(10, 4, first=True, last=False)
    b = crossfade_weights(10, 4, first=False, last=True)
    assert torch.allclose(a[-4:] + b[:4], torch.ones(4))
    assert (a[:6] == 1).all() and (b[4:] == 1).all()


@pytest.mark.parametrize("scale", [1, 4])
def test_windows_with_enough_context_give_exactly_the_whole_result_of_a_local_operation(scale):
    x = torch.randn(2, 3, 203, generator=torch.Generator().manual_seed(0))
    kernel = torch.randn(3, 1, 5, generator=torch.Generator().manual_seed(1))

    def local(piece):  # a depthwise convolution (sees 2 frames each side), then each frame repeated `scale` times
        y = F.conv1d(F.pad(piece, (2, 2), mode="replicate"), kernel, groups=3)
        return y.repeat_interleave(scale, dim=-1)

    whole = local(x)
    for window, fade in ((40, 8), (64, 16), (203, 8)):
        assert torch.allclose(windowed(local, x, window, fade, context=2, scale=scale), whole, atol=1e-5)
    # without context the edges of each window are wrong, and the crossfade only blends them
    assert not torch.allclose(windowed(local, x, 40, 8, context=0, scale=scale), whole, atol=1e-5)


@pytest.fixture(scope="module")
def long_clip():
    model, _ = load_autoencoder(SHIPPED_DCAE)
    wav = torch.cat([torch.from_numpy(synth_clip(1_000_000 + s, 6.0, DEFAULT_MEL.sample_rate)[0]) for s in range(3)])[
        None
    ]
    return model.eval(), log_mel(wav, DEFAULT_MEL)  # (1, 64, 1551): 18 s


def test_windowed_round_trip_is_as_good_as_the_whole_file(long_clip):
    model, x = long_clip
    db = lambda m: mel_db_from_log_mel(m, DEFAULT_MEL)  # noqa: E731
    with torch.no_grad():
        whole = model.decode(model.encode(x[None]), x.shape[-2:])[0]
    z = encode_long(model, x, window=512, fade=64, context=64)
    assert z.shape[-1] == -(-x.shape[-1] // 8)
    windowed_x = decode_long(model, z, 64, x.shape[-1], window=64, fade=8, context=8)
    quality_whole, quality_windows = mel_l1_db_from_mels(db(x), db(whole)), mel_l1_db_from_mels(db(x), db(windowed_x))
    assert abs(quality_windows - quality_whole) < 0.1
    assert mel_l1_db_from_mels(db(whole), db(windowed_x)) < 0.5  # the seam error against a whole-file decode


def test_streamed_chunks_add_up_to_the_clip(long_clip):
    model, x = long_clip
    with torch.no_grad():
        z = model.encode(x[None])[0]
    chunks = list(stream_decode(model, z, DEFAULT_MEL, chunk=64, n_iter=4))
    assert len(chunks) == -(-z.shape[-1] // 64)
    assert sum(c.shape[-1] for c in chunks) == z.shape[-1] * 8 * DEFAULT_MEL.hop_length


def test_windows_must_fit_the_time_factor(long_clip):
    model, x = long_clip
    with pytest.raises(ValueError, match="multiple of the time factor"):
        encode_long(model, x, window=500)
