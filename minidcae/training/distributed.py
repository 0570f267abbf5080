"""Training on several processes with torchrun and DistributedDataParallel; rank 0 writes.

    torchrun --nproc_per_node 2 -m minidcae train-ae --profile cpu --out runs/ae adv_steps=0

    init             read torchrun's RANK, WORLD_SIZE and LOCAL_RANK; nccl on CUDA, gloo on CPU
    rank / world     this process's number and how many there are (0 and 1 without torchrun)
    is_main          rank 0: the only one that prints, logs and writes checkpoints
    device_for_rank  cuda:LOCAL_RANK on a GPU machine, else cpu
    rank_indices     this rank's share of an epoch, from torch's DistributedSampler
    replicas_agree   all ranks compare a checksum of their weights: True if they all hold the same

Every rank builds the same model from the same seed; DDP also copies rank 0's weights to all at
the start, and averages the gradients during every backward pass, so the ranks stay identical.
Each rank sees a different part of every batch: the global batch is split between the ranks.

Taught in notebook 03 (training for real); the README shows the torchrun commands.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist
from torch.utils.data.distributed import DistributedSampler


def launched() -> bool:
    """True when torchrun started this process with more than one rank."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def init() -> None:
    """Join the process group torchrun set up (no-op without torchrun or when already joined)."""
    if not launched() or dist.is_initialized():
        return
    backend = "nccl" if torch.cuda.is_available() else "gloo"
    if backend == "nccl":
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    dist.init_process_group(backend)


def rank() -> int:
    return dist.get_rank() if dist.is_initialized() else 0


def world() -> int:
    return dist.get_world_size() if dist.is_initialized() else 1


def is_main() -> bool:
    return rank() == 0


def device_for_rank(requested: str | None = None) -> str | None:
    """Under torchrun on CUDA each rank takes its own GPU; otherwise the device asked for."""
    if dist.is_initialized() and torch.cuda.is_available() and requested in (None, "cuda"):
        return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
    return requested


def rank_indices(length: int, epoch: int, seed: int, of_rank: int | None = None, ranks: int | None = None) -> list[int]:
    """A rank's indices of an epoch (this rank's by default): a shuffle drawn from (seed, epoch),
    split evenly between the ranks (the last few indices repeat if the length does not divide)."""
    sampler = DistributedSampler(
        range(length),
        num_replicas=ranks or world(),
        rank=rank() if of_rank is None else of_rank,
        shuffle=True,
        seed=seed,
    )
    sampler.set_epoch(epoch)
    return list(sampler)


@torch.no_grad()
def replicas_agree(module: torch.nn.Module) -> bool:
    """All-gather a checksum of the weights (float64 sum of every parameter times a fixed pattern)."""
    if not dist.is_initialized():
        return True
    flat = torch.cat([p.detach().double().flatten() for p in module.state_dict().values() if p.is_floating_point()])
    weights = torch.arange(1, flat.numel() + 1, dtype=torch.float64, device=flat.device).remainder(97)
    checksum = (flat * weights).sum().reshape(1)  # one number that almost any difference changes
    if dist.get_backend() == "nccl":
        checksum = checksum.cuda()
    gathered = [torch.zeros_like(checksum) for _ in range(world())]
    dist.all_gather(gathered, checksum)
    return all(torch.equal(g, gathered[0]) for g in gathered)
