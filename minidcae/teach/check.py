"""Check yourself: run your version of a piece beside the library's, say input by input what is
off, and show the library's own code once yours is right. Taught in every notebook's exercises.

    def my_space_to_channel(x, sf, st, channels):
        ...                                     # the student's code
    check.compare(my_space_to_channel, dcae.space_to_channel,
                  {"down block 1": (torch.randn(2, 16, 8, 12), 2, 2, 32),
                   "down block 3": (torch.randn(2, 64, 4, 12), 1, 2, 128)},
                  reveal=True)

prints, when it is right, one line and below it the library's source (`reveal=True`):

    correct: my_space_to_channel matches minidcae.models.dcae.space_to_channel on 2 inputs (atol 1e-05, rtol 0.0001)
    # minidcae/models/dcae.py: space_to_channel
    def space_to_channel(x: torch.Tensor, sf: int, st: int, channels: int) -> torch.Tensor: ...

and otherwise how many inputs are right and a line for each wrong one (patch order (sf st c) here):

    wrong: my_space_to_channel, 0 of 2 inputs right
      input 1 (down block 1: tensor (2, 16, 8, 12) float32, 2, 2, 32): output differs at 1536 of 1536 elements; the largest: element (0, 6, 2, 5) is 2.335, expected -2.209 (difference 4.54)
      input 2 (down block 3: tensor (2, 64, 4, 12) float32, 1, 2, 128): output differs at 6048 of 6144 elements; the largest: element (1, 50, 0, 0) is 2.978, expected -2.656 (difference 5.63); along axis 1 (128 = 64 x 2) it holds the expected values in another order: read as a grid with a=64, b=2, the expected order is (a b), yours is (b a)
      stuck? check.hint("my_space_to_channel") gives the next hint (of 3); the library's version is shown here once yours is right

    not implemented yet: my_space_to_channel (write it where the cell says YOUR CODE HERE)

A wrong line says (minidcae.teach.explain): a shape or dtype; how many elements differ and the
largest difference, complex values as complex (`element (0, 297, 4) is -0.0001938+1j, expected
-0.0001937-1j`); a pattern where one is found (two axes swapped, an axis reversed, entries, channel
groups or a grid's factors in another order, the sign flipped, a constant factor, the complex
conjugate); an error in the student's code as their line (`your code raised EinopsError at line 2 of
my_space_to_channel (`h = rearrange(...)`): ...`), never the checker's traceback.

- `inputs`: a function of a torch.Generator returning one input (an argument tuple), called
  `trials` times (seeds seed, seed + 1, ...); a list of inputs; or a dict {name: input}. An input
  maker names its input with `check.case(*args, name="...")`. Unnamed, a front end is named by the
  preset it equals (`front end ACE_STEP_MEL with 128 mels`), a tensor by its shape and dtype.
- `reveal=True` shows the reference's source (it must be the library's); or name what to show,
  `reveal=(VQBottleneck.quantize,)`. Shown only once the student's version is right: the
  instructor copy holds the solution, so the source sits below its verdict; a student copy
  (outputs cleared) shows it when the student gets there. `reveal(*objs, after="my_x")` does the
  same in a cell of its own.
- `hint("my_space_to_channel")` prints the next of that exercise's two or three hints, kept in
  minidcae/teach/hints.py, never on the page; the last is not the answer.
- `with_gradient(fn)` compares a gradient too (the input's last argument weights the output); a
  missing straight-through path reads as the student's mistake, naming the argument.
- `exercise(name)` wraps an open exercise so that a student copy runs on when it is not done yet.

Both functions get the same inputs (each its own copy), drawn from a seeded generator, so the line
is the same on every machine when the answer is right.
"""

from __future__ import annotations

import copy
import functools
import inspect
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from minidcae.core.errors import MinidcaeError
from minidcae.teach import viz
from minidcae.teach.explain import describe, difference, raised
from minidcae.teach.hints import HINTS

NOT_IMPLEMENTED = "not implemented yet"
_given: dict[str, int] = {}  # exercise name -> how many of its hints were printed
_passed: set[str] = set()  # the exercises checked right in this session (for `reveal(..., after=)`)


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    message: str
    right: int = 0  # inputs the student's function got right
    total: int = 0  # inputs tried

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Case:
    """One input: the argument tuple, and a name the checker's lines give it."""

    args: tuple
    name: str = ""


def case(*args, name: str) -> Case:
    """`check.case(x, 2, 2, 32, name="down block 1")`: an input maker's named input."""
    return Case(args, name)


class Mistake(Exception):
    """Raised by the checker's helpers when a student's output cannot be used as asked: reported as
    the student's mistake, in its own words."""


def _name(fn) -> str:
    module = getattr(fn, "__module__", None) or ""
    if module.startswith("minidcae"):
        return f"{module}.{fn.__qualname__}"
    return getattr(fn, "__name__", None) or type(fn).__name__


def _cases(inputs, trials: int, seed: int) -> list[Case]:
    def one(c, name=""):
        return c if isinstance(c, Case) else Case(c if isinstance(c, tuple) else (c,), name)

    if isinstance(inputs, dict):
        return [one(c, str(name)) for name, c in inputs.items()]
    if callable(inputs):
        return [one(inputs(torch.Generator().manual_seed(seed + k))) for k in range(trials)]
    return [one(c) for c in inputs]


def _label(c: Case) -> str:
    inner = describe(c.args)[1:-1]  # the tuple's items, without its parentheses
    return f"{c.name}: {inner}" if c.name else inner


def _stuck(name: str, reveal: bool) -> list[str]:
    """The line under a wrong or missing answer: where a hint is, and that the library comes after."""
    parts = [f'stuck? check.hint("{name}") gives the next hint (of {len(HINTS[name])})'] if name in HINTS else []
    if reveal:
        parts.append("the library's version is shown here once yours is right")
    return ["  " + "; ".join(parts)] if parts else []


def _not_done(name: str, reveal: bool) -> str:
    return "\n".join(
        [f"{NOT_IMPLEMENTED}: {name} (write it where the cell says YOUR CODE HERE)", *_stuck(name, reveal)]
    )


def verdict(
    student_fn: Callable,
    reference_fn: Callable,
    inputs: Callable | Sequence | dict,
    trials: int = 3,
    seed: int = 0,
    atol: float = 1e-5,
    rtol: float = 1e-4,
    name: str | None = None,
    reveal: bool = False,
) -> CheckResult:
    """Run both functions on the same inputs and compare their outputs, every input.

    Outputs may be tensors, numbers, or tuples, lists and dicts of them; they match when
    |got - expected| <= atol + rtol |expected| everywhere (the modulus for complex values).
    `reveal` only adds the line that says the library's version comes once the answer is right.
    """
    name = name or _name(student_fn)
    reference = _name(reference_fn)
    cases = _cases(inputs, trials, seed)
    wrong = []  # (input number, case, what is off)
    for k, c in enumerate(cases, start=1):
        want = reference_fn(*copy.deepcopy(c.args))
        try:
            got = student_fn(*copy.deepcopy(c.args))
        except NotImplementedError:
            return CheckResult(False, _not_done(name, reveal), 0, len(cases))
        except Mistake as e:
            off = str(e)
        except Exception as e:  # the student's code failed: their line and message
            off = raised(e)
        else:
            off = difference(got, want, atol, rtol)
        if off:
            wrong.append((k, c, off))
    right = len(cases) - len(wrong)
    if not wrong:
        _passed.add(name)
        kind = ("random " if callable(inputs) else "") + ("input" if len(cases) == 1 else "inputs")
        message = f"correct: {name} matches {reference} on {len(cases)} {kind} (atol {atol:g}, rtol {rtol:g})"
        return CheckResult(True, message, right, len(cases))
    lines = [f"wrong: {name}, {right} of {len(cases)} input{'s' if len(cases) != 1 else ''} right"]
    first = {}  # what is off -> the first input it was said of
    for k, c, off in wrong:
        said = f"the same as input {first[off]}" if off in first else off
        first.setdefault(off, k)
        lines.append(f"  input {k} ({_label(c)}): {said}")
    return CheckResult(False, "\n".join(lines + _stuck(name, reveal)), right, len(cases))


def _revealed(reveal, reference_fn) -> tuple:
    """The objects `reveal` asks to show: the reference's own function, or those given."""
    if reveal is False or reveal is None:
        return ()
    if reveal is True:
        target = inspect.unwrap(reference_fn)
        if not (getattr(target, "__module__", None) or "").startswith("minidcae"):
            raise MinidcaeError(
                f"reveal=True shows the reference's source, and {_name(target)} is not the library's: "
                "pass reveal=(the library's function or class, ...)"
            )
        return (target,)
    return tuple(reveal) if isinstance(reveal, (tuple, list)) else (reveal,)


def _show(objs) -> None:
    """The library's source as a cell output: highlighted in a notebook, plain text elsewhere."""
    source = viz.show_source(*objs)
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:  # the library runs without IPython
        get_ipython = None
    if get_ipython is not None and get_ipython() is not None:
        display(source)
    else:
        print(repr(source))


def compare(
    student_fn: Callable, reference_fn: Callable, inputs: Callable | Sequence | dict, reveal=False, **kw
) -> None:
    """`verdict`, printed (it returns nothing, so a cell may end with it); with `reveal`, the
    library's source below it once the student's version is right."""
    objs = _revealed(reveal, reference_fn)  # checked first: a wrong reveal is the notebook's mistake
    result = verdict(student_fn, reference_fn, inputs, reveal=bool(objs), **kw)
    print(result.message)
    if result and objs:
        _show(objs)


def reveal(*objs, after: str) -> None:
    """The library's source of `objs`, shown only once the exercise `after` (the student's
    function's name) was checked right in this session; a cell of its own below the exercise."""
    if after in _passed:
        _show(objs)
    else:
        print(f"the library's version is shown here once {after} is right (run its check above)")


def hint(name: str, level: int | None = None) -> None:
    """Print the next hint for exercise `name` (or hint number `level`): two or three, each a little
    nearer, the last never the answer. The table is minidcae/teach/hints.py."""
    hints = HINTS.get(name)
    if not hints:
        print(f"no hints for {name!r}; exercises with hints: {', '.join(sorted(HINTS))}")
        return
    if level is not None and not 1 <= level <= len(hints):
        raise MinidcaeError(f"level={level}: {name} has hints 1 to {len(hints)}")
    k = level or min(_given.get(name, 0) + 1, len(hints))
    _given[name] = max(_given.get(name, 0), k)
    last = " (the last hint: the rest is yours)" if k == len(hints) else ""
    print(f"hint {k} of {len(hints)} for {name}: {hints[k - 1]}{last}")


def with_gradient(fn: Callable, wrt: int = 0, out: int = 0) -> Callable:
    """fn, returning its outputs and also the gradient of sum(weight * output[out]) with respect to
    argument `wrt`; the weight is the wrapped function's last argument.

        check.compare(check.with_gradient(my_vq), check.with_gradient(library_vq), vq_inputs)

    where vq_inputs(g) returns (h, codebook, weight). An output with no gradient path back to that
    argument is reported as the student's mistake, naming the argument."""
    try:
        names = list(inspect.signature(inspect.unwrap(fn)).parameters)
    except (TypeError, ValueError):  # a builtin without a signature
        names = []
    arg = names[wrt] if wrt < len(names) else f"argument {wrt + 1}"

    @functools.wraps(fn)  # keeps fn's name for the checker's line
    def run(*args):
        *args, weight = args
        x = args[wrt] = args[wrt].detach().clone().requires_grad_(True)
        result = fn(*args)
        items = list(result) if isinstance(result, (tuple, list)) else [result]
        where = f"output[{out}]" if isinstance(result, (tuple, list)) else "the output"
        if out >= len(items) or not torch.is_tensor(items[out]):
            raise Mistake(f"the output is {describe(result)}; expected a tensor at {where}")
        y = items[out]
        if tuple(y.shape) != tuple(weight.shape):
            raise Mistake(f"{where} shape {tuple(y.shape)}, expected {tuple(weight.shape)}")
        cut = f"no gradient reaches {arg} from {where}: it does not depend on {arg} in a differentiable way"
        if not y.requires_grad:
            raise Mistake(cut)
        try:
            (grad,) = torch.autograd.grad((y * weight).sum(), x, allow_unused=True)
        except RuntimeError as e:
            raise Mistake(f"the gradient through {where} failed: {' '.join(str(e).split())}") from e
        if grad is None:
            raise Mistake(cut)
        return (*(i.detach() if torch.is_tensor(i) else i for i in items), grad)

    return run


@contextmanager
def exercise(name: str):
    """Wrap an open exercise's code: in a student copy that is not done yet, say so and go on.

    with check.exercise("guidance sweep"):
        ...   # the student's code
    """
    try:
        yield
    except NotImplementedError:
        print(_not_done(name, False))
