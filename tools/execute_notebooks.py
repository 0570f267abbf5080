"""Re-execute notebooks in place, top to bottom in a fresh kernel, as nbval will check them.

    python tools/execute_notebooks.py notebooks/00_audio_to_mel.ipynb ...

Run it through `make notebooks`, which sets MINIDCAE_PROFILE=ci and TQDM_DISABLE=1. Execution
counts are kept (nbval needs them); timing metadata is not recorded, so diffs stay small.
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path: Path) -> float:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=600, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    nbformat.write(nb, path)
    return seconds


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: {execute(Path(name)):.1f} s", flush=True)
