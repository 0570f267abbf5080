"""How long the course takes: every notebook executed under strict nbval with the ci profile.

    python benchmarks/course_time.py

Runs pytest --nbval on notebooks/ (one thread, as CI does) and writes each notebook's duration
to benchmarks/results/course_time.json.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import torch
from common import save

from minidcae.training.recipe import hardware

ROOT = Path(__file__).resolve().parents[1]


def main():
    env = {**os.environ, "MINIDCAE_PROFILE": "ci", "TQDM_DISABLE": "1", "OMP_NUM_THREADS": "1"}
    report = ROOT / "runs" / "course_time_report.json"
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "notebooks", f"--durations-json={report}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    total = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"nbval failed:\n{done.stdout[-3000:]}")
    durations = json.loads(report.read_text())
    for name, seconds in durations.items():
        print(f"  {name:45s} {seconds:6.1f} s")
    print(f"  {'all notebooks (pytest wall time)':45s} {total:6.1f} s")
    torch.set_num_threads(
        1
    )  # the notebooks ran on one thread (OMP_NUM_THREADS=1 above): say so, whatever this shell has
    print(f"wrote {save('course_time', {'machine': hardware('cpu'), 'notebooks': durations, 'total_seconds': total})}")


if __name__ == "__main__":
    main()
