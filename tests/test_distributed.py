"""Several processes: torchrun with 2 CPU ranks (gloo) trains, and the ranks end with identical weights."""

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from minidcae.training.distributed import rank_indices, replicas_agree


def test_the_ranks_split_each_epoch_between_them():
    a, b = rank_indices(10, epoch=3, seed=0, of_rank=0, ranks=2), rank_indices(10, epoch=3, seed=0, of_rank=1, ranks=2)
    assert sorted(a + b) == list(range(10)) and len(a) == len(b) == 5
    assert rank_indices(10, epoch=4, seed=0, of_rank=0, ranks=2) != a  # a new shuffle each epoch


def _check(rank, port, same_seed, out):
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    torch.manual_seed(0 if same_seed else rank)
    agree = replicas_agree(torch.nn.Linear(4, 3))
    if rank == 0:
        Path(out).write_text(json.dumps(agree))
    dist.destroy_process_group()


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("same_seed", [True, False])
def test_the_replica_check_can_tell_identical_from_different_weights(tmp_path, same_seed):
    out = tmp_path / "agree.json"
    mp.spawn(_check, args=(_free_port(), same_seed, str(out)), nprocs=2)
    assert json.loads(out.read_text()) is same_seed


def _torchrun_train_ae(train_ae_cli, out, *settings):
    """train-ae on two CPU ranks under torchrun, finished."""
    args, env = train_ae_cli
    torchrun = Path(sys.executable).with_name("torchrun")
    cmd = [str(torchrun), "--nproc_per_node", "2", "--master_port", str(_free_port()), *args(out, *settings)]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def test_torchrun_trains_on_two_cpu_ranks_and_they_end_identical(tmp_path, train_ae_cli):
    done = _torchrun_train_ae(train_ae_cli, tmp_path / "ae", "steps=4", "adv_steps=0", "--skip-eval")
    assert done.returncode == 0, done.stderr[-2000:]
    info = json.loads((tmp_path / "ae" / "autoencoder.json").read_text())["info"]
    assert info["world_size"] == 2 and info["replicas_identical"] is True
    assert info["command"].startswith("torchrun --nproc_per_node 2 -m minidcae train-ae")
    assert done.stdout.count("wrote ") == 1  # rank 0 alone reports and writes


def test_the_adversarial_phase_is_refused_under_torchrun_in_one_line(tmp_path, train_ae_cli):
    done = _torchrun_train_ae(train_ae_cli, tmp_path / "ae", "steps=2", "adv_steps=2")
    assert done.returncode != 0 and "adv_steps=0" in done.stderr
