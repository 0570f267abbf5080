"""Re-execute notebooks in place, top to bottom in a fresh kernel, as nbval will check them.

    python tools/execute_notebooks.py notebooks/00_audio_to_mel.ipynb ...
    python tools/execute_notebooks.py --out runs/student student/*.ipynb     (copies, not in place)

Run it through `make notebooks` (or `make student-run`), which set MINIDCAE_PROFILE=ci and
TQDM_DISABLE=1. Execution counts are kept (nbval needs them); timing metadata is not recorded, so
diffs stay small. A cell that raises stops that notebook and the command exits 1, naming it.
"""

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError


def execute(path: Path, out: Path | None = None) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(
        nb, timeout=600, kernel_name="python3", record_timing=False, resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    target = path if out is None else out / path.name
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return seconds


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=None, help="write executed copies here instead of in place")
    args = parser.parse_args()
    failed = []
    for path in args.notebooks:
        try:
            print(f"{path}: {execute(path, args.out):.1f} s", flush=True)
        except CellExecutionError as e:
            failed.append(path)
            print(f"{path}: FAILED\n{str(e)[-2000:]}", flush=True)
    if failed:
        sys.exit(f"{len(failed)} notebook(s) failed: {', '.join(map(str, failed))}")
