"""Attention: linear attention against its formula evaluated term by term, causal against prefixes."""

import inspect

import torch
import torch.nn.functional as F

from minidcae.models.attention import (
    LinearAttentionState,
    causal_linear_attention,
    linear_attention,
    sdpa_attention,
    softmax_attention,
)


def qkv(b=2, h=3, n=7, d=4, e=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return (
        torch.randn(b, h, n, d, generator=g),
        torch.randn(b, h, n, d, generator=g),
        torch.randn(b, h, n, e, generator=g),
    )


def test_linear_attention_equals_its_formula_term_by_term():
    q, k, v = qkv()
    out = linear_attention(q, k, v, eps=1e-6)
    phi_q, phi_k = q.relu(), k.relu()
    expected = torch.zeros_like(out)
    for b in range(q.shape[0]):
        for h in range(q.shape[1]):
            for i in range(q.shape[2]):
                weights = [float(phi_q[b, h, i] @ phi_k[b, h, j]) for j in range(k.shape[2])]  # phi(q_i) . phi(k_j)
                numerator = sum(w * v[b, h, j] for j, w in enumerate(weights))
                expected[b, h, i] = numerator / (sum(weights) + 1e-6)
    assert torch.allclose(out, expected, atol=1e-5)
    # a query with no positive entry has phi(q) = 0: it sees nothing and returns 0, not NaN
    dead = (q <= 0).all(dim=-1)
    assert dead.any() and (out[dead] == 0).all()


def test_a_padded_key_changes_nothing():
    q, k, v = qkv(n=6)
    mask = torch.tensor([[True] * 4 + [False] * 2, [True] * 6])
    masked = linear_attention(q, k, v, key_padding_mask=mask)
    assert torch.allclose(masked[0], linear_attention(q[:1], k[:1, :, :4], v[:1, :, :4])[0], atol=1e-6)
    assert torch.allclose(masked[1], linear_attention(q[1:], k[1:], v[1:])[0], atol=1e-6)
    soft = softmax_attention(q, k, v, key_padding_mask=mask)
    assert torch.allclose(soft[0], softmax_attention(q[:1], k[:1, :, :4], v[:1, :, :4])[0], atol=1e-6)


def ace_step_lite_la(q, k, v, mask):
    """ACE-Step's CustomLiteLAProcessor2_0 (Sana's LiteLA) in its own layout: query and value
    (B, H, d, N), key (B, H, N, d); one mask on Q, K and V; ReLU; float32; V padded with a row of
    ones; (V K) Q; the last row divides, + 1e-15."""
    query, key, value = q.transpose(-1, -2), k, v.transpose(-1, -2)
    m = mask[:, None, :, None].to(key.dtype)  # (B, 1, N, 1)
    query, key, value = query * m.permute(0, 1, 3, 2), key * m, value * m.permute(0, 1, 3, 2)
    query, key = F.relu(query).float(), F.relu(key).float()
    value = F.pad(value.float(), (0, 0, 0, 1), mode="constant", value=1.0)  # (B, H, e + 1, N)
    hidden = torch.matmul(torch.matmul(value, key), query)  # (B, H, e + 1, N)
    hidden = hidden[:, :, :-1] / (hidden[:, :, -1:] + 1e-15)  # (B, H, e, N)
    return hidden.transpose(-1, -2)  # (B, H, N, e)


def test_linear_attention_matches_ace_step_lite_la_padding_included():
    q, k, v = qkv(n=9, d=4, e=4)
    mask = torch.tensor([[True] * 6 + [False] * 3, [True] * 9])
    ours = linear_attention(q, k, v, key_padding_mask=mask, query_padding_mask=mask)
    assert torch.allclose(ours, ace_step_lite_la(q, k, v, mask), rtol=1e-5, atol=1e-6)
    assert (ours[0, :, 6:] == 0).all()  # padded query positions give exactly 0
    assert torch.allclose(
        linear_attention(q, k, v), ace_step_lite_la(q, k, v, torch.ones(2, 9, dtype=torch.bool)), rtol=1e-5, atol=1e-6
    )
    # eps 1e-15 everywhere, as upstream: linear, causal linear and the streaming state
    for fn in (linear_attention, causal_linear_attention, LinearAttentionState.__init__):
        assert inspect.signature(fn).parameters["eps"].default == 1e-15
    soft = softmax_attention(q, k, v, key_padding_mask=mask, query_padding_mask=mask)
    assert (soft[0, :, 6:] == 0).all() and torch.equal(soft[1], softmax_attention(q, k, v)[1])


def test_softmax_attention_matches_torch():
    q, k, v = qkv(e=4)
    assert torch.allclose(softmax_attention(q, k, v), F.scaled_dot_product_attention(q, k, v), atol=1e-5)


def test_the_fused_path_equals_the_written_out_reference_masks_included():
    q, k, v = qkv(n=9, d=4, e=4)
    mask = torch.tensor([[True] * 6 + [False] * 3, [True] * 9])
    for keys, queries in ((None, None), (mask, None), (mask, mask)):
        ours = softmax_attention(q, k, v, key_padding_mask=keys, query_padding_mask=queries)
        fused = sdpa_attention(q, k, v, key_padding_mask=keys, query_padding_mask=queries)
        assert torch.allclose(fused, ours, atol=1e-5)
    # cross-attention shapes: 9 queries, 3 keys of which the last is padding
    short = torch.tensor([[True, True, False], [True, False, False]])
    ours = softmax_attention(q, k[:, :, :3], v[:, :, :3], key_padding_mask=short)
    assert torch.allclose(sdpa_attention(q, k[:, :, :3], v[:, :, :3], key_padding_mask=short), ours, atol=1e-5)
    # one real key: every query copies its value exactly (hand-worked: the softmax over one number is 1)
    assert torch.allclose(ours[1], v[1, :, :1].expand(-1, 9, -1), atol=1e-6)


def test_a_softmax_model_gives_the_same_velocity_on_either_path():
    from dataclasses import replace

    from minidcae.core.config import TransformerConfig
    from minidcae.models.text import tokenize
    from minidcae.models.transformer import LatentTransformer, SelfAttention

    torch.manual_seed(0)
    cfg = TransformerConfig(latent_channels=2, latent_rows=3, dim=32, depth=2, heads=2)
    model = LatentTransformer(replace(cfg, attention="softmax"))
    with torch.no_grad():  # leave the zero start, so the attention's output reaches the velocity
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    x, (ids, ids_mask) = torch.randn(2, 2, 3, 11), tokenize(["happy piano", ""])
    frames = torch.tensor([[True] * 8 + [False] * 3, [True] * 11])
    fused = model(x, torch.tensor([0.2, 0.7]), ids, ids_mask, frames)
    for m in model.modules():
        if isinstance(m, SelfAttention):
            m.fused = False
    written = model(x, torch.tensor([0.2, 0.7]), ids, ids_mask, frames)
    assert fused.abs().max() > 1e-3 and torch.allclose(fused, written, atol=1e-5)


def test_causal_output_i_is_the_full_output_of_the_prefix_up_to_i():
    q, k, v = qkv(n=9)
    causal = causal_linear_attention(q, k, v)
    for i in range(9):
        prefix = linear_attention(q[:, :, : i + 1], k[:, :, : i + 1], v[:, :, : i + 1])
        assert torch.allclose(causal[:, :, i], prefix[:, :, i], atol=1e-5)
    # and the future never leaks back: changing the last token leaves every earlier output alone
    k2 = k.clone()
    k2[:, :, -1] += 10
    assert torch.equal(causal_linear_attention(q, k2, v)[:, :, :-1], causal[:, :, :-1])


def test_streaming_state_gives_the_causal_outputs_one_token_at_a_time():
    q, k, v = qkv(n=8)
    state = LinearAttentionState()
    steps = torch.stack([state.step(q[:, :, t], k[:, :, t], v[:, :, t]) for t in range(8)], dim=2)
    assert torch.allclose(steps, causal_linear_attention(q, k, v), atol=1e-5)
    assert state.state.shape == (2, 3, 4, 6)  # d x (e + 1) per head, whatever the number of tokens


def test_low_precision_input_is_summed_in_float32():
    q, k, v = qkv(n=64)
    out = linear_attention(q.bfloat16(), k.bfloat16(), v.bfloat16())
    assert out.dtype == torch.bfloat16
    reference = linear_attention(q.bfloat16().float(), k.bfloat16().float(), v.bfloat16().float())
    assert torch.allclose(out.float(), reference, atol=2e-2)
