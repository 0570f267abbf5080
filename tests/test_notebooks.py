"""Committed notebooks must be executed top to bottom, error-free, and open by printing profile and device."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
STUDENT = sorted((Path(__file__).resolve().parents[1] / "student").glob("[0-9][0-9]_*.ipynb"))


def test_the_course_has_notebooks():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_was_executed_in_order_without_errors(path):
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in cells]
    assert None not in counts, f"{path.name}: a code cell was never executed"
    assert counts == list(range(1, len(cells) + 1)), f"{path.name}: not run once, top to bottom, in a fresh kernel"
    for cell in cells:
        assert all(o["output_type"] != "error" for o in cell["outputs"]), f"{path.name}: an error output"


@pytest.mark.parametrize("path", NOTEBOOKS + STUDENT, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_is_valid_under_its_own_nbformat_version(path):
    # a cell id in an nbformat 4.4 file (ids came in 4.5) makes Jupyter and nbval log "Notebook JSON is invalid"
    nbformat = pytest.importorskip("nbformat")
    nbformat.validate(nbformat.reads(path.read_text(), as_version=nbformat.NO_CONVERT))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_first_code_cell_prints_profile_and_device(path):
    first = next(c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
    text = "".join("".join(o.get("text", "")) for o in first["outputs"])
    assert "profile: ci" in text and "device: " in text
