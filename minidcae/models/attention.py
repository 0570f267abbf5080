"""Attention, the quadratic way and the linear way. Tensors are (batch, heads, tokens, head_dim).

    softmax_attention          O_i = sum_j softmax_j(q_i . k_j / sqrt(d)) v_j           O(N^2 d) time, N^2 scores
    sdpa_attention             the same, fused by torch's scaled_dot_product_attention (the model's fast path;
                               softmax_attention stays the readable reference, and a test holds them equal)
    linear_attention           O_i = phi(q_i) S / (phi(q_i) . z),  S = sum_j phi(k_j)^T v_j,  z = sum_j phi(k_j)
                                                                                          O(N d^2) time, d^2 state
    causal_linear_attention    the same with S and z summed over j <= i only: a running state, for streaming
    LinearAttentionState       that running state, one token at a time

phi is ReLU, as in Sana's LiteLA and ACE-Step, and so are the details: the products in float32, the
denominator's eps of 1e-15, and 0 at padded query positions. Softmax attention builds an N x N table of scores;
linear attention replaces exp(q . k) by phi(q) . phi(k), and then the order of the products can
change: (phi(Q) phi(K)^T) V = phi(Q) (phi(K)^T V). The bracket on the right is d x d, whatever N is.

Taught in notebook 06 (linear attention).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from einops import einsum


def softmax_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    key_padding_mask: torch.Tensor | None = None,
    query_padding_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """(B, H, N, d), (B, H, M, d), (B, H, M, e) -> (B, H, N, e). key_padding_mask: (B, M), True = a real key;
    query_padding_mask: (B, N), True = a real query (a padded one outputs 0, as in linear_attention).

    Written out on purpose (torch's scaled_dot_product_attention does the same, fused): the N x M
    score table is what makes this quadratic in memory."""
    # s_ij = q_i . k_j / sqrt(d)
    scores = einsum(q, k, "b h n d, b h m d -> b h n m") / math.sqrt(q.shape[-1])  # (B, H, N, M)
    if key_padding_mask is not None:
        scores = scores.masked_fill(~key_padding_mask[:, None, None, :], float("-inf"))  # padded keys get no weight
    weights = scores.softmax(dim=-1)  # (B, H, N, M): each row sums to 1
    out = einsum(weights, v, "b h n m, b h m e -> b h n e")  # (B, H, N, e)
    return out if query_padding_mask is None else out * query_padding_mask[:, None, :, None]


def sdpa_attention(q, k, v, key_padding_mask=None, query_padding_mask=None) -> torch.Tensor:
    """softmax_attention's arguments and result, through torch.nn.functional.scaled_dot_product_attention:
    one fused call that never keeps the N x M table of weights (flash or memory-efficient kernels on a GPU,
    a blocked loop on a CPU). A boolean attn_mask there means what key_padding_mask means here: True attends."""
    mask = None if key_padding_mask is None else key_padding_mask[:, None, None, :]  # (B, 1, 1, M)
    # O = softmax(Q K^T / sqrt(d) + log(mask)) V
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)  # (B, H, N, e)
    return out if query_padding_mask is None else out * query_padding_mask[:, None, :, None]


def feature_map(x: torch.Tensor) -> torch.Tensor:
    """phi(x) = ReLU(x): non-negative, so phi(q) . phi(k) >= 0 can stand in for exp(q . k)."""
    return F.relu(x)


def _ones_column(v: torch.Tensor) -> torch.Tensor:
    """(..., e) -> (..., e + 1): V padded with a column of ones (Sana's trick).

    phi(q) phi(K)^T [V | 1] = [phi(q) phi(K)^T V | phi(q) phi(K)^T 1]: the numerator and the
    denominator come out of one matrix product."""
    return F.pad(v, (0, 1), value=1.0)


def linear_attention(
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    key_padding_mask: torch.Tensor | None = None,
    eps: float = 1e-15,
    query_padding_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """(B, H, N, d), (B, H, M, d), (B, H, M, e) -> (B, H, N, e), computed in float32, returned in q's dtype.

    O_i = phi(q_i) sum_j phi(k_j)^T v_j / (phi(q_i) . sum_j phi(k_j) + eps). A padded key
    (key_padding_mask (B, M) False) has phi(k_j) set to 0, so it adds nothing to either sum. A
    padded query (query_padding_mask (B, N) False) has phi(q_i) set to 0, so its output is 0 / eps
    = 0; in self-attention pass the same mask as both, as ACE-Step masks Q, K and V together.
    eps = 1e-15, as in Sana and ACE-Step: it is there only to keep 0 / 0 away (a padded query, or
    one that ReLU zeroes entirely, gives 0)."""
    dtype = q.dtype
    q, k, v = feature_map(q.float()), feature_map(k.float()), v.float()  # the sums need float32's range
    if key_padding_mask is not None:
        k = k * key_padding_mask[:, None, :, None]  # (B, H, M, d): padded keys -> 0
    if query_padding_mask is not None:
        q = q * query_padding_mask[:, None, :, None]  # (B, H, N, d): padded queries -> 0
    # S' = phi(K)^T [V | 1]: the d x (e + 1) state, the same for every query
    state = einsum(k, _ones_column(v), "b h m d, b h m e -> b h d e")  # (B, H, d, e + 1)
    out = einsum(q, state, "b h n d, b h d e -> b h n e")  # (B, H, N, e + 1)
    numerator, denominator = out[..., :-1], out[..., -1:]  # (B, H, N, e), (B, H, N, 1)
    return (numerator / (denominator + eps)).to(dtype)


def causal_linear_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, eps: float = 1e-15) -> torch.Tensor:
    """(B, H, N, d) x3 -> (B, H, N, e): token i attends to tokens j <= i only.

    S_i = sum_{j<=i} phi(k_j)^T [v_j | 1] is a running (cumulative) sum: output i never depends
    on a later token, so audio can be produced as it streams. This version keeps every S_i,
    (B, H, N, d, e + 1) numbers: clear, not frugal; LinearAttentionState keeps only the last."""
    dtype = q.dtype
    q, k, v = feature_map(q.float()), feature_map(k.float()), v.float()
    outer = einsum(k, _ones_column(v), "b h n d, b h n e -> b h n d e")  # (B, H, N, d, e + 1): phi(k_j)^T [v_j | 1]
    state = outer.cumsum(dim=2)  # (B, H, N, d, e + 1): S_i
    out = einsum(q, state, "b h n d, b h n d e -> b h n e")  # (B, H, N, e + 1)
    return (out[..., :-1] / (out[..., -1:] + eps)).to(dtype)


class LinearAttentionState:
    """Causal linear attention one token at a time, with a state of d x (e + 1) numbers per head.

    state = LinearAttentionState()
    for t in range(N):
        o_t = state.step(q[:, :, t], k[:, :, t], v[:, :, t])   # each (B, H, d) -> (B, H, e)
    """

    def __init__(self, eps: float = 1e-15):
        self.state, self.eps = None, eps

    def step(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        q, k = feature_map(q.float()), feature_map(k.float())  # (B, H, d)
        update = einsum(k, _ones_column(v.float()), "b h d, b h e -> b h d e")  # (B, H, d, e + 1)
        self.state = update if self.state is None else self.state + update  # S_t = S_{t-1} + phi(k_t)^T [v_t | 1]
        out = einsum(q, self.state, "b h d, b h d e -> b h e")  # (B, H, e + 1)
        return out[..., :-1] / (out[..., -1:] + self.eps)  # (B, H, e)
