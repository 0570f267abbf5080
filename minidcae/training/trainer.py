"""One training loop for every model in the course.

    Trainer(modules, loss_fn, optimize, cfg).fit(next_batch)

- `modules`: named nn.Modules (what a checkpoint holds); `optimize`: loss name -> the module whose
  parameters that loss trains, stepped in order (so a GAN steps its generator, then its critic);
- the device is picked for you (cuda, then mps, then cpu); bf16 autocast on CUDA;
- gradient clipping, an optional EMA copy, a tqdm bar showing loss and seconds of audio per second;
- a CSV and JSON log; checkpoints (safetensors + JSON) every `checkpoint_every` steps, written to a
  temp file and renamed; `resume=True` restores weights, optimiser, EMA, step and RNG state;
- batches are a function of the step (`next_batch(step)`), so a resumed or repeated run sees the
  same data and a seeded run repeats exactly on the same machine.

Each model's losses and phases are its recipe's (train_autoencoder, train_vocoder, train_classifier,
train_transformer); the pieces every recipe shares are minidcae.training.recipe. Taught in notebook 03.
"""

from __future__ import annotations

import copy
import csv
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import default_collate
from tqdm.auto import tqdm

from minidcae.core.checkpoint import load_training_state, save_training_state, write_json
from minidcae.core.config import TrainConfig
from minidcae.core.profiles import pick_device
from minidcae.training import distributed

STATE_FILE = "state.safetensors"


def infinite_batches(dataset, batch_size: int, seed: int = 0):
    """A function step -> batch: epoch e visits the dataset in a permutation drawn from (seed, e).

    Works on a ConcatDataset of several datasets too; a batch keeps the keys all its items share.
    Under torchrun, batch_size is the global batch: each rank takes batch_size / ranks items from
    its own share of the epoch (DistributedSampler), so together the ranks see the whole batch.
    """
    ranks = distributed.world()
    if batch_size % ranks:
        raise ValueError(f"batch_size={batch_size} does not split evenly between {ranks} ranks")
    batch_size //= ranks
    per_epoch = max(1, len(dataset) // ranks // batch_size)
    parts = getattr(dataset, "datasets", [dataset])

    def next_batch(step: int) -> dict:
        epoch, k = divmod(step, per_epoch)
        if ranks > 1:
            order = distributed.rank_indices(len(dataset), epoch, seed)
        else:
            order = np.random.default_rng([seed, epoch]).permutation(len(dataset))
        for part in parts:
            if hasattr(part, "set_epoch"):
                part.set_epoch(epoch)
        items = [dataset[int(order[(k * batch_size + j) % len(order)])] for j in range(batch_size)]
        shared = set.intersection(*(set(item) for item in items))
        return default_collate([{key: item[key] for key in item if key in shared} for item in items])

    return next_batch


def bars_disabled() -> bool:
    """True when TQDM_DISABLE is set to anything but "" / "0" / "false" (CI sets it to 1)."""
    return os.environ.get("TQDM_DISABLE", "").lower() not in ("", "0", "false")


def _to(batch, device):
    return {k: v.to(device) if torch.is_tensor(v) else v for k, v in batch.items()}


class Trainer:
    def __init__(
        self,
        modules: dict,
        loss_fn,
        optimize: dict,
        cfg: TrainConfig,
        out_dir=None,
        device=None,
        seconds_per_item: float = 0.0,
        ema: tuple = (),
        resume: bool = False,
        quiet: bool = False,
        horizon: int | None = None,
    ):
        self.cfg, self.loss_fn, self.quiet = cfg, loss_fn, quiet
        self.horizon = horizon or cfg.steps  # the learning rate decays over this many steps
        self.device = pick_device(distributed.device_for_rank(device))
        self.modules = {name: m.to(self.device) for name, m in modules.items()}
        # the modules the loss calls: under torchrun, a trained one is wrapped in DDP, which averages
        # its gradients over the ranks during backward (the raw module is what checkpoints hold)
        self.calls = dict(self.modules)
        if distributed.world() > 1:
            if len(optimize) > 1:
                raise ValueError(
                    "training with several losses (the adversarial phase) is not supported under torchrun; "
                    "run it with adv_steps=0, or on one process"
                )
            for name, m in self.modules.items():
                if any(m is o for o in optimize.values()) and any(p.requires_grad for p in m.parameters()):
                    self.calls[name] = DistributedDataParallel(m)
        self.optimize = optimize
        # on CUDA one fused kernel updates every parameter (no Python loop over them, no host sync)
        fused = {"fused": True} if self.device.type == "cuda" else {}
        self.optimizers = {
            key: torch.optim.AdamW(
                [p for p in m.parameters() if p.requires_grad],
                lr=cfg.lr,
                weight_decay=cfg.weight_decay,
                betas=(0.9, 0.99),
                **fused,
            )
            for key, m in optimize.items()
        }
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True  # fixed shapes: let cuDNN time its convolution kernels once
        # cfg.compile: the loss (every module's forward and the loss arithmetic) and its backward through
        # torch.compile; the first step compiles (seconds to minutes), later steps run fused kernels
        self.loss_call = torch.compile(loss_fn) if cfg.compile else loss_fn
        self.emas = (
            {name: copy.deepcopy(self.modules[name]).requires_grad_(False) for name in ema} if cfg.ema_decay > 0 else {}
        )
        self.out_dir = Path(out_dir) if out_dir else None
        self.seconds_per_item, self.step, self.history = seconds_per_item, 0, []
        if resume and self.out_dir and (self.out_dir / STATE_FILE).exists():  # every rank resumes
            self.step, extra = load_training_state(
                self.out_dir / STATE_FILE, self.modules, self.optimizers, self.emas, self.device
            )
            self.history = extra.get("history", [])
        if not distributed.is_main():
            self.out_dir, self.quiet = None, True  # only rank 0 logs and writes

    def autocast(self):
        on = self.cfg.bf16 and self.device.type == "cuda"
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16, enabled=on)

    def learning_rate(self, step: int) -> float:
        # cosine decay over the horizon T: lr_t = lr * (r + (1 - r) * (1 + cos(pi * t / T)) / 2)
        r = self.cfg.min_lr_ratio
        return self.cfg.lr * (r + (1 - r) * 0.5 * (1 + math.cos(math.pi * min(step / self.horizon, 1.0))))

    def step_tensors(self, batch: dict, lr: float | None = None) -> dict:
        """One optimisation step; returns the losses as 0-dim tensors, still on the device: reading them
        (float()) waits for the GPU, so fit reads them only every log_every steps."""
        for m in self.modules.values():
            m.train()
        for opt in self.optimizers.values():
            for group in opt.param_groups:
                group["lr"] = lr if lr is not None else self.cfg.lr
        with self.autocast():
            losses = self.loss_call(self.calls, batch)
        for key, opt in self.optimizers.items():  # in order: e.g. generator, then discriminator
            opt.zero_grad(set_to_none=True)
            losses[key].float().backward()
            nn.utils.clip_grad_norm_(self.optimize[key].parameters(), self.cfg.grad_clip)  # no host sync
            opt.step()
        # EMA warm-up: d_t = min(d, (1 + t) / (10 + t)), so the random initial weights fade out fast
        decay = min(self.cfg.ema_decay, (1 + self.step) / (10 + self.step))
        with torch.no_grad():
            for name, ema in self.emas.items():
                # ema <- d * ema + (1 - d) * weights, every parameter in one foreach call
                torch._foreach_lerp_(list(ema.parameters()), list(self.modules[name].parameters()), 1 - decay)
        return {k: v.detach() if torch.is_tensor(v) else torch.tensor(float(v)) for k, v in losses.items()}

    def train_step(self, batch: dict, lr: float | None = None) -> dict:
        """One optimisation step; returns the losses as floats (which waits for the step to finish)."""
        return {k: float(v) for k, v in self.step_tensors(batch, lr).items()}

    def fit(self, next_batch, steps: int | None = None) -> list[dict]:
        total = steps or self.cfg.steps
        # TQDM_DISABLE=1 (set in CI) turns the bar off; quiet=True does so for one run. It is passed
        # explicitly: tqdm.auto's notebook bar ignores the variable and would leave "0/40" frozen
        # in a committed notebook.
        bar = tqdm(
            range(self.step, total),
            initial=self.step,
            total=total,
            desc="train",
            dynamic_ncols=True,
            disable=self.quiet or bars_disabled(),
        )
        last_time, last_step = time.perf_counter(), self.step
        for step in bar:
            batch = _to(next_batch(step), self.device)
            losses = self.step_tensors(batch, self.learning_rate(step))
            self.step = step + 1
            if step % self.cfg.log_every == 0 or self.step == total:
                logs = {k: float(v) for k, v in losses.items()}  # the only host sync: once per log_every steps
                now = time.perf_counter()
                seconds = (now - last_time) / (self.step - last_step)  # per step, averaged since the last log
                last_time, last_step = now, self.step
                items = len(next(v for v in batch.values() if torch.is_tensor(v)))  # the batch size
                audio_rate = self.seconds_per_item * items / seconds
                bar.set_postfix(loss=f"{logs[next(iter(self.optimizers))]:.4f}", audio_s_per_s=f"{audio_rate:.1f}")
                self.history.append(
                    {
                        "step": self.step,
                        **logs,
                        "lr": self.learning_rate(step),
                        "step_seconds": seconds,
                        "audio_s_per_s": audio_rate,
                    }
                )
            if self.out_dir and (self.step % self.cfg.checkpoint_every == 0 or self.step == total):
                self.save()
        return self.history

    def save(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        save_training_state(
            self.out_dir / STATE_FILE, self.modules, self.optimizers, self.emas, self.step, {"history": self.history}
        )
        write_json(self.out_dir / "log.json", self.history)
        keys = sorted({k for row in self.history for k in row}, key=lambda k: (k != "step", k))
        with open(self.out_dir / "log.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, keys)
            writer.writeheader()
            writer.writerows(self.history)
