"""pyproject.toml names the packages and the version ranges the library works with; constraints.txt pins
the exact versions `make test` runs with (the notebooks' committed outputs come from them); environment.yml
(conda) repeats those pins. Here the three must agree."""

import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def requirements(group: str | None = None) -> dict[str, Requirement]:
    """pyproject's requirements by canonical name: the library's (group None), one extra's, or ("all") every one."""
    if group == "all":
        lists = [PROJECT["dependencies"], *PROJECT["optional-dependencies"].values()]
    elif group is None:
        lists = [PROJECT["dependencies"]]
    else:
        lists = [PROJECT["optional-dependencies"][group]]
    return {canonicalize_name(r.name): r for r in (Requirement(line) for lines in lists for line in lines)}


def constraint_lines() -> list[str]:
    lines = (ROOT / "constraints.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def constraint_pins() -> dict[str, str]:
    return {canonicalize_name(name): version for name, version in (line.split("==") for line in constraint_lines())}


def conda_pins() -> tuple[dict[str, str], str]:
    text = (ROOT / "environment.yml").read_text()
    pins = re.findall(r"^\s+- ([A-Za-z0-9_.-]+)==(\S+)\s*$", text, re.M)
    python = re.search(r"^\s+- python=(\S+)\s*$", text, re.M).group(1)
    return {canonicalize_name(name): version for name, version in pins}, python


def test_every_constraint_is_one_exact_pin_of_a_package_named_once():
    names = []
    for line in constraint_lines():
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.+]*", line), (
            f"constraints.txt: not name==version: {line}"
        )
        names.append(canonicalize_name(line.split("==")[0]))
    assert len(names) == len(set(names)), "constraints.txt pins a package twice"


def test_every_package_pyproject_names_is_pinned_in_the_constraints():
    missing = sorted(set(requirements("all")) - set(constraint_pins()))
    assert not missing, f"pyproject.toml names {missing}, which constraints.txt does not pin"


def test_every_pin_falls_inside_pyprojects_range():
    pins = constraint_pins()
    for name, req in requirements("all").items():
        assert Version(pins[name]) in req.specifier, f"constraints.txt pins {name}=={pins[name]} outside {req}"


def test_pyproject_states_ranges_not_pins():
    # an exact pin in pyproject.toml would make pip replace the torch a GPU machine or a hosted notebook brings
    for req in requirements("all").values():
        assert not any(s.operator in ("==", "===") for s in req.specifier), f"pyproject.toml pins {req}: give a range"
        assert any(s.operator == ">=" for s in req.specifier), f"pyproject.toml: {req} has no lower bound"


def test_conda_repeats_the_constraints_for_every_package_pyproject_names():
    pins, python = conda_pins()
    expected = {name: constraint_pins()[name] for name in requirements("all")}
    assert pins == expected
    assert python == "3.11"  # the Python constraints.txt was made on


def test_requires_python_admits_the_pinned_python_and_the_ones_gpus_have():
    allowed = SpecifierSet(PROJECT["requires-python"])
    assert all(v in allowed for v in ("3.11.0", "3.12.0", "3.13.0"))
    assert "3.10.12" not in allowed and "3.14.0" not in allowed


def test_the_library_installs_without_jupyter_and_dev_holds_every_extra():
    assert not {"jupyterlab", "ipywidgets", "pesq"} & set(requirements()), "keep Jupyter and PESQ in extras"
    dev = requirements("dev")
    for extra in ("notebook", "speech"):
        for name, req in requirements(extra).items():
            assert name in dev and dev[name].specifier == req.specifier, f"the dev extra lacks {req} (from {extra})"


def test_torch_and_torchaudio_pins_are_a_matching_pair():
    pins = constraint_pins()
    assert pins["torch"] == pins["torchaudio"]


def installed(name: str) -> Version | None:
    try:
        return Version(importlib.metadata.version(name))
    except importlib.metadata.PackageNotFoundError:
        return None


def test_what_is_installed_here_falls_inside_pyprojects_ranges():
    # any environment: make's .venv, the CI's Python 3.12 one with its own torch, a GPU machine's
    for name, req in requirements().items():
        version = installed(name)
        assert version is None or version in req.specifier, f"{name} {version} is installed here, outside {req}"


def test_makes_venv_holds_exactly_the_pinned_versions():
    # Only where the pinned torch is installed on Python 3.11, as `make` installs it; another torch means an
    # environment that was never meant to follow the constraints (a GPU machine's, CI's second venv).
    pins = constraint_pins()
    if sys.version_info[:2] != (3, 11) or str(installed("torch")) != pins["torch"]:
        pytest.skip(
            f"Python {sys.version.split()[0]}, torch {installed('torch')}: not an environment made from the pins"
        )
    wrong = {name: str(installed(name)) for name in pins if installed(name) not in (None, Version(pins[name]))}
    assert not wrong, f"installed here, not at constraints.txt's pins: {wrong} (rm .venv/.installed; make venv)"
