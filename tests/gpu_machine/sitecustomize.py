"""This venv's Python seen as a GPU machine's own Python would be: the packages such a machine lacks
(IPython and what it needs but pygments, ipywidgets, Jupyter, nbclient, nbformat, soundfile and cffi, mido, pystoi,
pesto) are hidden when they would come from the venv's site-packages, modules and metadata alike, so
they import only from elsewhere on sys.path, such as gpu_wheels/ (tools/run_notebooks.py brings it).

Put this folder first on PYTHONPATH, as tests/test_run_notebooks.py does for its subprocess:

    PYTHONPATH=tests/gpu_machine .venv/bin/python tools/run_notebooks.py notebooks/00_audio_to_mel.ipynb

Python imports sitecustomize at start-up, after site-packages is on sys.path; this one swaps the path
finder for one that skips site-packages for a hidden name. Nothing is stubbed: a hidden package is
either found elsewhere, whole and real, or not at all (ImportError, as where it is not installed).
"""

import re
import sys
import sysconfig
from importlib.machinery import PathFinder
from importlib.metadata import distributions

SITE = sysconfig.get_paths()["purelib"]

# distributions (pip's names, normalised) a GPU machine with its own Python, torch, numpy, matplotlib and
# pytest lacks: IPython with every dependency it declares but pygments (the GPU image has it), the Jupyter stack,
# and the library's audio extras
LACKING = re.compile(
    r"ipython|ipython-pygments-lexers|traitlets|jedi|parso|prompt-toolkit|wcwidth|decorator"
    r"|matplotlib-inline|pexpect|ptyprocess|stack-data|asttokens|executing|pure-eval|psutil"
    r"|ipywidgets|widgetsnbextension|jupyterlab-widgets|comm|ipykernel|jupyter.*|nbclient|nbformat|nbconvert"
    r"|nbval|notebook|soundfile|cffi|pycparser|mido|pystoi|pesto-pitch"
)


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def top_level_names(dist) -> set[str]:
    """The importable names a distribution installs: foo/ and foo.py, foo.cpython-311-x86_64-linux-gnu.so."""
    names = set()
    for file in dist.files or ():
        first = file.parts[0]
        if first in ("..", "__pycache__") or first.endswith((".dist-info", ".data", ".pth")):
            continue
        name = first.split(".")[0]
        if name.isidentifier() and (len(file.parts) > 1 or first.endswith((".py", ".so"))):
            names.add(name)
    return names


HIDDEN_DISTS = {normalised(d.metadata["Name"]) for d in distributions(path=[SITE])}
HIDDEN_DISTS = {name for name in HIDDEN_DISTS if LACKING.fullmatch(name)}
HIDDEN = set().union(
    *(top_level_names(d) for d in distributions(path=[SITE]) if normalised(d.metadata["Name"]) in HIDDEN_DISTS)
)


class GpuMachinePathFinder(PathFinder):
    """sys.path's finder, blind to site-packages for the hidden names (a submodule follows its package)."""

    @classmethod
    def find_spec(cls, fullname, path=None, target=None):
        if path is None and fullname in HIDDEN:
            path = [p for p in sys.path if not p.startswith(SITE)]
        return super().find_spec(fullname, path, target)

    @classmethod
    def find_distributions(cls, *args, **kwargs):
        for dist in super().find_distributions(*args, **kwargs):
            inside = str(dist.locate_file("")).startswith(SITE)
            if not (inside and normalised(dist.metadata["Name"]) in HIDDEN_DISTS):
                yield dist


sys.meta_path[sys.meta_path.index(PathFinder)] = GpuMachinePathFinder
