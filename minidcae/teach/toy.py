"""A 2D playground for flow matching (notebook 07): points on a ring of Gaussians, a small MLP.

    ring                 n points from `modes` Gaussians evenly spaced on a circle
    ToyVelocity          (x (B, 2), t) -> velocity (B, 2): an MLP that also reads t
    train_toy            flow matching on ring samples, a few hundred steps on a CPU
    mode_report          how many samples land near a mode, and how evenly the modes are covered

Two numbers per sample means every step can be drawn: noise, a half-formed cloud, the ring.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

from minidcae.training.flow_matching import flow_matching_loss


def ring_centres(modes: int = 8, radius: float = 2.0) -> torch.Tensor:
    angle = 2 * math.pi * torch.arange(modes) / modes  # (modes,)
    return radius * torch.stack((angle.cos(), angle.sin()), dim=1)  # (modes, 2)


def ring(
    n: int, modes: int = 8, radius: float = 2.0, std: float = 0.1, generator: torch.Generator | None = None
) -> torch.Tensor:
    """(n, 2) points: a random mode each, plus Gaussian noise of `std`."""
    which = torch.randint(0, modes, (n,), generator=generator)  # (n,)
    return ring_centres(modes, radius)[which] + std * torch.randn(n, 2, generator=generator)  # (n, 2)


class ToyVelocity(nn.Module):
    def __init__(self, hidden: int = 128):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(3, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, hidden),
            nn.SiLU(),
            nn.Linear(hidden, 2),
        )

    def forward(self, x: torch.Tensor, t) -> torch.Tensor:
        t = torch.as_tensor(t, dtype=x.dtype).expand(x.shape[0])  # (B,)
        return self.net(torch.cat((x, t[:, None]), dim=1))  # (B, 2)


def train_toy(steps: int = 1500, batch: int = 512, lr: float = 3e-3, seed: int = 0) -> tuple[ToyVelocity, list[float]]:
    """A ToyVelocity trained by flow matching on fresh ring samples each step; returns (model, losses)."""
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    model = ToyVelocity()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        loss = flow_matching_loss(model, ring(batch, generator=g), generator=g)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return model.eval(), losses


def mode_report(x: torch.Tensor, modes: int = 8, radius: float = 2.0, within: float = 0.3) -> dict:
    """Share of points within `within` of some mode centre, and each mode's share of those points."""
    d = torch.cdist(x, ring_centres(modes, radius))  # (n, modes)
    nearest, which = d.min(dim=1)  # (n,), (n,)
    hit = nearest < within
    counts = torch.bincount(which[hit], minlength=modes).float()  # (modes,)
    return {
        "near_a_mode": float(hit.float().mean()),
        "modes_hit": int((counts > 0).sum()),
        "mode_shares": (counts / counts.sum().clamp(min=1)).tolist(),
    }
