"""Write student copies of the notebooks, every solution, answer and instructor's note taken out; and,
on request, the self-study answer key, kept apart from them.

    python tools/make_student.py              (what `make student` runs: notebooks/ -> student/)
    python tools/make_student.py --answers    (what `make answers` runs: notebooks/ -> answers/)

notebooks/NN_name.ipynb -> student/NN_name.ipynb. In a code cell, the lines from
`### BEGIN SOLUTION` to `### END SOLUTION` become two lines that a student replaces, indented as
the markers were: a comment and `raise NotImplementedError`. An exercise is written so that this
does not stop the notebook: the solution sits inside a function that `check.compare` calls, or
inside `with check.exercise(...)`, and both print "not implemented yet" and go on. In a markdown
cell, an answer between `<!-- BEGIN ANSWER -->` and `<!-- END ANSWER -->` becomes "*Your answer:*",
and an instructor's note between `<!-- BEGIN NOTE -->` and `<!-- END NOTE -->` (what to expect of
an open exercise, what to discuss) is left out; a cell that held only a note is dropped. All
outputs are cleared: the student runs the notebook (the solution cells' outputs, and the library's
source that `check.compare(..., reveal=True)` prints below a right answer, would give the answers
away). Hints need nothing here: they live in minidcae/teach/hints.py, not on the page. The copies
are a function of the solution notebooks: tests/test_student.py fails when they are out of date.

The answer key, answers/NN_name.md, holds for each notebook every exercise cell with its solution
and what it printed, every question with its answer, and every instructor's note: for a student
working alone, to open after trying. answers/ is not tracked (.gitignore) and student/ never holds it.
"""

import argparse
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTION = re.compile(r"^([ \t]*)### BEGIN SOLUTION[^\n]*\n.*?^[ \t]*### END SOLUTION[^\n]*(\n|$)", re.M | re.S)
PLACEHOLDER = (
    '{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError("this is an exercise: write your answer here")\n'
)
ANSWER = re.compile(r"<!-- BEGIN ANSWER -->.*?<!-- END ANSWER -->", re.S)
ANSWER_PLACEHOLDER = "*Your answer:*"
NOTE = re.compile(r"\n*<!-- BEGIN NOTE -->.*?<!-- END NOTE -->", re.S)
MARKERS = re.compile(r"<!-- (BEGIN|END) (ANSWER|NOTE) -->\n?")


def _placeholder(match: re.Match) -> str:
    return PLACEHOLDER.format(indent=match.group(1))


def student_markdown(source: str) -> str:
    """A markdown cell as the student sees it: answers replaced by a placeholder, notes left out."""
    return NOTE.sub("", ANSWER.sub(ANSWER_PLACEHOLDER, source))


def student_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    nb = nbformat.from_dict(nb)  # a deep copy
    kept = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            had_note = NOTE.search(cell.source) is not None
            cell.source = student_markdown(cell.source)
            if had_note and not cell.source.strip():
                continue  # a cell that held only an instructor's note
        if cell.cell_type == "code":
            if SOLUTION.search(cell.source):
                cell.source = SOLUTION.sub(_placeholder, cell.source).rstrip("\n")
            cell.outputs, cell.execution_count = [], None
        kept.append(cell)
    nb.cells = kept
    return nb


def expected_copies(source=ROOT / "notebooks") -> dict[str, str]:
    """{file name: the student copy's text} for every notebook."""
    return {
        p.name: nbformat.writes(student_copy(nbformat.read(p, as_version=4))) + "\n"
        for p in sorted(Path(source).glob("[0-9][0-9]_*.ipynb"))
    }


def _printed(cell, most: int = 30) -> str:
    """What a code cell printed (its text outputs), at most `most` lines."""
    lines = "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream").splitlines()
    return "\n".join(lines[:most] + ([f"... ({len(lines) - most} more lines)"] if len(lines) > most else []))


def answer_key(nb: nbformat.NotebookNode, name: str) -> str:
    """The self-study answer key of one notebook, in markdown."""
    title = next((c.source.splitlines()[0].lstrip("# ") for c in nb.cells if c.cell_type == "markdown"), name)
    parts = [
        f"# Answer key: {title}",
        f"From `notebooks/{name}` (`python tools/make_student.py --answers`). Try the exercises in "
        f"`student/{name}` first; figures are the `ci` profile's.",
    ]
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and SOLUTION.search(cell.source):
            printed = _printed(cell)
            parts.append(f"## Cell {k}: an exercise with its solution\n\n```python\n{cell.source.rstrip()}\n```")
            if printed:
                parts.append(f"It printed:\n\n```\n{printed}\n```")
        elif cell.cell_type == "markdown" and (ANSWER.search(cell.source) or NOTE.search(cell.source)):
            parts.append(
                f"## Cell {k}: questions and notes with their answers\n\n{MARKERS.sub('', cell.source).strip()}"
            )
    return "\n\n".join(parts) + "\n"


def write_answers(out=ROOT / "answers", source=ROOT / "notebooks") -> None:
    out.mkdir(exist_ok=True)
    for p in sorted(Path(source).glob("[0-9][0-9]_*.ipynb")):
        target = out / f"{p.stem}.md"
        target.write_text(answer_key(nbformat.read(p, as_version=4), p.name))
        print(target.relative_to(ROOT) if target.is_relative_to(ROOT) else target)


def main(out=ROOT / "student") -> None:
    out.mkdir(exist_ok=True)
    for name, text in expected_copies().items():
        (out / name).write_text(text)
        print(f"student/{name}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Student copies of the notebooks, or the self-study answer key.")
    parser.add_argument("out", nargs="?", type=Path, help="where to write (default student/, or answers/)")
    parser.add_argument("--answers", action="store_true", help="write the answer key instead of the student copies")
    args = parser.parse_args()
    if args.answers:
        write_answers(args.out or ROOT / "answers")
    else:
        main(args.out or ROOT / "student")
