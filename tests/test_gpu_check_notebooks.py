"""tools/gpu_check.py's notebook stage on the CPU: notebooks side by side, each in its own runner process, and a
notebook stopped at the timeout says how many of its cells ran to their end (a GPU machine's report is read
to find which cell was slow, so a stopped notebook must not read as one that never started)."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "tools" / "gpu_check.py")
gpu_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(gpu_check)


def notebook(path: Path, cells: list[str]) -> Path:
    code = [{"cell_type": "code", "metadata": {}, "source": c, "outputs": [], "execution_count": None} for c in cells]
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 4, "metadata": {}, "cells": code}))
    return path


def test_a_notebook_stopped_at_the_timeout_counts_the_cells_it_ran(tmp_path, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    quick = notebook(tmp_path / "quick.ipynb", ["x = 1", "y = x + 1", "print(y)"])
    slow = notebook(tmp_path / "slow.ipynb", ["x = 1", "y = x + 1", "import time\ntime.sleep(600)", "z = 3"])
    failing = notebook(tmp_path / "failing.ipynb", ["x = 1", "1 / 0", "z = 3"])
    rows = gpu_check.notebook_rows(3, 20, str(ROOT / "gpu_wheels"), [quick, slow, failing], profile="ci")
    assert rows["quick"]["status"] == "passed" and rows["quick"]["cells_run"] == 3
    assert rows["slow"]["status"] == "stopped after 20 s" and rows["slow"]["cells_run"] == 2
    assert rows["slow"]["seconds"] < 30
    assert rows["failing"]["status"].startswith("failed: failing.ipynb: failed at cell 1 of 3: ZeroDivisionError")
    assert rows["failing"]["cells_run"] == 1
