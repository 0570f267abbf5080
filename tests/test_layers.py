"""The rooms of minidcae/ and the way imports go (CONTRIBUTING.md): checked by import-linter's contracts in
pyproject.toml (`make lint` runs `lint-imports`), by a search for import circles, and by a forbidden import
planted in a copy of the package, which must fail the contracts."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def circles(graph) -> list[list[str]]:
    """Groups of modules that import each other round a circle (Tarjan's strongly connected components)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(m):
        index[m] = low[m] = len(index)
        stack.append(m)
        on_stack.add(m)
        for n in graph.find_modules_directly_imported_by(m):
            if n not in index:
                visit(n)
                low[m] = min(low[m], low[n])
            elif n in on_stack:
                low[m] = min(low[m], index[n])
        if low[m] == index[m]:
            group = []
            while True:
                n = stack.pop()
                on_stack.discard(n)
                group.append(n)
                if n == m:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for m in sorted(graph.modules):
        if m not in index:
            visit(m)
    return found


def test_no_module_imports_round_a_circle():
    graph = grimp.build_graph("minidcae")
    assert circles(graph) == []


def test_the_contracts_hold():
    done = subprocess.run([str(LINT_IMPORTS)], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:]


def test_a_back_arrow_breaks_the_contracts(tmp_path):
    """A model that imports a recipe: the copy's contracts must fail, naming that import."""
    shutil.copytree(ROOT / "minidcae", tmp_path / "minidcae", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    dcae = tmp_path / "minidcae" / "models" / "dcae.py"
    dcae.write_text(dcae.read_text() + "\nfrom minidcae.recipes.autoencoder import train_ae  # noqa: E402\n")
    env = {"PYTHONPATH": str(tmp_path), "PATH": ""}
    done = subprocess.run([str(LINT_IMPORTS)], cwd=tmp_path, capture_output=True, text=True, env=env)
    assert done.returncode != 0
    assert "minidcae.models.dcae -> minidcae.recipes.autoencoder" in done.stdout


# Words that track our own work rather than say what the code does, in what ships (code, docstrings, notebooks, cards).
TRACKING = re.compile(
    r"\b(issues?|tickets?|tasks?) \d+|\bstop \d+\b", re.IGNORECASE
)  # "issue #77" of another project is a citation


def test_shipped_files_say_what_the_code_does_not_which_work_item_asked():
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    shipped = [f for f in tracked if f.endswith((".py", ".ipynb", ".json", ".md", ".toml", ".cfg")) or f == "Makefile"]
    hits = []
    for f in shipped:
        for n, line in enumerate((ROOT / f).read_text(errors="replace").splitlines(), 1):
            if TRACKING.search(line):
                hits.append(f"{f}:{n}: {line.strip()[:100]}")
    assert hits == [], "\n".join(hits[:20])
