"""Fixtures several test files share."""

import os

import pytest


@pytest.fixture
def train_ae_cli():
    """A quiet `minidcae train-ae --profile ci` in a subprocess, for a launcher (python or torchrun) to start:
    (out folder, *settings) -> the arguments after the launcher, and the environment to run it in."""

    def args(out, *settings):
        return ["-m", "minidcae", "train-ae", "--profile", "ci", "--out", str(out), *settings]

    return args, {**os.environ, "OMP_NUM_THREADS": "1", "TQDM_DISABLE": "1"}
