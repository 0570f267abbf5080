"""The course's checker: a student's function beside the library's, one line of verdict."""

import torch

from minidcae.models import dcae
from minidcae.teach import check, viz


def space_to_channel_inputs(g):
    return torch.randn(2, 4, 8, 8, generator=g), 2, 2, 8


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
    assert not result
    assert "input 1 (tensor (2, 4, 8, 8), 2, 2, 8)" in result.message
    assert "output shape (2, 4, 8, 8), expected (2, 8, 4, 4)" in result.message


def test_a_wrong_value_says_where_and_by_how_much():
    def off_by_one_cell(x, sf, st, c):
        y = dcae.space_to_channel(x, sf, st, c).clone()
        y[1, 3, 2, 0] += 0.5
        return y

    result = check.verdict(off_by_one_cell, dcae.space_to_channel, space_to_channel_inputs)
    assert not result
    assert "max abs difference 0.5 at index (1, 3, 2, 0)" in result.message


def test_within_tolerance_passes_and_outside_fails():
    ref = lambda x: x * 2  # noqa: E731
    inputs = [(torch.ones(3),)]
    assert check.verdict(lambda x: x * 2 + 1e-6, ref, inputs, atol=1e-5)
    assert not check.verdict(lambda x: x * 2 + 1e-3, ref, inputs, atol=1e-5, rtol=0)


def test_tuples_numbers_and_lengths_are_compared_item_by_item():
    ref = lambda x: (x.sum(), float(x.mean()))  # noqa: E731
    inputs = [(torch.arange(4.0),)]
    assert check.verdict(ref, ref, inputs)
    wrong = check.verdict(lambda x: (x.sum(), 0.0), ref, inputs)
    assert "output[1] is 0, expected 1.5" in wrong.message
    short = check.verdict(lambda x: (x.sum(),), ref, inputs)
    assert "expected 2 items" in short.message


def test_not_implemented_and_errors_are_reported_not_raised():
    def todo(x):
        raise NotImplementedError("this is an exercise")

    assert check.verdict(todo, torch.neg, [(torch.ones(2),)]).message.startswith("not implemented yet: todo")
    broken = check.verdict(lambda x: x @ x.T @ torch.ones(5), torch.neg, [(torch.ones(2, 3),)])
    assert broken.message.startswith("wrong: ") and "raised RuntimeError" in broken.message


def test_both_functions_get_the_same_inputs_and_cannot_change_each_others():
    def reference_that_mutates(x):  # runs first; were the inputs shared, the student would see x + 1
        return x.add_(1)

    assert check.verdict(lambda x: x + 1, reference_that_mutates, lambda g: (torch.randn(3, generator=g),))
    shared = (torch.zeros(3),)  # what sharing would do: the second call sees the first call's change
    assert reference_that_mutates(*shared).tolist() == [1, 1, 1] and (shared[0] + 1).tolist() == [2, 2, 2]


def test_an_open_exercise_says_not_implemented_and_goes_on(capsys):
    with check.exercise("the guidance sweep"):
        raise NotImplementedError
    assert capsys.readouterr().out.startswith("not implemented yet: the guidance sweep")


def test_show_source_is_the_library_source_with_its_path():
    import inspect

    shown = viz.show_source(dcae.space_to_channel)
    assert (
        repr(shown)
        == "# minidcae/models/dcae.py: space_to_channel\n" + inspect.getsource(dcae.space_to_channel).rstrip()
    )
    assert "```python" in shown._repr_markdown_()


def test_complex_outputs_are_compared_in_both_parts():
    z = lambda g: (torch.polar(torch.ones(3, 4), torch.rand(3, 4, generator=g) * 6.28),)
    assert check.verdict(lambda x: x.clone(), lambda x: x, z)
    conjugate = check.verdict(lambda x: x.conj(), lambda x: x, z)  # same real part, imaginary part flipped
    assert not conjugate and "values differ" in conjugate.message
    real = check.verdict(lambda x: x.real, lambda x: x, z)
    assert not real and "expected complex64" in real.message


def test_show_source_of_a_cached_function_shows_the_function():
    from minidcae.sound import audio

    shown = repr(viz.show_source(audio.mel_filterbank))  # wrapped by functools.lru_cache
    assert shown.startswith("# minidcae/sound/audio.py: mel_filterbank\n@lru_cache")
    assert "def mel_filterbank(" in shown
