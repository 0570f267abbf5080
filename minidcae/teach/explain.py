"""What the checker says, in words: an input named by what it is (a front end by the preset it
equals, a tensor by its shape and dtype), how a wrong output differs from the right one (its
shape, how many elements, the largest difference, complex values as complex, and where it can be
found, the axes or the group of channels that are out of place), and where the student's own
code raised an error. `check` speaks through it; taught with every notebook's exercises, from 00 on.
"""

from __future__ import annotations

import dataclasses
import itertools
import linecache
import sys
from pathlib import Path

import torch

from minidcae.core import config

LIBRARY = Path(__file__).resolve().parents[1]  # minidcae/: its frames are never the student's


def describe(x) -> str:
    """A short, machine-independent description of an argument: a tensor by its shape and dtype, a
    config by the preset it equals (or is nearest to), a tuple by its items."""
    if torch.is_tensor(x):
        return f"tensor {tuple(x.shape)} {str(x.dtype).removeprefix('torch.')}"
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return describe_config(x)
    if isinstance(x, (tuple, list)):
        items = [describe(v) for v in x]
        if len(items) > 4:  # a long list: its length and its first items
            items = [f"{len(x)} items: {items[0]}", items[1], "..."]
        inner = ", ".join(items)
        return f"({inner})" if isinstance(x, tuple) else f"[{inner}]"
    if isinstance(x, float):
        return f"{x:g}"
    if isinstance(x, (int, str, bool)) or x is None:
        return repr(x)
    return type(x).__name__


def describe_config(x) -> str:
    """'front end ACE_STEP_MEL with 128 mels'; a config equal to no preset by its nearest one and what
    differs: 'front end DEFAULT_MEL with n_mels=32, f_min=50, f_max=8000'."""
    is_mel = isinstance(x, config.MelConfig)
    word = "front end" if is_mel else type(x).__name__
    presets = {k: v for k, v in vars(config).items() if k.isupper() and type(v) is type(x)}
    changed = {
        k: [f.name for f in dataclasses.fields(x) if getattr(x, f.name) != getattr(v, f.name)]
        for k, v in presets.items()
    }
    if not presets:
        return word
    nearest = min(changed, key=lambda k: len(changed[k]))  # the first preset on a tie
    diffs = changed[nearest]
    tail = f" with {x.n_mels} mels" if is_mel and "n_mels" not in diffs else ""
    if not diffs:
        return f"{word} {nearest}{tail}"
    return f"{word} {nearest} with " + ", ".join(f"{k}={describe(getattr(x, k))}" for k in diffs) + tail


def _number(v) -> str:
    """1.234 or 1.2+0.5j: a complex element as complex, never as its real part or a pair."""
    if isinstance(v, complex):
        return f"{v.real:.4g}{v.imag:+.4g}j"
    return f"{v:.4g}"


def _item(t: torch.Tensor, i: int):
    v = t.flatten()[i]
    return complex(v) if t.is_complex() else float(v)


def _close(got: torch.Tensor, want: torch.Tensor, atol: float, rtol: float) -> bool:
    """|got - want| <= atol + rtol |want| everywhere (the modulus for complex values), as torch.allclose."""
    return got.shape == want.shape and bool(((got - want).abs() <= atol + rtol * want.abs()).all())


def difference(got, want, atol: float, rtol: float, where: str = "output") -> str | None:
    """None when `got` matches `want`; otherwise what differs, in words."""
    if torch.is_tensor(want):
        return _tensor_difference(got, want, atol, rtol, where)
    if isinstance(want, dict):
        if not isinstance(got, dict) or set(got) != set(want):
            return f"{where} is {describe(got)}, expected a dict with keys {sorted(want)}"
        return next((d for k in want if (d := difference(got[k], want[k], atol, rtol, f"{where}[{k!r}]"))), None)
    if isinstance(want, (tuple, list)):
        if not isinstance(got, (tuple, list)) or len(got) != len(want):
            return f"{where} is {describe(got)}, expected {len(want)} items: {describe(want)}"
        pairs = enumerate(zip(got, want))
        return next((d for k, (a, b) in pairs if (d := difference(a, b, atol, rtol, f"{where}[{k}]"))), None)
    if isinstance(want, (int, float)) and not isinstance(want, bool):
        if torch.is_tensor(got) and got.numel() == 1:
            got = got.item()
        if not isinstance(got, (int, float)):
            return f"{where} is {describe(got)}, expected the number {want:g}"
        if abs(got - want) > atol + rtol * abs(want):
            return f"{where} is {got:.6g}, expected {want:.6g} (difference {abs(got - want):.3g})"
        return None
    return None if got == want else f"{where} is {got!r}, expected {want!r}"


def _tensor_difference(got, want: torch.Tensor, atol: float, rtol: float, where: str) -> str | None:
    if not torch.is_tensor(got):
        return f"{where} is {describe(got)}, expected a tensor of shape {tuple(want.shape)}"
    got, want = got.detach().cpu().resolve_conj(), want.detach().cpu().resolve_conj()
    kind = lambda t: "complex" if t.is_complex() else "float" if t.dtype.is_floating_point else "integer"  # noqa: E731
    if kind(got) != kind(want) and want.dtype != torch.bool:
        return f"{where} dtype {got.dtype}, expected {want.dtype}".replace("torch.", "")
    # complex values stay complex (|a - b| is the modulus); real ones go to float64
    g, w = (t.to(torch.complex128) if t.is_complex() else t.double() for t in (got, want))
    if g.shape != w.shape:
        pattern = rearranged(g, w, atol, rtol)
        return f"{where} shape {tuple(g.shape)}, expected {tuple(w.shape)}" + (f"; {pattern}" if pattern else "")
    if torch.isnan(g).any() and not torch.isnan(w).any():
        i = int(torch.isnan(g).flatten().nonzero()[0])
        return f"{where} holds NaN (first at element {_index(i, w.shape)})"
    # |got - want| <= atol + rtol |want|, as torch.allclose
    excess = torch.nan_to_num((g - w).abs() - (atol + rtol * w.abs()), nan=-1.0)
    bad = int((excess > 0).sum())
    if not bad:
        return None
    i = int(excess.flatten().argmax())
    a, b = _item(g, i), _item(w, i)
    if w.dim() == 0:
        said = f"{where} is {_number(a)}, expected {_number(b)} (difference {abs(a - b):.3g})"
    else:
        said = (
            f"{where} differs at {bad} of {w.numel()} elements; the largest: element {_index(i, w.shape)} "
            f"is {_number(a)}, expected {_number(b)} (difference {abs(a - b):.3g})"
        )
    pattern = rearranged(g, w, atol, rtol)
    return said + (f"; {pattern}" if pattern else "")


def _index(i: int, shape) -> tuple:
    return tuple(int(k) for k in torch.unravel_index(torch.tensor(i), tuple(shape))) if len(shape) else ()


def rearranged(g: torch.Tensor, w: torch.Tensor, atol: float, rtol: float) -> str | None:
    """When the output is the right one rearranged (axes swapped, an axis reversed, entries or
    channel groups in another order, the sign flipped, a constant factor off, the complex
    conjugate), say how; None when no such pattern is found."""
    if g.numel() != w.numel() or w.numel() < 2 or w.numel() > 2**20:
        return None
    close = lambda a: _close(g, a, atol, rtol)  # noqa: E731
    for perm in itertools.permutations(range(w.dim())) if w.dim() <= 6 else ():
        if list(perm) != sorted(perm) and w.permute(perm).shape == g.shape and close(w.permute(perm)):
            moved = [k for k in range(w.dim()) if perm[k] != k]
            if len(moved) == 2:
                return f"it is the expected output with axes {moved[0]} and {moved[1]} swapped"
            return f"it is the expected output with its axes in the order {perm}"
    if g.shape != w.shape:
        return (
            "it holds the expected values in the expected order, in another shape"
            if close(w.reshape(g.shape))
            else None
        )
    if w.is_complex() and close(w.conj()):
        return "it is the complex conjugate of the expected output (every imaginary part's sign flipped)"
    scale = (g * w.conj()).sum() / (w.abs() ** 2).sum().clamp(min=1e-300)
    scale = complex(scale).real if w.is_complex() else float(scale)
    if abs(scale - 1) > 1e-3 and close(scale * w):
        return (
            "it is the expected output with its sign flipped"
            if abs(scale + 1) < 1e-3
            else f"it is the expected output times {scale:.4g}"
        )
    for d in range(w.dim()):
        if w.shape[d] > 1 and close(w.flip(d)):
            return f"it is the expected output reversed along axis {d}"
    for d in range(w.dim()):
        said = _factors_reordered(g, w, d, close) or _entries_reordered(g, w, d, atol, rtol)
        if said:
            return said
    return None


def _factorizations(n: int, k: int) -> list[tuple[int, ...]]:
    """Every ordered way to write n as k factors, each above 1."""
    if k == 1:
        return [(n,)] if n > 1 else []
    return [(f, *rest) for f in range(2, n // 2 + 1) if n % f == 0 for rest in _factorizations(n // f, k - 1)]


def _factors_reordered(g, w, d: int, close) -> str | None:
    """Axis d read as a grid (a b) or (a b c), its factors in another order: pixel_unshuffle's
    channels in the wrong order, codes flattened (b t f) where (b f t) is asked, ..."""
    n = w.shape[d]
    if n > 4096:
        return None
    for k in (2, 3):
        for factors in _factorizations(n, k):
            for order in itertools.permutations(range(k)):
                if order == tuple(range(k)):
                    continue
                p = torch.arange(n).reshape(factors).permute(order).flatten()  # yours[j] = expected[p[j]]
                if close(w.index_select(d, p)):
                    names = "abc"[:k]
                    sizes = ", ".join(f"{names[i]}={factors[i]}" for i in range(k))
                    yours = " ".join(names[i] for i in order)
                    return (
                        f"along axis {d} ({n} = {' x '.join(map(str, factors))}) it holds the expected values in another "
                        f"order: read as a grid with {sizes}, the expected order is ({' '.join(names)}), yours is ({yours})"
                    )
    return None


def _entries_reordered(g, w, d: int, atol: float, rtol: float) -> str | None:
    """Axis d's entries (or groups of them) are the expected ones, each at another place."""
    n = w.shape[d]
    if not 2 <= n <= 1024:
        return None
    rows = lambda t: (
        torch.view_as_real(t.movedim(d, 0).reshape(n, -1)).reshape(n, -1)
        if t.is_complex()
        else t.movedim(d, 0).reshape(n, -1)
    )  # noqa: E731
    gr, wr = rows(g), rows(w)
    tol = atol + rtol * float(wr.abs().max())
    apart = torch.cdist(wr, wr, p=float("inf")) + torch.eye(n) * 1e300
    if float(apart.min()) <= 2 * tol:  # two expected entries alike: a match would be ambiguous
        return None
    dist = torch.cdist(gr, wr, p=float("inf"))  # (n, n)
    match = dist.argmin(dim=1)
    if float(dist.min(dim=1).values.max()) > tol or len(set(match.tolist())) != n:
        return None
    for size in sorted((s for s in range(n // 2, 1, -1) if n % s == 0), reverse=True):  # whole groups moved?
        blocks = match.reshape(n // size, size)
        if (blocks == blocks[:, :1] + torch.arange(size)).all() and (blocks[:, 0] % size == 0).all():
            order = (blocks[:, 0] // size).tolist()
            moved = [(i, j) for i, j in enumerate(order) if i != j]
            said = ", ".join(f"your group {i} is the expected group {j}" for i, j in moved[:3])
            return f"along axis {d} its groups of {size} are the expected ones in another order: {said}" + (
                " ..." if len(moved) > 3 else ""
            )
    moved = [(i, j) for i, j in enumerate(match.tolist()) if i != j]
    said = ", ".join(f"your {i} is the expected {j}" for i, j in moved[:3])
    return f"along axis {d} its entries are the expected ones in another order ({len(moved)} of {n} moved): {said}" + (
        " ..." if len(moved) > 3 else ""
    )


def _is_students(filename: str) -> bool:
    """A frame of the student's code: not the library, not an installed package, not Python's own."""
    if filename.startswith("<frozen") or "site-packages" in filename or "dist-packages" in filename:
        return False
    path = Path(filename).resolve() if not filename.startswith("<") else None
    if path is None:
        return True  # code compiled from a string, such as a notebook cell run by exec
    prefixes = {Path(p).resolve() for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    return not path.is_relative_to(LIBRARY) and not any(path.is_relative_to(p) for p in prefixes)


def raised(error: BaseException) -> str:
    """'your code raised ValueError at line 4 of my_fn (`the line`): the message', from the
    deepest frame of the student's own code, never the checker's."""
    frame, line, tb = None, 0, error.__traceback__
    while tb is not None:
        if _is_students(tb.tb_frame.f_code.co_filename):
            frame, line = tb.tb_frame, tb.tb_lineno
        tb = tb.tb_next
    message = " ".join(str(error).split())
    message = message if len(message) <= 300 else message[:297] + "..."
    kind = type(error).__name__
    if frame is None:
        return f"your code raised {kind}: {message}"
    code = frame.f_code
    text = linecache.getline(code.co_filename, line, frame.f_globals).strip()
    shown = f" (`{text}`)" if text else ""
    return f"your code raised {kind} at line {line - code.co_firstlineno + 1} of {code.co_name}{shown}: {message}"
