"""environment.yml (conda) and pyproject.toml (pip) must pin the same packages at the same versions."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def pyproject_pins() -> dict:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = project["dependencies"] + [p for extra in project["optional-dependencies"].values() for p in extra]
    return dict(p.split("==") for p in pins)


def conda_pins() -> tuple[dict, str]:
    text = (ROOT / "environment.yml").read_text()
    pins = dict(re.findall(r"^\s+- ([A-Za-z0-9_.-]+)==(\S+)\s*$", text, re.M))
    python = re.search(r"^\s+- python=(\S+)\s*$", text, re.M).group(1)
    return pins, python


def test_every_pin_is_exact():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for pin in project["dependencies"] + project["optional-dependencies"]["dev"]:
        assert re.fullmatch(r"[A-Za-z0-9_.-]+==[0-9][0-9A-Za-z.]*", pin), pin


def test_conda_and_pip_agree_on_packages_and_versions():
    pins, python = conda_pins()
    assert pins == pyproject_pins()
    assert python == "3.11"


def test_torch_and_torchaudio_are_a_matching_pair():
    pins = pyproject_pins()
    assert pins["torch"] == pins["torchaudio"] == "2.9.1"
