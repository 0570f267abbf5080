"""Write student copies of the notebooks: every solution replaced by a placeholder.

    python tools/make_student.py          (what `make student` runs)

notebooks/NN_name.ipynb -> student/NN_name.ipynb. In a code cell, the lines from
`### BEGIN SOLUTION` to `### END SOLUTION` become two lines that a student replaces, indented as
the markers were: a comment and `raise NotImplementedError`. An exercise is written so that this
does not stop the notebook: the solution sits inside a function that `check.compare` calls, or
inside `with check.exercise(...)`, and both print "not implemented yet" and go on. In a markdown
cell, an answer between `<!-- BEGIN ANSWER -->` and `<!-- END ANSWER -->` is left out. All
outputs are cleared: the student runs the notebook (and the solution cells' outputs would give
the answers away). The copies are a function of the solution notebooks: tests/test_student.py
fails when they are out of date.
"""

import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*(\n|$)", re.M | re.S)
PLACEHOLDER = (
    '{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError("this is an exercise: write your answer here")\n'
)
ANSWER = re.compile(r"<!-- BEGIN ANSWER -->.*?<!-- END ANSWER -->", re.S)
ANSWER_PLACEHOLDER = "*Your answer:*"


def _placeholder(match: re.Match) -> str:
    return PLACEHOLDER.format(indent=match.group(1))


def student_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(nb)  # a deep copy
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = ANSWER.sub(ANSWER_PLACEHOLDER, cell.source)
        if cell.cell_type != "code":
            continue
        if SOLUTION.search(cell.source):
            cell.source = SOLUTION.sub(_placeholder, cell.source).rstrip("\n")
        cell.outputs, cell.execution_count = [], None
    return nb


def expected_copies(source=ROOT / "notebooks") -> dict[str, str]:
    """{file name: the student copy's text} for every notebook."""
    return {
        p.name: nbformat.writes(student_copy(nbformat.read(p, as_version=4))) + "\n"
        for p in sorted(Path(source).glob("[0-9][0-9]_*.ipynb"))
    }


def main(out=ROOT / "student") -> None:
    out.mkdir(exist_ok=True)
    for name, text in expected_copies().items():
        (out / name).write_text(text)
        print(f"student/{name}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "student")
