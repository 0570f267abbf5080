"""The course's checker: a student's function beside the library's; a line per wrong input, each
named by what it is; complex values as complex; errors as the student's own line; the pattern of a
permutation; hints; and the library's source revealed once the answer is right. Every test runs a
hand-made right or wrong student function and asserts the lines printed."""

import inspect
import math
from dataclasses import replace

import pytest
import torch
from einops import rearrange

from minidcae.core.config import ACE_STEP_MEL, ACE_STEP_MONO_MEL, DEFAULT_DCAE, DEFAULT_MEL
from minidcae.core.errors import MinidcaeError
from minidcae.models import dcae
from minidcae.sound import audio
from minidcae.teach import check, explain, viz
from minidcae.teach.hints import HINTS


def space_to_channel_inputs(g):
    return torch.randn(2, 4, 8, 8, generator=g), 2, 2, 8


def unshuffle_then_average(x, sf, st, channels, order="c sf st", groups="o g"):
    """A student's space_to_channel: `order` is the patch's order in the channels, `groups` how
    channels are grouped for the average (the library's: "c sf st", "o g")."""
    h = rearrange(x, f"b c (f sf) (t st) -> b ({order}) f t", sf=sf, st=st)  # (B, C sf st, F / sf, T / st)
    return rearrange(h, f"b ({groups}) f t -> b o g f t", o=channels).mean(dim=2)  # (B, channels, F / sf, T / st)


def test_a_correct_answer_written_another_way_is_correct(capsys):
    def mine(x, sf, st, channels):
        b, c, f, t = x.shape
        # (B, C, F, T) -> (B, C, F/sf, sf, T/st, st) -> (B, C, sf, st, F/sf, T/st) -> groups -> mean
        h = (
            x.reshape(b, c, f // sf, sf, t // st, st)
            .permute(0, 1, 3, 5, 2, 4)
            .reshape(b, c * sf * st, f // sf, t // st)
        )
        return h.reshape(b, channels, -1, f // sf, t // st).mean(dim=2)

    check.compare(mine, dcae.space_to_channel, space_to_channel_inputs)
    out = capsys.readouterr().out
    assert out == (
        "correct: mine matches minidcae.models.dcae.space_to_channel on 3 random inputs (atol 1e-05, rtol 0.0001)\n"
    )


def test_a_wrong_shape_is_named_with_both_shapes():
    result = check.verdict(lambda x, sf, st, c: x, dcae.space_to_channel, space_to_channel_inputs)
    assert not result and (result.right, result.total) == (0, 3)
    lines = result.message.splitlines()
    assert lines[0] == "wrong: <lambda>, 0 of 3 inputs right"
    assert lines[1] == (
        "  input 1 (tensor (2, 4, 8, 8) float32, 2, 2, 8): output shape (2, 4, 8, 8), expected (2, 8, 4, 4)"
    )
    assert lines[2:] == [
        "  input 2 (tensor (2, 4, 8, 8) float32, 2, 2, 8): the same as input 1",
        "  input 3 (tensor (2, 4, 8, 8) float32, 2, 2, 8): the same as input 1",
    ]


def test_a_wrong_value_says_how_many_elements_where_the_largest_is_and_by_how_much():
    x = torch.arange(16.0).reshape(1, 1, 4, 4)  # (B, C, F, T); sf = st = 2, 4 channels, no average

    def off_by_one_cell(x, sf, st, c):
        y = dcae.space_to_channel(x, sf, st, c).clone()
        y[0, 3, 1, 0] += 0.5
        return y

    result = check.verdict(off_by_one_cell, dcae.space_to_channel, [(x, 2, 2, 4)])
    # channel 3 holds each patch's (1, 1) corner: patch (1, 0) starts at row 2, column 0, so 16 * 0 + 4 * 3 + 1 = 13
    assert result.message.splitlines()[1] == (
        "  input 1 (tensor (1, 1, 4, 4) float32, 2, 2, 4): output differs at 1 of 16 elements; "
        "the largest: element (0, 3, 1, 0) is 13.5, expected 13 (difference 0.5)"
    )


def test_within_tolerance_passes_and_outside_fails():
    ref = lambda x: x * 2  # noqa: E731
    inputs = [(torch.ones(3),)]
    assert check.verdict(lambda x: x * 2 + 1e-6, ref, inputs, atol=1e-5)
    assert not check.verdict(lambda x: x * 2 + 1e-3, ref, inputs, atol=1e-5, rtol=0)


def test_tuples_dicts_numbers_and_lengths_are_compared_item_by_item():
    ref = lambda x: (x.sum(), float(x.mean()))  # noqa: E731
    inputs = [(torch.arange(4.0),)]
    assert check.verdict(ref, ref, inputs)
    wrong = check.verdict(lambda x: (x.sum(), 0.0), ref, inputs)
    assert wrong.message.splitlines()[1].endswith("output[1] is 0, expected 1.5 (difference 1.5)")
    short = check.verdict(lambda x: (x.sum(),), ref, inputs)
    assert "expected 2 items" in short.message
    named = check.verdict(lambda x: {"mean": x.mean() + 1}, lambda x: {"mean": x.mean()}, inputs)
    assert named.message.splitlines()[1].endswith("output['mean'] is 2.5, expected 1.5 (difference 1)")


def my_mel_filterbank(cfg, forget_f_min=False):
    """Slaney's mel filterbank written from its definition (a second implementation of the library's)."""
    log_step = math.log(6.4) / 27  # Slaney: 27 mels per factor 6.4 above 1 kHz

    def hz_to_mel(f):
        f = torch.as_tensor(f, dtype=torch.float64)
        return torch.where(f < 1000, 3 * f / 200, 15 + torch.log(f / 1000) / log_step)

    def mel_to_hz(m):
        return torch.where(m < 15, 200 * m / 3, 1000 * torch.exp(log_step * (m - 15)))

    freqs = torch.linspace(0, cfg.sample_rate / 2, cfg.n_freqs, dtype=torch.float64)  # (F,)
    low = 0.0 if forget_f_min else cfg.f_min
    points = mel_to_hz(torch.linspace(hz_to_mel(low), hz_to_mel(cfg.f_max), cfg.n_mels + 2, dtype=torch.float64))
    lo, mid, hi = points[:-2], points[1:-1], points[2:]  # (M,) each, in Hz
    rising, falling = (freqs[:, None] - lo) / (mid - lo), (hi - freqs[:, None]) / (hi - mid)  # (F, M) each
    return (torch.minimum(rising, falling).clamp(min=0) * 2 / (hi - lo)).float()  # (F, M), each of area 1


FRONT_ENDS = [DEFAULT_MEL, ACE_STEP_MEL, replace(DEFAULT_MEL, n_mels=32, f_min=50.0, f_max=8000.0)]


def test_the_checker_goes_on_past_the_first_wrong_input_and_names_each_front_end(capsys):
    check.compare(my_mel_filterbank, audio.mel_filterbank, [(c,) for c in FRONT_ENDS], atol=1e-5, rtol=1e-3)
    assert capsys.readouterr().out == (
        "correct: my_mel_filterbank matches minidcae.sound.audio.mel_filterbank on 3 inputs (atol 1e-05, rtol 0.001)\n"
    )
    forgot = lambda cfg: my_mel_filterbank(cfg, forget_f_min=True)  # noqa: E731  right only where f_min is 0
    result = check.verdict(forgot, audio.mel_filterbank, [(c,) for c in FRONT_ENDS], atol=1e-5, rtol=1e-3, name="mine")
    lines = result.message.splitlines()
    assert (result.right, result.total) == (1, 3)
    assert lines[0] == "wrong: mine, 1 of 3 inputs right"
    assert lines[1].startswith("  input 2 (front end ACE_STEP_MEL with 128 mels): output differs at ")
    assert lines[2].startswith("  input 3 (front end DEFAULT_MEL with n_mels=32, f_min=50, f_max=8000): output differs")
    assert len(lines) == 3  # input 1 was right, so it has no line


def test_inputs_are_named_by_what_they_are_or_by_the_name_given():
    assert explain.describe(ACE_STEP_MONO_MEL) == "front end ACE_STEP_MONO_MEL with 128 mels"
    assert (
        explain.describe(replace(ACE_STEP_MEL, hop_length=256))
        == "front end ACE_STEP_MEL with hop_length=256 with 128 mels"
    )
    assert (
        explain.describe(replace(DEFAULT_DCAE, latent_channels=4)) == "DCAEConfig DEFAULT_DCAE with latent_channels=4"
    )
    assert (
        explain.describe((torch.zeros(2, 3, dtype=torch.complex64), 2.5, "a")) == "(tensor (2, 3) complex64, 2.5, 'a')"
    )
    assert explain.describe([torch.zeros(1)] * 6) == "[6 items: tensor (1,) float32, tensor (1,) float32, ...]"

    def maker(g):
        return check.case(torch.randn(2, 16, 8, 12, generator=g), 2, 2, 32, name="down block 1")

    by_maker = check.verdict(lambda x, sf, st, c: x, dcae.space_to_channel, maker, trials=1)
    assert by_maker.message.splitlines()[1].startswith(
        "  input 1 (down block 1: tensor (2, 16, 8, 12) float32, 2, 2, 32): "
    )
    by_dict = check.verdict(lambda x: -x, torch.neg, {"zeros": (torch.zeros(2),), "ones": (torch.ones(2),)})
    assert by_dict and by_dict.message == "correct: <lambda> matches neg on 2 inputs (atol 1e-05, rtol 0.0001)"
    one = check.verdict(lambda x: -x, torch.neg, {"ones": (torch.ones(2),)})
    assert one.message == "correct: <lambda> matches neg on 1 input (atol 1e-05, rtol 0.0001)"
    wrong_dict = check.verdict(lambda x: x, torch.neg, {"zeros": (torch.zeros(2),), "ones": (torch.ones(2),)})
    assert wrong_dict.message.splitlines() == [
        "wrong: <lambda>, 1 of 2 inputs right",
        "  input 2 (ones: tensor (2,) float32): output differs at 2 of 2 elements; the largest: element (0,) is 1, "
        "expected -1 (difference 2); it is the expected output with its sign flipped",
    ]


def test_complex_outputs_are_reported_as_complex_with_an_index_into_the_tensor_itself():
    z = lambda g: (torch.polar(torch.ones(2, 3, 4), torch.rand(2, 3, 4, generator=g) * 6.28),)  # noqa: E731
    assert check.verdict(lambda x: x.clone(), lambda x: x, z)

    def one_element_off(x):
        y = x.clone()
        y[1, 2, 3] = 1.2 + 0.5j
        return y

    wrong = check.verdict(one_element_off, lambda x: x, [(torch.full((2, 3, 4), 0.3 - 0.1j),)])
    assert wrong.message.splitlines()[1] == (
        "  input 1 (tensor (2, 3, 4) complex64): output differs at 1 of 24 elements; the largest: "
        "element (1, 2, 3) is 1.2+0.5j, expected 0.3-0.1j (difference 1.08)"
    )  # |0.9 + 0.6j| = sqrt(0.81 + 0.36)
    conjugate = check.verdict(lambda x: x.conj(), lambda x: x, z)  # same real part, imaginary part flipped
    assert conjugate.message.splitlines()[1].endswith(
        "it is the complex conjugate of the expected output (every imaginary part's sign flipped)"
    )
    real = check.verdict(lambda x: x.real, lambda x: x, z)
    assert real.message.splitlines()[1].endswith("output dtype float32, expected complex64")


def test_an_error_in_the_students_code_is_their_line_and_message_never_the_checkers(capsys):
    def my_space_to_channel(x, sf, st, channels):
        h = rearrange(x, "b c (f sf) (t st) -> b (c sf st) f t", sf=sf, st=st)
        groups = h.shape[1] // channels
        return h.reshape(h.shape[0], channels, groups + 1, *h.shape[2:]).mean(2)  # one too many

    check.compare(my_space_to_channel, dcae.space_to_channel, space_to_channel_inputs)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "wrong: my_space_to_channel, 0 of 3 inputs right"
    assert lines[1] == (
        "  input 1 (tensor (2, 4, 8, 8) float32, 2, 2, 8): your code raised RuntimeError at line 4 of "
        "my_space_to_channel (`return h.reshape(h.shape[0], channels, groups + 1, *h.shape[2:]).mean(2)  # one too many`): "
        "shape '[2, 8, 3, 4, 4]' is invalid for input of size 512"
    )
    assert "check.py" not in "\n".join(lines)

    def helper(x):
        raise ValueError("x must be positive")

    def my_fn(x):
        return helper(x)

    said = check.verdict(my_fn, torch.neg, [(torch.ones(2),)]).message.splitlines()[1]
    assert said.endswith(
        'your code raised ValueError at line 2 of helper (`raise ValueError("x must be positive")`): x must be positive'
    )


def test_not_implemented_is_reported_not_raised():
    def todo(x):
        raise NotImplementedError("this is an exercise")

    assert check.verdict(todo, torch.neg, [(torch.ones(2),)]).message == (
        "not implemented yet: todo (write it where the cell says YOUR CODE HERE)"
    )


def vq(h, codebook, straight_through=True):
    """VQ's nearest code (B, C, F, T) and the codes in (b, f, t) order, with or without the straight-through estimator."""
    flat = rearrange(h, "b c f t -> (b f t) c")  # (N, C)
    codes = torch.cdist(flat, codebook).argmin(dim=1)  # (N,)
    q = rearrange(codebook[codes], "(b f t) c -> b c f t", b=h.shape[0], f=h.shape[2])  # (B, C, F, T)
    return (h + (q - h).detach() if straight_through else q), codes


def library_vq(h, codebook):
    from minidcae.models.bottleneck import VQBottleneck

    layer = VQBottleneck(codebook.shape[1], codebook.shape[0])
    with torch.no_grad():
        layer.codebook.weight.copy_(codebook)
    return layer(h)[0], layer.quantize(h)[1]


def vq_inputs(g):
    return torch.randn(2, 8, 4, 6, generator=g), torch.randn(16, 8, generator=g), torch.randn(2, 8, 4, 6, generator=g)


def test_a_missing_straight_through_estimator_reads_as_the_students_mistake():
    def my_vq(h, codebook):
        return vq(h, codebook, straight_through=False)

    def my_vq_st(h, codebook):
        return vq(h, codebook)

    reference = check.with_gradient(library_vq)
    assert check.verdict(check.with_gradient(my_vq_st), reference, vq_inputs, atol=1e-4, rtol=1e-4)
    lines = check.verdict(check.with_gradient(my_vq), reference, vq_inputs, atol=1e-4, rtol=1e-4).message.splitlines()
    assert lines[0] == "wrong: my_vq, 0 of 3 inputs right"
    assert lines[1] == (
        "  input 1 (tensor (2, 8, 4, 6) float32, tensor (16, 8) float32, tensor (2, 8, 4, 6) float32): "
        "no gradient reaches h from output[0]: it does not depend on h in a differentiable way"
    )
    # the gradient the check compares is the weight itself, as the straight-through estimator makes it
    h, codebook, w = vq_inputs(torch.Generator().manual_seed(0))
    assert torch.equal(reference(h, codebook, w)[2], w)


def test_permutations_say_which_axis_or_group_is_out_of_place():
    x = torch.randn(2, 64, 4, 12, generator=torch.Generator().manual_seed(1))
    patches_first = lambda x, sf, st, c: unshuffle_then_average(x, sf, st, c, order="sf st c")  # noqa: E731
    lines = check.verdict(patches_first, dcae.space_to_channel, [(x, 1, 2, 128)]).message.splitlines()
    assert lines[1].endswith(
        "along axis 1 (128 = 64 x 2) it holds the expected values in another order: "
        "read as a grid with a=64, b=2, the expected order is (a b), yours is (b a)"
    )
    transposed = lambda x, sf, st, c: dcae.space_to_channel(x, sf, st, c).transpose(2, 3)  # noqa: E731
    swapped = check.verdict(transposed, dcae.space_to_channel, [(x[:, :, :4, :8], 2, 2, 64)])
    assert swapped.message.splitlines()[1] == (
        "  input 1 (tensor (2, 64, 4, 8) float32, 2, 2, 64): output shape (2, 64, 4, 2), expected (2, 64, 2, 4); "
        "it is the expected output with axes 2 and 3 swapped"
    )
    w = torch.randn(3, 8, 5, generator=torch.Generator().manual_seed(2))  # (B, C, T)
    said = lambda got: explain.rearranged(got.double(), w.double(), 1e-6, 0.0)  # noqa: E731
    assert said(torch.cat([w[:, 4:], w[:, :4]], dim=1)) == (
        "along axis 1 its groups of 4 are the expected ones in another order: "
        "your group 0 is the expected group 1, your group 1 is the expected group 0"
    )
    assert said(w[:, [0, 2, 1, 3, 4, 5, 6, 7]]) == (
        "along axis 1 its entries are the expected ones in another order (2 of 8 moved): "
        "your 1 is the expected 2, your 2 is the expected 1"
    )
    assert said(w.flip(2)) == "it is the expected output reversed along axis 2"
    assert said(w.permute(2, 1, 0)) == "it is the expected output with axes 0 and 2 swapped"
    assert said(w.permute(1, 2, 0)) == "it is the expected output with its axes in the order (1, 2, 0)"
    assert said(2.5 * w) == "it is the expected output times 2.5"
    assert said(w.reshape(3, 40)) == "it holds the expected values in the expected order, in another shape"
    assert said(w + 1) is None  # no pattern: nothing is said


def test_hints_come_one_at_a_time_and_the_wrong_line_says_where_they_are(monkeypatch, capsys):
    monkeypatch.setitem(HINTS, "my_double", ("think of addition", "x + x is one way", "or a product"))
    monkeypatch.setattr(check, "_given", {})
    result = check.verdict(lambda x: x, lambda x: 2 * x, [(torch.ones(1),)], name="my_double")
    assert result.message.splitlines()[-1] == '  stuck? check.hint("my_double") gives the next hint (of 3)'
    for _ in range(4):
        check.hint("my_double")
    check.hint("my_double", level=1)
    check.hint("nothing here")
    assert capsys.readouterr().out.splitlines() == [
        "hint 1 of 3 for my_double: think of addition",
        "hint 2 of 3 for my_double: x + x is one way",
        "hint 3 of 3 for my_double: or a product (the last hint: the rest is yours)",
        "hint 3 of 3 for my_double: or a product (the last hint: the rest is yours)",
        "hint 1 of 3 for my_double: think of addition",
        "no hints for 'nothing here'; exercises with hints: " + ", ".join(sorted(HINTS)),
    ]
    with pytest.raises(MinidcaeError, match="level=4: my_double has hints 1 to 3"):
        check.hint("my_double", level=4)
    with check.exercise("my_double"):
        raise NotImplementedError
    assert capsys.readouterr().out.splitlines() == [
        "not implemented yet: my_double (write it where the cell says YOUR CODE HERE)",
        '  stuck? check.hint("my_double") gives the next hint (of 3)',
    ]


def test_every_exercise_in_the_hint_table_has_two_or_three_hints():
    for name, hints in HINTS.items():
        assert 2 <= len(hints) <= 3 and all(isinstance(h, str) and len(h) > 20 for h in hints), name


def test_reveal_shows_the_library_source_only_once_the_answer_is_right(capsys):
    source = repr(viz.show_source(dcae.space_to_channel))
    check.compare(unshuffle_then_average, dcae.space_to_channel, space_to_channel_inputs, reveal=True)
    assert capsys.readouterr().out == (
        "correct: unshuffle_then_average matches minidcae.models.dcae.space_to_channel on 3 random inputs "
        "(atol 1e-05, rtol 0.0001)\n" + source + "\n"
    )
    wrong_groups = lambda x, sf, st, c: unshuffle_then_average(x, sf, st, c, groups="g o")  # noqa: E731
    check.compare(wrong_groups, dcae.space_to_channel, space_to_channel_inputs, reveal=True)
    out = capsys.readouterr().out
    assert "def space_to_channel" not in out
    assert out.splitlines()[-1] == "  the library's version is shown here once yours is right"
    check.compare(check.with_gradient(vq), check.with_gradient(library_vq), vq_inputs, reveal=(dcae.match_channels,))
    assert capsys.readouterr().out.endswith(repr(viz.show_source(dcae.match_channels)) + "\n")
    with pytest.raises(
        MinidcaeError, match="reveal=True shows the reference's source, and library_vq is not the library's"
    ):
        check.compare(vq, library_vq, vq_inputs, reveal=True)


def test_reveal_in_a_cell_of_its_own_waits_for_the_exercise(monkeypatch, capsys):
    monkeypatch.setattr(check, "_passed", set())
    check.reveal(dcae.space_to_channel, after="unshuffle_then_average")
    assert capsys.readouterr().out == (
        "the library's version is shown here once unshuffle_then_average is right (run its check above)\n"
    )
    assert check.verdict(unshuffle_then_average, dcae.space_to_channel, space_to_channel_inputs)
    check.reveal(dcae.space_to_channel, after="unshuffle_then_average")
    assert capsys.readouterr().out == repr(viz.show_source(dcae.space_to_channel)) + "\n"


def test_both_functions_get_the_same_inputs_and_cannot_change_each_others():
    def reference_that_mutates(x):  # runs first; were the inputs shared, the student would see x + 1
        return x.add_(1)

    assert check.verdict(lambda x: x + 1, reference_that_mutates, lambda g: (torch.randn(3, generator=g),))
    shared = (torch.zeros(3),)  # what sharing would do: the second call sees the first call's change
    assert reference_that_mutates(*shared).tolist() == [1, 1, 1] and (shared[0] + 1).tolist() == [2, 2, 2]


def test_an_open_exercise_says_not_implemented_and_goes_on(capsys):
    with check.exercise("the guidance sweep"):
        raise NotImplementedError
    assert (
        capsys.readouterr().out
        == "not implemented yet: the guidance sweep (write it where the cell says YOUR CODE HERE)\n"
    )


def test_show_source_is_the_library_source_with_its_path():
    shown = viz.show_source(dcae.space_to_channel)
    assert (
        repr(shown)
        == "# minidcae/models/dcae.py: space_to_channel\n" + inspect.getsource(dcae.space_to_channel).rstrip()
    )
    assert "```python" in shown._repr_markdown_()


def test_show_source_of_a_cached_function_shows_the_function():
    shown = repr(viz.show_source(audio.mel_filterbank))  # wrapped by functools.lru_cache
    assert shown.startswith("# minidcae/sound/audio.py: mel_filterbank\n@lru_cache")
    assert "def mel_filterbank(" in shown
