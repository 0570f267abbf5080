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


def test_a_placeholder_inside_a_function_keeps_its_indentation_and_the_checker_goes_on(capsys):
    from minidcae.teach import check

    source = (
        "def my_double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION\n\n"
        "check.compare(my_double, lambda x: x + x, [(3.0,)])\n"
        "with check.exercise('plot it'):\n    ### BEGIN SOLUTION\n    print('a plot')\n    ### END SOLUTION\n"
        "print('the notebook goes on')"
    )
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source)]
    student = make_student.student_copy(nb).cells[0].source
    assert "return 2 * x" not in student and "    # YOUR CODE HERE\n    raise NotImplementedError" in student
    exec(compile(student, "student", "exec"), {"check": check})
    assert capsys.readouterr().out.splitlines() == [
        "not implemented yet: my_double (write it where the cell says YOUR CODE HERE)",
        "not implemented yet: plot it (write it where the cell says YOUR CODE HERE)",
        "the notebook goes on",
    ]


def test_answers_to_questions_are_left_out_of_student_copies():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("1. Why?\n<!-- BEGIN ANSWER -->\nBecause.\n<!-- END ANSWER -->\n2. What if?")
    ]
    out = make_student.student_copy(nb).cells[0].source
    assert out == "1. Why?\n*Your answer:*\n2. What if?"


def test_every_notebook_asks_questions_and_has_a_build_exercise_checked_by_the_library():
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert "check.compare(" in code, f"{path.name}: no exercise checked with check.compare"
        assert markdown.count("<!-- BEGIN ANSWER -->") >= 2, f"{path.name}: fewer than two questions with answers"
        shows = ("show_source(", "reveal=", "check.reveal(")  # reveal: the source below a right answer
        assert any(s in code for s in shows), f"{path.name}: shows none of the library's source"
        last = next(c.source for c in reversed(nb.cells) if c.cell_type == "markdown")
        assert "## Sources" in last and "arXiv" in last, f"{path.name}: does not end with its sources (arXiv ids)"
