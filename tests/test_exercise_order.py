"""Build first, then see the library; questions the prose does not answer; hints that are not answers.

The rules, each checked on every notebook and shown to fail on a small notebook made wrong on purpose:

1. **No source before its exercise.** An exercise is a `check.compare(student, reference, ...)`
   call. Its *exercised names* come from the reference: a library name (`audio.mel_filterbank`,
   `model.normalize_latent`, `clap.MiniClap.embed_audio`) gives its last part and any class in it
   (`mel_filterbank`; `normalize_latent`; `embed_audio`, `MiniClap`); a wrapper
   (`check.with_gradient(library_vq)`, a lambda, or a function the notebook defines) gives the names
   it calls, except torch's, numpy's, math's and Python's own. A *showing* is a `show_source(...)`,
   `viz.Source(...)`, `inspect.getsource(...)` or `check.reveal(...)` call, or a `check.compare`
   with `reveal=` (which shows its objects, or with True its reference); it shows the last part of
   each object it names. The rule fails when a showing of an exercised name sits in a cell above the
   exercise's cell, or above its `check.compare` line in the same cell.
2. **No question answered by the prose above it.** A question is the text before an
   `<!-- BEGIN ANSWER -->` block; its answer is the block. The answer's *key words* are its
   words, lower-cased, crudely stemmed (a final s, es, ed or ing dropped when four letters stay),
   less stop words, less words of three letters or fewer, less the question's own words (the
   question gives those), less the notebook's common words (those in a quarter or more of its
   markdown cells, and in at least three). With at least MIN_KEYS key words, the rule fails when
   one markdown cell above the question, as the student copy has it (answers and notes taken out),
   holds at least THRESHOLD (three in ten) of them, and at least MIN_HELD. Answers paraphrase the
   prose rather than repeat it, so a third of an answer's distinctive words in one cell already
   means that cell gives the reason: on the course's notebooks as they were, every question this
   flagged was read, and its cell states the answer (one, 00's question 1, only in part), while
   questions at a fifth are mostly cells on the same topic that leave the reason out.
3. **No solution line above its exercise.** A line of a solution (between `### BEGIN SOLUTION` and
   `### END SOLUTION`, its comment dropped, whitespace collapsed, at least 30 characters) must not
   appear in the student copy above that solution: in an earlier cell, or in its own cell's stub
   and docstring.
4. **Hints name exercises and hold no solution.** Every key of minidcae/teach/hints.py is a
   student's function given to `check.compare` or a name given to `check.exercise`, and no hint
   holds a line of that exercise's solution (the same lines as rule 3, at least 20 characters).

Every rule holds on every notebook of the course; the small notebooks below show each rule failing and
passing.
"""

import ast
import builtins
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

from minidcae.teach.hints import HINTS

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
spec = importlib.util.spec_from_file_location("make_student", ROOT / "tools" / "make_student.py")
make_student = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_student)

THRESHOLD = 0.3  # the share of an answer's key words that one earlier cell may not hold
MIN_KEYS = 5  # fewer key words than this: too short an answer to judge
MIN_HELD = 4  # and a cell must hold at least this many of them
SHOWERS = {"show_source", "Source", "getsource", "reveal"}
NOT_THE_LIBRARY = {"torch", "F", "nn", "np", "math", "functools", "einops", "rearrange", "repeat", "reduce", "check"}
BUILTINS = set(dir(builtins))
STOP = set(
    """a about above after again against all almost along also although always am among an and another any are
    aren't around as at away be because been before being below between both but by can cannot could did do does
    doing done down during each either else enough even ever every few for from further get gets given gives go goes
    had has have having he her here hers him his how however i if in into is isn't it it's its itself just least less
    let like made make makes many may me might more most much must my near need needs neither never no nor not now of
    off often on once one only onto or other others our ours out over own per rather same see seen she should since so
    some still such than that the their theirs them then there these they this those though through thus to too two
    under until up upon us very was way we well were what when where whether which while who whom whose why will with
    within without would yet you your yours answer question instead because whereas each every only""".split()
)


# ----------------------------------------------------------------------------- reading a notebook


def _tree(source: str) -> ast.Module | None:
    code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        return ast.parse(code)
    except SyntaxError:
        return None


def _dotted(node) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else node.attr
    return None


def _names(dotted: str) -> set[str]:
    """A dotted name's last part, and every class (capitalised part) in it."""
    parts = dotted.split(".")
    return {parts[-1]} | {p for p in parts[:-1] if p[:1].isupper()}


def _callees(node, defined: dict) -> set[str]:
    """The library names a wrapper calls: every call in it, but torch's, math's and Python's own."""
    found = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call) and (d := _dotted(call.func)):
            root = d.split(".")[0]
            if root in NOT_THE_LIBRARY or (root in BUILTINS and "." not in d):
                continue
            found |= _names(d)
    return found


def _exercised(node, defined: dict, depth: int = 0) -> set[str]:
    """What a check.compare reference exercises (rule 1)."""
    if isinstance(node, ast.Call):  # check.with_gradient(library_vq), functools.partial(f, ...)
        return _exercised(node.args[0], defined, depth) if node.args else set()
    if isinstance(node, ast.Lambda):
        return _callees(node.body, defined)
    d = _dotted(node)
    if d is None:
        return set()
    if d in defined and depth < 2:  # a function the notebook defines: what it calls
        return _callees(defined[d], defined) | {d}
    return _names(d)


def _call_name(call: ast.Call) -> str:
    return (_dotted(call.func) or "").split(".")[-1]


def read(nb) -> dict:
    """Exercises, showings, solutions and questions of a notebook (the instructor copy)."""
    trees = {k: _tree(c.source) for k, c in enumerate(nb.cells) if c.cell_type == "code"}
    defined = {
        n.name: n
        for t in trees.values()
        if t
        for n in ast.walk(t)
        if isinstance(n, ast.FunctionDef) and not n.name.startswith("my_")
    }
    exercises, showings = [], []
    for k, tree in trees.items():
        for call in (n for n in ast.walk(tree or ast.Module(body=[], type_ignores=[])) if isinstance(n, ast.Call)):
            name = _call_name(call)
            if name == "compare" and len(call.args) >= 2:
                student = call.args[0]
                student = student.args[0] if isinstance(student, ast.Call) and student.args else student
                exercises.append((k, call.lineno, _dotted(student) or "?", _exercised(call.args[1], defined)))
                for kw in call.keywords:
                    if kw.arg == "reveal":
                        value = kw.value
                        shown = (
                            _exercised(call.args[1], defined)
                            if isinstance(value, ast.Constant) and value.value is True
                            else {
                                n
                                for e in (value.elts if isinstance(value, (ast.Tuple, ast.List)) else [value])
                                for n in [(_dotted(e) or "").split(".")[-1]]
                                if n
                            }
                        )
                        showings.append((k, call.lineno, shown, "reveal="))
            elif name in SHOWERS:
                shown = {(_dotted(a) or "").split(".")[-1] for a in call.args} - {""}
                showings.append((k, call.lineno, shown, f"{name}(...)"))
    return {"exercises": exercises, "showings": showings}


def source_shown_early(nb) -> list[str]:
    """Rule 1: an exercised name shown above its exercise."""
    found = read(nb)
    said = []
    for cell, line, student, names in found["exercises"]:
        for s_cell, s_line, shown, how in found["showings"]:
            if (s_cell, s_line) < (cell, line) and shown & names:
                said.append(
                    f"{', '.join(sorted(shown & names))} shown by {how} in cell {s_cell}, above {student}'s exercise in cell {cell}"
                )
    return sorted(set(said), key=said.index)


def _stem(word: str) -> str:
    word = word.removesuffix("'s")
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def words(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[a-z][a-z']*", text.lower()) if w not in STOP and len(w) > 3} - STOP


def questions(nb):
    """(cell, number, question text, answer text) for every answered question."""
    for k, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        start = 0
        for m in make_student.ANSWER.finditer(cell.source):
            text = cell.source[start : m.start()].strip()
            number = re.findall(r"^(\d+)\.", text, re.M)
            yield k, (number[-1] if number else "?"), text, m.group(0)
            start = m.end()


def answered_above(nb) -> list[str]:
    """Rule 2: most of an answer's key words in one markdown cell above its question."""
    prose = {k: make_student.student_markdown(c.source) for k, c in enumerate(nb.cells) if c.cell_type == "markdown"}
    common = {
        w
        for w in set().union(*map(words, prose.values()))
        if sum(w in words(p) for p in prose.values()) >= max(3, len(prose) / 4)
    }
    said = []
    for k, number, question, answer in questions(nb):
        keys = words(answer) - words(question) - common
        if len(keys) < MIN_KEYS:
            continue
        share, cell = max(((len(keys & words(p)) / len(keys), j) for j, p in prose.items() if j < k), default=(0, None))
        if share >= THRESHOLD and share * len(keys) >= MIN_HELD:
            held = sorted(keys & words(prose[cell]))
            said.append(
                f"question {number} (cell {k}): cell {cell} holds {len(held)} of its answer's {len(keys)} key words ({', '.join(held[:8])})"
            )
    return said


def _solution_lines(source: str, shortest: int) -> list[str]:
    lines = []
    for block in make_student.SOLUTION.finditer(source):
        for line in block.group(0).splitlines()[1:-1]:
            code = " ".join(re.sub(r"\s+#.*$", "", line).split())
            if len(code) >= shortest and not code.startswith("#"):
                lines.append(code)
    return lines


def solution_above(nb) -> list[str]:
    """Rule 3: a line of a solution in the student copy above it (its stub and docstring included)."""
    student = [
        " ".join(
            (
                make_student.student_markdown(c.source)
                if c.cell_type == "markdown"
                else make_student.SOLUTION.sub("", c.source)
            ).split()
        )
        for c in nb.cells
    ]
    said = []
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            for line in _solution_lines(cell.source, 30):
                where = next((j for j in range(k + 1) if line in student[j]), None)
                if where is not None:
                    said.append(f"solution line `{line}` (cell {k}) is on the page in cell {where}")
    return said


# ----------------------------------------------------------------------------- the course's notebooks


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_exercised_source_is_shown_above_its_exercise(path):
    said = source_shown_early(nbformat.read(path, as_version=4))
    assert not said, f"{path.name}:\n" + "\n".join(said)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_question_is_answered_by_the_prose_above_it(path):
    said = answered_above(nbformat.read(path, as_version=4))
    assert not said, f"{path.name}:\n" + "\n".join(said)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_solution_line_is_on_the_page_above_it(path):
    said = solution_above(nbformat.read(path, as_version=4))
    assert not said, f"{path.name}:\n" + "\n".join(said)


def test_every_hint_names_an_exercise_and_holds_no_line_of_its_solution():
    names, solutions = set(), {}  # exercise names; name -> the solution lines of the cell that defines or opens it
    for path in NOTEBOOKS:
        nb = nbformat.read(path, as_version=4)
        names |= {student for _, _, student, _ in read(nb)["exercises"]}
        for cell in (c for c in nb.cells if c.cell_type == "code"):
            opened = re.findall(r"check\.exercise\(\s*[\"'](.+?)[\"']", cell.source)
            names |= set(opened)
            for name in re.findall(r"^def (\w+)\(", cell.source, re.M) + opened:
                solutions.setdefault(name, []).extend(_solution_lines(cell.source, 20))
    for name, hints in HINTS.items():
        assert name in names, f"hints for {name!r}, which no notebook's check.compare or check.exercise names"
        for line in solutions.get(name, []):
            assert not any(line in " ".join(h.split()) for h in hints), f"a hint of {name} holds `{line}`"


# ----------------------------------------------------------------------------- the rules bite: small notebooks


def small_notebook(*cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(s[3:]) if s.startswith("md:") else nbformat.v4.new_code_cell(s) for s in cells
    ]
    return nb


EXERCISE = (
    "def my_space_to_channel(x, sf, st, channels):\n"
    "    ### BEGIN SOLUTION\n"
    '    h = rearrange(x, "b c (f sf) (t st) -> b (c sf st) f t", sf=sf, st=st)\n'
    '    return rearrange(h, "b (o g) f t -> b o g f t", o=channels).mean(dim=2)\n'
    "    ### END SOLUTION\n"
    "check.compare(my_space_to_channel, dcae.space_to_channel, inputs, reveal=True)"
)
QUESTION = (
    "md:1. Why does the shortcut average channel groups rather than learn a convolution?\n"
    "<!-- BEGIN ANSWER -->\n*Answer.* It costs no parameters, and at initialisation every block already passes a coarse "
    "copy of its input, so the residual branch starts near the identity and trains quickly.\n<!-- END ANSWER -->"
)


def test_rule_1_fails_when_the_source_is_shown_above_and_passes_when_it_comes_after():
    early = small_notebook("viz.show_source(dcae.match_channels, dcae.space_to_channel)", "md:Now write it.", EXERCISE)
    assert source_shown_early(early) == [
        "space_to_channel shown by show_source(...) in cell 0, above my_space_to_channel's exercise in cell 2"
    ]
    wrapped = small_notebook(
        "print(inspect.getsource(VQBottleneck))",
        "def library_vq(h, codebook):\n    return VQBottleneck(8, 16)(h)\n"
        "check.compare(check.with_gradient(my_vq), check.with_gradient(library_vq), inputs)",
    )
    assert source_shown_early(wrapped) == [
        "VQBottleneck shown by getsource(...) in cell 0, above my_vq's exercise in cell 1"
    ]
    after = small_notebook(
        "md:The shortcut, in words and its equation.",
        EXERCISE,
        "check.reveal(dcae.match_channels, after='my_space_to_channel')",
    )
    assert source_shown_early(after) == []
    assert read(after)["showings"][0][2] == {"space_to_channel"}  # reveal=True shows the reference, below the verdict


def test_rule_2_fails_when_the_prose_above_holds_the_answer_and_passes_when_it_states_only_facts():
    facts = "md:## The shortcut\nThe down block adds a shortcut with no parameters: patches into channels, then an average of groups."
    told = (
        "md:## The shortcut\nIt costs no parameters: at initialisation each block already passes a coarse copy of its "
        "input, so the residual branch starts near the identity and trains quickly."
    )
    assert answered_above(small_notebook(facts, "x = 1", QUESTION)) == []
    said = answered_above(small_notebook(told, "x = 1", QUESTION))
    assert len(said) == 1 and said[0].startswith("question 1 (cell 2): cell 0 holds ")


def test_rule_3_fails_when_a_solution_line_is_on_the_page_above():
    pasted = small_notebook(
        'md:```python\nh = rearrange(x, "b c (f sf) (t st) -> b (c sf st) f t", sf=sf, st=st)\n```', EXERCISE
    )
    assert solution_above(pasted) == [
        'solution line `h = rearrange(x, "b c (f sf) (t st) -> b (c sf st) f t", sf=sf, st=st)` (cell 1) is on the page in cell 0'
    ]
    assert solution_above(small_notebook("md:Patches into channels, then an average.", EXERCISE)) == []


# ----------------------------------------------------------------------------- student copies and the answer key


def test_an_instructors_note_is_left_out_of_the_student_copy_and_kept_in_the_answer_key():
    nb = small_notebook(
        "md:3. Train it for 40 steps. Target: mel L1 below 2.0 dB.\n<!-- BEGIN NOTE -->\nExpect 1.6 dB; discuss the seed spread.\n<!-- END NOTE -->",
        "md:<!-- BEGIN NOTE -->\nOnly for the instructor.\n<!-- END NOTE -->",
        EXERCISE,
        QUESTION,
    )
    student = make_student.student_copy(nb)
    assert [c.source for c in student.cells if c.cell_type == "markdown"] == [
        "3. Train it for 40 steps. Target: mel L1 below 2.0 dB.",
        "1. Why does the shortcut average channel groups rather than learn a convolution?\n*Your answer:*",
    ]
    key = make_student.answer_key(nb, "99_small.ipynb")
    assert "Expect 1.6 dB; discuss the seed spread." in key and "Only for the instructor." in key
    assert '    h = rearrange(x, "b c (f sf) (t st) -> b (c sf st) f t", sf=sf, st=st)' in key
    assert "*Answer.* It costs no parameters" in key and "<!--" not in key


def test_the_answer_key_is_written_apart_from_the_student_copies(tmp_path):
    make_student.write_answers(tmp_path / "answers")
    written = sorted(p.name for p in (tmp_path / "answers").iterdir())
    assert written == [p.stem + ".md" for p in NOTEBOOKS]
    assert "answers/" in (ROOT / ".gitignore").read_text().splitlines()
    assert not list((ROOT / "student").glob("*.md"))
