"""pytest settings shared by the unit tests and nbval (see [tool.pytest.ini_options] in pyproject.toml)."""

import json
import os
from collections import defaultdict

# The notebooks' committed outputs come from the ci profile on one CPU thread (`make notebooks`),
# so everything under pytest runs so too; set before torch is imported anywhere.
os.environ["MINIDCAE_PROFILE"] = "ci"
os.environ["OMP_NUM_THREADS"] = "1"
os.environ.setdefault("TQDM_DISABLE", "1")

NOTEBOOK_BUDGET_S = 180  # each notebook under nbval on the 2-core CI machine
COURSE_BUDGET_S = 900  # the whole course

_notebook_seconds = defaultdict(float)


def pytest_addoption(parser):
    parser.addoption(
        "--durations-json",
        default=None,
        help="write each notebook's nbval duration (seconds) to this JSON file (benchmarks/course_time.py)",
    )


def pytest_collectstart(collector):
    # Warnings and progress bars go to stderr, which differs between machines: never compare it.
    if str(getattr(collector, "path", "")).endswith(".ipynb"):
        collector.skip_compare += ("stderr",)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    write = terminalreporter.write_line
    terminalreporter.section("notebook durations (nbval, this machine)")
    for path, seconds in sorted(_notebook_seconds.items()):
        flag = "" if seconds <= NOTEBOOK_BUDGET_S else f"  OVER the {NOTEBOOK_BUDGET_S} s budget"
        write(f"{path:48s} {seconds:7.1f} s{flag}")
    total = sum(_notebook_seconds.values())
    write(f"{'all notebooks':48s} {total:7.1f} s (budget {COURSE_BUDGET_S} s)")
    target = terminalreporter.config.getoption("--durations-json")
    if target:
        from pathlib import Path

        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(json.dumps({p: round(s, 1) for p, s in sorted(_notebook_seconds.items())}, indent=2))
