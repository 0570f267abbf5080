"""Run notebooks without Jupyter: each notebook's code cells in order, in this process, through IPython's own
InteractiveShell, so magics, `!` commands, `IPython.display` and rich reprs work as in a kernel.

    python tools/run_notebooks.py [--profile gpu] [--cap-steps 40] [--wheels gpu_wheels] [--json OUT] NB.ipynb ...

It is how a GPU machine's own Python, which has torch, numpy and matplotlib but no Jupyter, IPython or
soundfile, runs notebooks 02, 03 and 07 (`make gpu-check`, tools/gpu_check.py); `make test` runs it the
same way here with those packages hidden (tests/test_run_notebooks.py).

- Missing packages come from a wheel folder (`make gpu-wheels` fills gpu_wheels/; carry it along): a wheel
  of Python files only goes on sys.path as its zip; one with compiled parts (soundfile, cffi) or other files
  its code opens by path (IPython's themes, pesto's weights) is installed with pip --no-index into a temp
  folder. A wheel whose modules this Python already has is left alone; nothing is stubbed.
- MINIDCAE_PROFILE is the chosen profile, and --cap-steps N caps every training in it at N steps.
- Each notebook starts from a fresh namespace in its own folder (notebooks open files relative to
  themselves); matplotlib draws on Agg, and `plt.show()` and the end of a cell close the figures, as
  Jupyter's inline backend does. A cell's printed and displayed output is kept in the result, not printed.
- One line per cell with its seconds; a notebook stops at its first failing cell, which is named by the
  number nbval gives it (code cells counted from 0) with the error's last line (the traceback goes to
  stderr); the next notebook still runs, and the exit status is 1 if any failed. Bad arguments: one line,
  exit status 2.

Other tools call `bring_wheels(folder)` once, then `run_notebook(path, profile, cap_steps)` per notebook.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import functools
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from dataclasses import fields, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WHEELS = ROOT / "gpu_wheels"
# where these came from goes into each result: the wheel folder, or this Python's own site-packages
REPORTED = ("IPython", "traitlets", "soundfile", "cffi", "einops", "tqdm", "mido", "pystoi", "pesto", "ipywidgets")
KEPT_CHARS = 4000  # of each cell's printed output, in the result


# ----------------------------------------------------------------------------- wheels


def wheel_modules(wheel: Path) -> set[str]:
    """The top-level modules a wheel installs: packages (foo/__init__.py) and modules (foo.py, foo.*.so)."""
    names = set()
    with zipfile.ZipFile(wheel) as z:
        for entry in z.namelist():
            first, _, rest = entry.partition("/")
            if first.endswith((".dist-info", ".data")):
                continue
            if rest == "__init__.py" or (not rest and first.endswith((".py", ".so"))):
                names.add(first.split(".")[0])
    return names


def python_only(wheel: Path) -> bool:
    """True for a wheel of Python files alone, which imports from its zip; compiled parts or any other
    file (data its code may open by path) mean it must be installed."""
    with zipfile.ZipFile(wheel) as z:
        files = [n for n in z.namelist() if not n.endswith("/") and ".dist-info/" not in n]
    return all(n.endswith((".py", ".pyi", "/py.typed")) for n in files)


def fits_this_python(wheel: Path) -> bool:
    try:  # matplotlib's dependency, so there wherever the notebooks run; else pip's copy
        from packaging.tags import sys_tags
        from packaging.utils import parse_wheel_filename
    except ImportError:
        from pip._vendor.packaging.tags import sys_tags
        from pip._vendor.packaging.utils import parse_wheel_filename

    return not parse_wheel_filename(wheel.name)[3].isdisjoint(sys_tags())


def install(wheels: list[Path], target: str) -> None:
    """pip install --no-index --no-deps --target; where this Python has no pip, the wheels are unpacked
    (a wheel's top level is what an install puts in site-packages)."""
    if importlib.util.find_spec("pip") is None:
        for wheel in wheels:
            zipfile.ZipFile(wheel).extractall(target)
        return
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-index", "--no-deps"]
    done = subprocess.run([*cmd, "--target", target, *map(str, wheels)], capture_output=True, text=True)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        print(f"run_notebooks: pip could not install {', '.join(w.name for w in wheels)}: {last}", file=sys.stderr)


def bring_wheels(folder: str | Path = WHEELS) -> list[str]:
    """Make the packages in `folder`'s wheels importable here, for those of them this Python lacks.

    Returns the entries put at the front of sys.path (zips, then the install folder, which is removed when
    this process ends): give them to a child Python on PYTHONPATH. Wheels built for another Python are
    skipped (gpu_wheels/ holds cffi for 3.11 and 3.12)."""
    folder = Path(folder).resolve()  # the notebooks run in their own folders
    wheels = [w for w in sorted(folder.glob("*.whl")) if fits_this_python(w)]
    missing = [w for w in wheels if any(importlib.util.find_spec(m) is None for m in wheel_modules(w))]
    zips = [w for w in missing if python_only(w)]
    installed = [w for w in missing if w not in zips]
    entries = [str(w) for w in zips]
    if installed:
        target = tempfile.mkdtemp(prefix="minidcae_wheels_")
        atexit.register(shutil.rmtree, target, ignore_errors=True)
        install(installed, target)
        entries.append(target)
    sys.path[:0] = entries
    importlib.invalidate_caches()
    if missing:
        name = lambda w: w.name.split("-")[0]  # noqa: E731
        print(
            f"wheels from {folder}: {', '.join(map(name, zips)) or 'none'} as zips; "
            f"{', '.join(map(name, installed)) or 'none'} installed",
            flush=True,
        )
    return entries


# ----------------------------------------------------------------------------- profile


def capped_profile(profile, cap: int, clips: int = 256):
    """The profile with every training at most `cap` steps (adversarial phases too) and at most `clips` clips."""
    from minidcae.core.config import GenerationConfig, TrainConfig

    changes = {}
    for f in fields(profile):
        value = getattr(profile, f.name)
        if isinstance(value, TrainConfig):
            changes[f.name] = replace(
                value,
                steps=min(value.steps, cap),
                adv_steps=min(value.adv_steps, cap),
                n_clips=min(value.n_clips, clips),
                checkpoint_every=min(value.checkpoint_every, cap),
            )
        elif isinstance(value, GenerationConfig):
            changes[f.name] = replace(value, n_clips=min(value.n_clips, clips))
    return replace(profile, demo_ae_steps=min(profile.demo_ae_steps, cap), **changes)


# ----------------------------------------------------------------------------- the shell


@functools.cache
def notebook_shell():
    """IPython's InteractiveShell, with what a notebook would show (display() calls, a cell's last value)
    recorded as MIME types in `shell.outputs` instead of printed. Made once per process."""
    try:
        from IPython.core.displayhook import DisplayHook
        from IPython.core.displaypub import DisplayPublisher
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets import Type
        from traitlets.config import Config
    except ImportError as err:
        raise ImportError(
            f"{err.msg}: IPython is needed to run notebooks; bring gpu_wheels/ (make gpu-wheels) or pip install ipython"
        ) from None

    class Publisher(DisplayPublisher):
        def publish(self, data, *args, **kwargs) -> None:
            self.shell.outputs.append(sorted(data))

        def clear_output(self, wait=False) -> None:
            pass

    class LastValue(DisplayHook):
        def write_output_prompt(self) -> None:
            pass

        def write_format_data(self, format_dict, md_dict=None) -> None:
            self.shell.outputs.append(sorted(format_dict))

    class NotebookShell(InteractiveShell):
        display_pub_class = Type(Publisher)
        displayhook_class = Type(LastValue)

    config = Config()
    config.HistoryManager.enabled = False  # no history database in the home folder
    config.InteractiveShell.colors = "nocolor"
    shell = NotebookShell.instance(config=config, ipython_dir=tempfile.mkdtemp(prefix="minidcae_ipython_"))
    shell.outputs = []
    return shell


def cell_sources(path: Path) -> list[str]:
    cells = json.loads(path.read_text())["cells"]
    return ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]


def error_lines(err: BaseException) -> tuple[str, str]:
    """(the error's last line, its traceback from the cell's own frame on)."""
    ipython = str(Path(sys.modules["IPython"].__file__).parent)
    tb = err.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(ipython):
        tb = tb.tb_next  # IPython's own frames around the cell
    last = traceback.format_exception_only(type(err), err)[-1].strip()
    return last, "".join(traceback.format_exception(type(err), err, tb))


class Figures:
    """plt.show() and the end of a cell close the open figures, which Jupyter's inline backend would show
    there; `count` is how many were shown since it was last set to 0."""

    def __init__(self, plt):
        self.plt, self.count = plt, 0

    def show(self, *args, **kwargs) -> None:
        self.count += len(self.plt.get_fignums())
        self.plt.close("all")


@contextlib.contextmanager
def notebook_setting(path: Path, profile: str, cap_steps: int | None):
    """The notebook's folder, MINIDCAE_PROFILE, the (capped) profile and Agg for the run; all put back after."""
    import matplotlib.pyplot as plt

    plt.switch_backend("Agg")  # now, so that pyplot does not resolve a backend later and re-sign plt.show
    from minidcae.core import profiles

    if profile not in profiles.PROFILES:
        raise ValueError(f"profile {profile!r} is not one of {', '.join(profiles.PROFILES)}")
    saved_env = {k: os.environ.get(k) for k in ("MINIDCAE_PROFILE", "TQDM_DISABLE", "MPLBACKEND")}
    saved = (os.getcwd(), plt.show, profiles.PROFILES[profile])
    os.environ.update(MINIDCAE_PROFILE=profile, MPLBACKEND="Agg", TQDM_DISABLE=os.environ.get("TQDM_DISABLE", "1"))
    if cap_steps is not None:
        profiles.PROFILES[profile] = capped_profile(profiles.PROFILES[profile], cap_steps)
    figures = Figures(plt)
    plt.show = lambda *args, **kwargs: figures.show()  # a function, as pyplot's own show is
    os.chdir(path.parent)
    try:
        yield figures
    finally:
        os.chdir(saved[0])
        plt.show, profiles.PROFILES[profile] = saved[1], saved[2]
        for key, value in saved_env.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def run_notebook(path: str | Path, profile: str = "gpu", cap_steps: int | None = None) -> dict:
    """Execute a notebook's code cells in order in this process (call bring_wheels first where packages
    are missing). Prints one line per cell; returns what happened:

    {"notebook", "profile", "cap_steps", "status": "passed" | "failed", "code_cells", "seconds",
     "cells": [{"cell", "seconds", "outputs": [[MIME types] per output], "figures", "stdout", "stderr"}],
     "failed_cell": None | n, "error": None | its last line, "traceback": None | text,
     "imported_from": {module: file}}"""
    path = Path(path).resolve()
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))  # this tree's library
    sources = cell_sources(path)
    shell = notebook_shell()
    shell.reset(new_session=True)
    result = {"notebook": str(path), "profile": profile, "cap_steps": cap_steps, "status": "passed"}
    result.update(code_cells=len(sources), cells=[], failed_cell=None, error=None, traceback=None)
    capped = f", training capped at {cap_steps} steps" if cap_steps is not None else ""
    print(f"{path.name} under {profile}{capped}:", flush=True)
    start = time.perf_counter()
    with notebook_setting(path, profile, cap_steps) as figures:
        for n, source in enumerate(sources):
            shell.outputs, figures.count = [], 0
            out, err = io.StringIO(), io.StringIO()
            began = time.perf_counter()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                ran = shell.run_cell(source, store_history=True)
                figures.show()  # what the cell left open
            seconds = time.perf_counter() - began
            result["cells"].append(
                {
                    "cell": n,
                    "seconds": round(seconds, 2),
                    "outputs": shell.outputs,
                    "figures": figures.count,
                    "stdout": out.getvalue()[-KEPT_CHARS:],
                    "stderr": err.getvalue()[-KEPT_CHARS:],
                }
            )
            failure = ran.error_before_exec or ran.error_in_exec
            if failure is not None:
                last, text = error_lines(failure)
                result.update(status="failed", failed_cell=n, error=last, traceback=text)
                print(text, file=sys.stderr, flush=True)
                print(f"  cell {n}: failed after {seconds:.1f} s: {last}", flush=True)
                break
            print(f"  cell {n}: {seconds:.1f} s", flush=True)
    result["seconds"] = round(time.perf_counter() - start, 1)
    result["imported_from"] = {m: getattr(sys.modules[m], "__file__", None) for m in REPORTED if m in sys.modules}
    if result["status"] == "passed":
        print(f"{path.name}: passed, {len(sources)} cells in {result['seconds']:.1f} s", flush=True)
    else:
        print(f"{path.name}: failed at cell {result['failed_cell']} of {len(sources)}: {result['error']}", flush=True)
    return result


# ----------------------------------------------------------------------------- command line


class Parser(argparse.ArgumentParser):
    def error(self, message: str):
        fail(f"{message} (see --help)")


def fail(message: str) -> None:
    print(f"run_notebooks: {message}", file=sys.stderr)
    sys.exit(2)


def main(argv: list[str] | None = None) -> int:
    parser = Parser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path, metavar="NB.ipynb")
    parser.add_argument("--profile", default="gpu", help="MINIDCAE_PROFILE for the notebooks (default gpu)")
    parser.add_argument("--cap-steps", type=int, default=None, help="cap every training in the profile at N steps")
    parser.add_argument("--wheels", type=Path, default=None, help=f"wheel folder (default {WHEELS.name}/ if there)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    args = parser.parse_args(argv)
    for nb in args.notebooks:
        if nb.suffix != ".ipynb" or not nb.is_file():
            fail(f"{nb}: no such notebook; name .ipynb files, e.g. notebooks/02_deep_compression.ipynb")
    if args.cap_steps is not None and args.cap_steps < 1:
        fail(f"--cap-steps {args.cap_steps}: a cap is 1 step or more; leave it out for the profile's own steps")
    if args.wheels is not None and not args.wheels.is_dir():
        fail(f"--wheels {args.wheels}: no such folder; run `make gpu-wheels` and bring gpu_wheels/ along")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from minidcae.core.profiles import PROFILES  # torch only, which a GPU machine has

    if args.profile not in PROFILES:
        fail(f"--profile {args.profile}: not a profile; use one of {', '.join(PROFILES)}")
    folder = args.wheels or WHEELS
    if folder.is_dir():
        bring_wheels(folder)
    try:
        notebook_shell()
    except ImportError as err:
        fail(str(err))
    results = [run_notebook(nb, args.profile, args.cap_steps) for nb in args.notebooks]
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    failed = [r for r in results if r["status"] != "passed"]
    if len(results) > 1:
        print(f"{len(results) - len(failed)} of {len(results)} notebooks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
