"""The instructor kit: every notebook has exercises with solutions, and the student copies in
student/ are current (regenerate them with `make student`). The solution notebooks themselves
pass strict nbval with the rest of notebooks/."""

import ast
import importlib.util
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_student", ROOT / "tools" / "make_student.py")
make_student = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_student)


def test_every_notebook_has_exercises_with_solutions():
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        solutions = [c for c in nb.cells if c.cell_type == "code" and "### BEGIN SOLUTION" in c.source]
        assert len(solutions) >= 1, path.name
        assert any("## Exercises" in c.source for c in nb.cells if c.cell_type == "markdown"), path.name
        for cell in solutions:
            assert cell.source.count("### BEGIN SOLUTION") == cell.source.count("### END SOLUTION"), path.name


def test_student_copies_are_current_and_hold_no_solution():
    expected = make_student.expected_copies()
    on_disk = {p.name: p.read_text() for p in sorted((ROOT / "student").glob("*.ipynb"))}
    assert set(on_disk) == set(expected), "run `make student`"
    for name, text in expected.items():
        assert on_disk[name] == text, f"student/{name} is out of date: run `make student`"
        nb = nbformat.reads(text, as_version=4)
        code = [c.source for c in nb.cells if c.cell_type == "code"]
        assert not any("BEGIN SOLUTION" in c or "END SOLUTION" in c for c in code)
        assert sum("YOUR CODE HERE" in c for c in code) >= 1
        assert all(not c.outputs for c in nb.cells if c.cell_type == "code")
        for source in code:  # every student cell is still valid Python (magics aside)
            ast.parse("\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))))


def test_the_placeholder_replaces_exactly_the_marked_lines():
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1\n### BEGIN SOLUTION\ny = secret()\n### END SOLUTION\nprint(x)")]
    out = make_student.student_copy(nb).cells[0].source
    assert "secret" not in out and out.startswith("x = 1\n# YOUR CODE HERE") and out.endswith("print(x)")
