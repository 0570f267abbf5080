"""tools/run_notebooks.py and the library as a GPU machine's own Python sees them: IPython, ipywidgets, Jupyter,
nbclient, nbformat, soundfile and the rest such a machine lacks are hidden from this venv
(tests/gpu_machine/sitecustomize.py), so they import only from gpu_wheels/ (`make gpu-wheels`; `make test`
downloads it first). A notebook runs to its last cell only if the library imports without ipywidgets and the
runner brings real IPython and soundfile from the wheels: a stub has no file and renders no HTML.
"""

import importlib.util
import json
import os
import re
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNNER = ROOT / "tools" / "run_notebooks.py"
WHEELS = ROOT / "gpu_wheels"
SITE = sysconfig.get_paths()["purelib"]  # this venv's site-packages, where nothing hidden may come from

spec = importlib.util.spec_from_file_location("run_notebooks", RUNNER)
run_notebooks = importlib.util.module_from_spec(spec)
spec.loader.exec_module(run_notebooks)


def gpu_machine(*args, timeout=300, **kwargs) -> subprocess.CompletedProcess:
    """This venv's Python, blind to the packages a GPU machine lacks, on one thread under the ci profile."""
    hide = str(ROOT / "tests" / "gpu_machine")
    env = {**os.environ, "MINIDCAE_PROFILE": "ci", "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, (hide, os.environ.get("PYTHONPATH"))))
    return subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, **kwargs
    )


def need_wheels() -> None:
    if not list(WHEELS.glob("*.whl")):
        pytest.fail("gpu_wheels/ is empty: run `make gpu-wheels` (`make test` does it once)")
    tag = f"cp{sys.version_info.major}{sys.version_info.minor}"
    if not list(WHEELS.glob(f"cffi-*-{tag}-*.whl")):  # soundfile needs cffi, which is compiled per Python
        pytest.skip(f"gpu_wheels/ brings compiled wheels for the GPU machine's Python 3.12 and make's 3.11, not {tag}")


def test_the_library_imports_without_ipython_ipywidgets_or_soundfile():
    code = """
import importlib, importlib.util, pkgutil, sys
import minidcae
hidden = ("IPython", "ipywidgets", "soundfile", "nbformat", "jupyter_core")
print([n for n in hidden if importlib.util.find_spec(n) is not None])  # nothing: the hiding works
for module in pkgutil.iter_modules(minidcae.__path__):
    if module.name != "__main__":
        importlib.import_module("minidcae." + module.name)
print([n for n in hidden if n in sys.modules])
from minidcae.teach import viz
try:
    viz.InterpolationWidget
except Exception as err:
    print(type(err).__name__, err)
"""
    done = gpu_machine("-c", code, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    found, imported, widget = done.stdout.splitlines()
    assert found == "[]" and imported == "[]"
    assert widget.startswith("MinidcaeError") and "pip install ipywidgets" in widget


def run_to_the_last_cell(name: str, tmp_path: Path) -> tuple[list[str], dict, int]:
    """Run notebooks/{name}.ipynb under ci as a GPU machine would, with the wheels; check that every code cell
    ran; return the runner's printed lines, its JSON result and the notebook's number of code cells."""
    need_wheels()
    notebook = ROOT / "notebooks" / f"{name}.ipynb"
    out = tmp_path / "result.json"
    done = gpu_machine(RUNNER, "--profile", "ci", "--wheels", WHEELS, "--json", out, notebook)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    (result,) = json.loads(out.read_text())
    code_cells = sum(c["cell_type"] == "code" for c in json.loads(notebook.read_text())["cells"])
    assert result["status"] == "passed" and len(result["cells"]) == result["code_cells"] == code_cells
    return done.stdout.splitlines(), result, code_cells


def test_notebook_00_runs_to_its_last_cell_with_ipython_and_soundfile_from_the_wheels(tmp_path):
    lines, result, code_cells = run_to_the_last_cell("00_audio_to_mel", tmp_path)
    assert sum(bool(re.fullmatch(r"  cell \d+: \d+\.\d s", line)) for line in lines) == code_cells
    assert lines[-1].startswith(f"00_audio_to_mel.ipynb: passed, {code_cells} cells in ")
    # real IPython and soundfile, from the wheels, never from this venv; ipywidgets never imported
    where = result["imported_from"]
    for name in ("IPython", "traitlets", "soundfile"):
        assert where[name] is not None and not where[name].startswith(SITE), (name, where[name])
    assert "ipywidgets" not in where
    # the players went through IPython's display formatter into HTML (their audio encoded by soundfile)
    html = [o for c in result["cells"] for o in c["outputs"] if "text/html" in o]
    assert len(html) >= 3


def test_notebook_04_builds_its_slider_with_ipywidgets_from_the_wheels(tmp_path):
    _, result, _ = run_to_the_last_cell("04_latent_space", tmp_path)
    where = result["imported_from"]
    assert where["ipywidgets"] is not None and not where["ipywidgets"].startswith(SITE), where["ipywidgets"]
    # the widget went through IPython's display as the widget view a notebook front end would render
    views = [o for c in result["cells"] for o in c["outputs"] if "application/vnd.jupyter.widget-view+json" in o]
    assert len(views) == 1


def test_the_runner_runs_magics_and_stops_at_the_first_failing_cell(tmp_path):
    need_wheels()
    cells = [
        "from IPython.display import HTML, display\nfrom minidcae.core.profiles import get_profile\n"
        "print('steps', get_profile().ae_train.steps)",
        "%time x = 2\n!echo from-a-shell\ndisplay(HTML('<b>bold</b>'))\nx",
        "import matplotlib.pyplot as plt\nplt.plot([1, 2])\nplt.show()\nplt.figure()",
        "1 / 0",
        "open('after.txt', 'w').write('a cell after the failure ran')",
    ]
    nb = {
        "nbformat": 4,
        "nbformat_minor": 4,
        "metadata": {},
        "cells": [{"cell_type": "markdown", "metadata": {}, "source": "# cells"}]
        + [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None} for c in cells],
    }
    path = tmp_path / "cells.ipynb"
    path.write_text(json.dumps(nb))
    out = tmp_path / "result.json"
    done = gpu_machine(RUNNER, "--profile", "ci", "--cap-steps", "3", "--json", out, path, timeout=120)
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert re.fullmatch(r"  cell 3: failed after \d+\.\d s: ZeroDivisionError: division by zero", lines[-2])
    assert lines[-1] == "cells.ipynb: failed at cell 3 of 5: ZeroDivisionError: division by zero"
    assert "1 / 0" in done.stderr and not (tmp_path / "after.txt").exists()  # the traceback; nothing after
    (result,) = json.loads(out.read_text())
    first, magic, plot, failed = result["cells"]
    assert first["stdout"] == "steps 3\n"  # every training capped
    assert "Wall time" in magic["stdout"] and "from-a-shell" in magic["stdout"]
    assert magic["outputs"] == [["text/html", "text/plain"], ["text/plain"]]  # display(HTML(...)), then x
    assert plot["figures"] == 2  # one shown by plt.show(), one left open at the cell's end
    assert result["failed_cell"] == 3 and result["error"] == "ZeroDivisionError: division by zero"


@pytest.mark.parametrize(
    "args, says",
    [
        (["--cap-steps", "0", "notebooks/00_audio_to_mel.ipynb"], "--cap-steps 0:"),
        (["notebooks/99_missing.ipynb"], "notebooks/99_missing.ipynb: no such notebook"),
        (["--wheels", "nowhere", "notebooks/00_audio_to_mel.ipynb"], "--wheels nowhere: no such folder"),
        (["--profile", "huge", "notebooks/00_audio_to_mel.ipynb"], "--profile huge: not a profile"),
        (["--cap-steps", "many", "notebooks/00_audio_to_mel.ipynb"], "invalid int value"),
    ],
)
def test_bad_arguments_say_so_in_one_line_and_exit_2(args, says, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.setattr(sys, "path", list(sys.path))
    with pytest.raises(SystemExit) as exit_:
        run_notebooks.main(args)
    err = capsys.readouterr().err
    assert exit_.value.code == 2 and err.count("\n") == 1 and err.startswith("run_notebooks: ") and says in err
