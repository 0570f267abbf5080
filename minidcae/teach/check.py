"""Check yourself: run your version of a piece beside the library's and say, in one line, what is
right or what is off. Taught in every notebook's exercises, from 00 on.

    def my_space_to_channel(x, sf, st, channels):
        ...                                     # the student's code
    check.compare(my_space_to_channel, dcae.space_to_channel,
                  lambda g: (torch.randn(2, 4, 8, 8, generator=g), 2, 2, 8))

prints one line, for example

    correct: my_space_to_channel matches minidcae.models.dcae.space_to_channel on 3 random inputs (atol 1e-05, rtol 0.0001)
    wrong: my_space_to_channel, input 1 (tensor (2, 4, 8, 8), 2, 2, 8): output shape (2, 8, 4, 4), expected (2, 8, 8, 4)
    not implemented yet: my_space_to_channel (write it where the cell says YOUR CODE HERE)

Both functions get the same inputs (each its own copy), drawn from a seeded generator, so the line
is the same on every machine when the answer is right. `exercise(name)` wraps an open exercise
(an experiment rather than a function) so that a student copy runs on when it is not done yet.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch

NOT_IMPLEMENTED = "not implemented yet"


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    message: str

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.message


def _name(fn) -> str:
    module = getattr(fn, "__module__", None) or ""
    if module.startswith("minidcae"):
        return f"{module}.{fn.__qualname__}"
    return getattr(fn, "__name__", None) or type(fn).__name__


def describe(x) -> str:
    """A short, machine-independent description of an argument: a tensor by its shape."""
    if torch.is_tensor(x):
        return f"tensor {tuple(x.shape)}" + ("" if x.dtype in (torch.float32,) else f" {x.dtype}".replace("torch.", ""))
    if isinstance(x, (tuple, list)):
        inner = ", ".join(describe(v) for v in x)
        return f"({inner})" if isinstance(x, tuple) else f"[{inner}]"
    if isinstance(x, float):
        return f"{x:g}"
    if isinstance(x, (int, str, bool)) or x is None:
        return repr(x)
    return type(x).__name__


def difference(got, want, atol: float, rtol: float, where: str = "output") -> str | None:
    """None when `got` matches `want`; otherwise what differs, in words."""
    if torch.is_tensor(want):
        if not torch.is_tensor(got):
            return f"{where} is {type(got).__name__}, expected a tensor of shape {tuple(want.shape)}"
        if tuple(got.shape) != tuple(want.shape):
            return f"{where} shape {tuple(got.shape)}, expected {tuple(want.shape)}"
        if want.dtype.is_floating_point != got.dtype.is_floating_point and want.dtype != torch.bool:
            return f"{where} dtype {got.dtype}, expected {want.dtype}".replace("torch.", "")
        if want.is_complex() != got.is_complex():
            return f"{where} dtype {got.dtype}, expected {want.dtype}".replace("torch.", "")
        if want.is_complex():  # compare real and imaginary parts, (..., 2), not the real part alone
            got, want = (
                torch.view_as_real(got.detach().resolve_conj()),
                torch.view_as_real(want.detach().resolve_conj()),
            )
        g, w = got.detach().double(), want.detach().double()
        if torch.isnan(g).any() and not torch.isnan(w).any():
            return f"{where} holds NaN"
        # |got - want| <= atol + rtol |want|, as torch.allclose
        err = (g - w).abs() - (atol + rtol * w.abs())
        err = torch.nan_to_num(err, nan=-1.0)
        if (err > 0).any():
            i = int(err.flatten().argmax())
            index = tuple(int(k) for k in torch.unravel_index(torch.tensor(i), w.shape)) if w.dim() else ()
            diff = float((g - w).abs().flatten()[i])
            return (
                f"{where} values differ: max abs difference {diff:.3g} at index {index} "
                f"(got {float(g.flatten()[i]):.4g}, expected {float(w.flatten()[i]):.4g})"
            )
        return None
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            return f"{where} is {describe(got)}, expected {len(want)} items: {describe(want)}"
        for k, (a, b) in enumerate(zip(got, want)):
            d = difference(a, b, atol, rtol, f"{where}[{k}]")
            if d:
                return d
        return None
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        if torch.is_tensor(got) and got.numel() == 1:
            got = got.item()
        if not isinstance(got, (int, float)):
            return f"{where} is {describe(got)}, expected the number {want:g}"
        if not math.isclose(got, want, rel_tol=rtol, abs_tol=atol):
            return f"{where} is {got:.6g}, expected {want:.6g} (difference {abs(got - want):.3g})"
        return None
    return None if got == want else f"{where} is {got!r}, expected {want!r}"


def verdict(
    student_fn: Callable,
    reference_fn: Callable,
    inputs: Callable | Sequence,
    trials: int = 3,
    seed: int = 0,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    name: str | None = None,
) -> CheckResult:
    """Run both functions on the same inputs and compare their outputs.

    inputs: a function of a torch.Generator returning the argument tuple (called `trials` times,
    seeds seed, seed + 1, ...), or a list of argument tuples. Outputs may be tensors, numbers, or
    tuples / lists of them; they match when |got - expected| <= atol + rtol |expected| everywhere.
    """
    name = name or _name(student_fn)
    reference = _name(reference_fn)
    if callable(inputs):
        cases = [inputs(torch.Generator().manual_seed(seed + k)) for k in range(trials)]
    else:
        cases = list(inputs)
    cases = [c if isinstance(c, tuple) else (c,) for c in cases]
    for k, args in enumerate(cases, start=1):
        want = reference_fn(*copy.deepcopy(args))
        try:
            got = student_fn(*copy.deepcopy(args))
        except NotImplementedError:
            return CheckResult(False, f"{NOT_IMPLEMENTED}: {name} (write it where the cell says YOUR CODE HERE)")
        except Exception as e:  # the student's code failed: say how, on which input
            return CheckResult(False, f"wrong: {name}, input {k} {describe(args)}: raised {type(e).__name__}: {e}")
        d = difference(got, want, atol, rtol)
        if d:
            return CheckResult(False, f"wrong: {name}, input {k} {describe(args)}: {d}")
    kind = "random inputs" if callable(inputs) else "inputs"
    return CheckResult(
        True, f"correct: {name} matches {reference} on {len(cases)} {kind} (atol {atol:g}, rtol {rtol:g})"
    )


def compare(student_fn: Callable, reference_fn: Callable, inputs: Callable | Sequence, **kw) -> None:
    """`verdict`, printed in one line (it returns nothing, so a cell may end with it)."""
    print(verdict(student_fn, reference_fn, inputs, **kw).message)


@contextmanager
def exercise(name: str):
    """Wrap an open exercise's code: in a student copy that is not done yet, say so and go on.

    with check.exercise("guidance sweep"):
        ...   # the student's code
    """
    try:
        yield
    except NotImplementedError:
        print(f"{NOT_IMPLEMENTED}: {name} (write it where the cell says YOUR CODE HERE)")
