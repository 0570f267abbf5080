"""Normalisation layers that stay in bfloat16 under autocast: GroupNorm, LayerNorm, RMSNorm.

Each is torch's own layer (same parameters, same state_dict, same numbers outside autocast). Under CUDA
autocast torch would run group_norm and layer_norm in float32: every normalised activation is written
out again as a float32 copy, twice the bytes, and the next convolution or matrix product casts it back.
rms_norm with a bfloat16 input and a float32 weight cannot use its fused kernel at all ("Mismatch dtype
between input and weight"). Here the weight is cast to the activation's dtype instead, so the fused
bfloat16 kernel runs.

This is safe because the kernels accumulate the mean and the variance in float32 whatever the input
dtype (their accumulation type for bfloat16 is float); only the normalised output is rounded to
bfloat16, which is the dtype the next layer computes in anyway.

Used by the DCAE (GroupNorm), the vocoder (LayerNorm) and the latent transformer (RMSNorm);
measured in tools/gpu_check.py (bf16 against fp32 samples per second).
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F


def autocast_dtype(x: torch.Tensor) -> torch.dtype | None:
    """The dtype autocast computes in on x's device, or None when autocast is off there."""
    kind = x.device.type
    if kind not in ("cuda", "cpu", "mps", "xpu"):  # e.g. "meta", where a model is sized without memory
        return None
    return torch.get_autocast_dtype(kind) if torch.is_autocast_enabled(kind) else None


class StayInAutocastDtype:
    """What GroupNorm and LayerNorm share: torch's own forward outside autocast; inside it, `normalize` on the
    input and the weights cast to the autocast dtype, with autocast off (it would run the norm in float32)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = autocast_dtype(x)
        if dtype is None:
            return super().forward(x)
        with torch.autocast(x.device.type, enabled=False):
            return self.normalize(x.to(dtype), self.weight.to(dtype), self.bias.to(dtype))


class GroupNorm(StayInAutocastDtype, nn.GroupNorm):
    def normalize(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return F.group_norm(x, self.num_groups, weight, bias, self.eps)


class LayerNorm(StayInAutocastDtype, nn.LayerNorm):
    def normalize(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, self.normalized_shape, weight, bias, self.eps)


class RMSNorm(nn.RMSNorm):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dtype = autocast_dtype(x)
        if dtype is None:
            return super().forward(x)
        # a bfloat16 input with a float32 weight misses the fused kernel: cast the weight, not the input
        return F.rms_norm(x.to(dtype), self.normalized_shape, self.weight.to(dtype), self.eps)
