import math
import re

import numpy as np
import pytest
import soundfile as sf
import torch
import torch.nn.functional as F
from minidcae.measure.metrics import embedding_distances, kernel_audio_distance

from minidcae.core.config import SHIPPED_CLAP, ClapConfig
from minidcae.core.profiles import get_profile
from minidcae.models.clap import (
    MiniClap,
    chance_metrics,
    clap_score,
    info_nce,
    load_clap,
    retrieval_metrics,
    search_folder,
)
from minidcae.models.phrasings import (
    DRUM_PHRASES,
    HELDOUT_PAIRINGS,
    HELDOUT_TEMPLATES,
    MOOD_WORDS,
    PHRASE_ID,
    PHRASE_VOCAB,
    TRAIN_TEMPLATES,
    describe,
    heldout_combinations,
)
from minidcae.models.text import tokenize, unknown_words, words_of
from minidcae.sound.synth import synth_clip

SMALL = ClapConfig(audio_widths=(8, 8, 8, 8), audio_width=16, text_width=16, text_layers=1, embed_dim=8)


def test_info_nce_matches_a_hand_computation():
    a = F.normalize(torch.tensor([[1.0, 0.0], [0.6, 0.8]]), dim=-1)
    t = F.normalize(torch.tensor([[0.8, 0.6], [0.0, 1.0]]), dim=-1)
    scale = torch.tensor(10.0)
    s = 10 * np.array([[0.8, 0.0], [0.96, 0.8]])  # scale * a_i . t_j, by hand
    rows = [-math.log(math.exp(s[i, i]) / np.exp(s[i]).sum()) for i in range(2)]  # audio -> text
    cols = [-math.log(math.exp(s[j, j]) / np.exp(s[:, j]).sum()) for j in range(2)]  # text -> audio
    assert float(info_nce(a, t, scale)) == pytest.approx((np.mean(rows) + np.mean(cols)) / 2, rel=1e-5)


def test_retrieval_metrics_match_hand_worked_ranks_in_both_directions():
    # row = audio, column = text. Audio -> text ranks (0-based): row 0: 0; row 1: text 0 and 2 beat 0.5 -> 2;
    # row 2: text 1 (0.9) beats 0.3 -> 1. Text -> audio: column 0: 0; column 1: audio 2 (0.9) beats 0.5 -> 1;
    # column 2: audio 1 (0.6) beats 0.3 -> 1.
    s = torch.tensor([[0.9, 0.1, 0.2], [0.7, 0.5, 0.6], [0.0, 0.9, 0.3]])
    m = retrieval_metrics(s)
    a2t, t2a = m["audio_to_text"], m["text_to_audio"]
    assert a2t["R@1"] == pytest.approx(1 / 3) and t2a["R@1"] == pytest.approx(1 / 3)
    assert a2t["mean_rank"] == pytest.approx(1 + (0 + 2 + 1) / 3)
    assert t2a["mean_rank"] == pytest.approx(1 + (0 + 1 + 1) / 3)
    assert a2t["median_rank"] == 2 and t2a["median_rank"] == 2
    assert a2t["mAP@10"] == pytest.approx((1 + 1 / 3 + 1 / 2) / 3)
    assert t2a["mAP@10"] == pytest.approx((1 + 1 / 2 + 1 / 2) / 3)
    assert a2t["R@5"] == 1.0 and t2a["R@10"] == 1.0
    # ties count against the model: a constant matrix ranks every right answer last
    flat = retrieval_metrics(torch.ones(4, 4))
    assert flat["text_to_audio"]["R@1"] == 0 and flat["audio_to_text"]["mean_rank"] == 4


def test_chance_metrics_match_a_random_ranking_simulated():
    n = 72
    rng = np.random.default_rng(0)
    ranks = torch.tensor(np.concatenate([rng.permutation(n) for _ in range(300)]))  # uniform on 0..n-1
    from minidcae.models.clap import _figures

    simulated, chance = _figures(ranks), chance_metrics(n)
    for key in ("R@1", "R@5", "R@10", "mAP@10"):
        assert simulated[key] == pytest.approx(chance[key], abs=0.01), key
    assert simulated["mean_rank"] == pytest.approx(chance["mean_rank"], rel=0.01)
    assert chance["median_rank"] == 36  # floor(median of 0..71 = 35.5) + 1


def test_phrasing_splits_are_disjoint_and_every_heldout_word_is_a_training_word():
    assert not set(TRAIN_TEMPLATES) & set(HELDOUT_TEMPLATES)
    labels = [synth_clip(s, 0.5)[1] for s in range(40)]
    rng = np.random.default_rng(0)
    train = {describe(lab, rng, "train") for lab in labels for _ in range(60)}
    heldout = {describe(lab, rng, "heldout", complete=True) for lab in labels for _ in range(20)}
    assert not train & heldout
    train_words = {w for p in train for w in words_of(p)}
    heldout_words = {w for p in heldout for w in words_of(p)}
    assert heldout_words - {str(b) for b in range(60, 181)} <= train_words
    assert not unknown_words(" ".join(train | heldout), PHRASE_ID)
    # every phrasing keeps mood and instrument; held-out pairings never appear in training
    for p, lab in [(describe(lab, rng, "train"), lab) for lab in labels]:
        words = words_of(p)
        assert lab.instrument in words and set(words) & set(MOOD_WORDS[lab.mode])
    # each held-out (template, mood word) pairing, written as the pattern only that pairing makes
    instrument = "(piano|violin|guitar|flute|organ|bass)"
    patterns = [
        rf"^joyful {instrument}",
        r"^a sombre tune",
        rf"^{instrument}, bright",
        r"^melancholy music",
        "sounds cheerful",
    ]
    assert len(patterns) == len(HELDOUT_PAIRINGS)
    for pattern in patterns:
        assert not any(re.search(pattern, p) for p in train), pattern
        assert any(re.search(pattern, p) for p in heldout), pattern
    assert PHRASE_VOCAB[:3] == ("<pad>", "<unk>", "<empty>") and len(set(PHRASE_VOCAB)) == len(PHRASE_VOCAB)
    assert "with" in PHRASE_VOCAB and all(w in PHRASE_VOCAB for p in DRUM_PHRASES[True] for w in p.split())


def test_tokenize_over_the_phrase_vocabulary_pads_masks_and_marks_unknown_words():
    ids, mask = tokenize(["happy piano", "sad violin, slow, with drums", ""], PHRASE_ID, 16)
    assert ids.shape == mask.shape == (3, 5)
    assert mask.sum(1).tolist() == [2, 5, 1]
    assert ids[0, 0] == PHRASE_VOCAB.index("happy") and ids[2, 0] == PHRASE_VOCAB.index("<empty>")
    assert tokenize(["happy kazoo"], PHRASE_ID)[0][0, 1] == PHRASE_VOCAB.index("<unk>")
    assert unknown_words("happy kazoo, loud", PHRASE_ID) == ["kazoo", "loud"]
    assert unknown_words("happy piano. sad; violin", PHRASE_ID) == []  # full stops and semicolons split words


def test_embeddings_are_unit_vectors_and_padding_does_not_change_a_prompt():
    torch.manual_seed(0)
    model = MiniClap(SMALL).eval()
    with torch.no_grad():
        a = model.embed_audio(torch.randn(3, 1, 64, 40))  # (3, E)
        alone = model.embed_text(["happy piano"])
        padded = model.embed_text(["happy piano", "sad violin, slow, with drums"])
    assert a.shape == (3, 8) and torch.allclose(a.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert torch.allclose(alone[0], padded[0], atol=1e-5)
    tokens, mask = model.text_tokens(["happy piano", "sad violin, slow"])
    assert tokens.shape == (2, 3, 16) and mask.tolist() == [[True, True, False], [True] * 3]
    # the temperature starts at 0.07 and is clamped at 1 / 100
    assert float(1 / model.scale().detach()) == pytest.approx(0.07, rel=1e-5)
    with torch.no_grad():
        model.logit_scale.fill_(10.0)
    assert float(model.scale().detach()) == pytest.approx(100.0)


def test_heldout_combinations_cover_every_label_combination_once():
    combos = heldout_combinations(1_000_000)
    keys = {
        (c["instrument"], c["mode"], c["drums"], 0 if c["tempo"] < 90 else 1 if c["tempo"] < 140 else 2) for c in combos
    }
    assert len(combos) == len(keys) == 72 and all(60 <= c["tempo"] <= 180 for c in combos)


def test_a_tiny_training_run_lowers_the_loss_and_its_card_holds_retrieval(tmp_path):
    from minidcae.recipes.clap import train_clap
    from minidcae.training.recipe import Run

    torch.set_num_threads(1)
    profile = get_profile("ci")
    path = train_clap(tmp_path, profile, Run(overrides={"steps": "12", "n_clips": "24"}, quiet=True))
    model, meta = load_clap(path)
    info = meta["info"]
    assert info["last_loss"] < info["first_loss"]
    report = info["retrieval"]
    assert report["clips"] == 72 and report["chance"]["R@1"] == pytest.approx(1 / 72)
    for split in ("heldout_phrasings", "train_phrasings"):
        assert set(report[split]) >= {"text_to_audio", "audio_to_text"}


def test_kad_is_near_zero_for_one_distribution_grows_with_a_shift_and_matches_a_double_loop():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(200, 4, generator=g), torch.randn(200, 4, generator=g)
    same = kernel_audio_distance(a, b)
    assert abs(same) < 0.01
    shifts = [kernel_audio_distance(a, b + s) for s in (0.5, 1.0, 2.0)]
    assert same < shifts[0] < shifts[1] < shifts[2]
    x, y, sigma = a[:5], b[:4] + 0.3, 1.3

    def k(u, v):
        return math.exp(-float(((u - v) ** 2).sum()) / (2 * sigma**2))

    xx = sum(k(x[i], x[j]) for i in range(5) for j in range(5) if i != j) / 20
    yy = sum(k(y[i], y[j]) for i in range(4) for j in range(4) if i != j) / 12
    xy = sum(k(x[i], y[j]) for i in range(5) for j in range(4)) / 20
    assert kernel_audio_distance(x, y, sigma) == pytest.approx(xx + yy - 2 * xy, rel=1e-6)


def test_a_bootstrap_draw_leaves_out_pairs_of_copies_of_one_point():
    g = torch.Generator().manual_seed(1)
    a, b, sigma = torch.randn(4, 3, generator=g), torch.randn(5, 3, generator=g) + 0.5, 1.1
    points = torch.tensor([0, 0, 1, 3])  # a draw of a with point 0 twice
    drawn = a[points]

    def k(u, v):
        return math.exp(-float(((u - v) ** 2).sum()) / (2 * sigma**2))

    # the within-a mean over ordered pairs of rows that are different points: 10 of the 12 pairs i != j
    pairs = [(i, j) for i in range(4) for j in range(4) if points[i] != points[j]]
    aa = sum(k(drawn[i], drawn[j]) for i, j in pairs) / len(pairs)
    bb = sum(k(b[i], b[j]) for i in range(5) for j in range(5) if i != j) / 20
    ab = sum(k(drawn[i], b[j]) for i in range(4) for j in range(5)) / 20
    got = kernel_audio_distance(drawn, b, sigma, points, torch.arange(5))
    assert len(pairs) == 10 and got == pytest.approx(aa + bb - 2 * ab, rel=1e-6)
    assert kernel_audio_distance(a, b, sigma, torch.arange(4), None) == kernel_audio_distance(a, b, sigma)


def test_embedding_distances_kad_interval_holds_its_estimate_and_a_shift_moves_it():
    # counted, the copies in a draw pushed every draw's KAD up: on two sets of one distribution (shift 0) the old
    # interval, (-0.0017, 0.0145), missed its own estimate, -0.0043
    g = torch.Generator().manual_seed(2)
    found = []
    for shift in (0.0, 0.4):
        real, gen = torch.randn(96, 6, generator=g), torch.randn(96, 6, generator=g) + shift
        d = embedding_distances(real, gen, n_boot=200)
        assert d["kad_interval"][0] <= d["kad"] <= d["kad_interval"][1], d
        assert d["frechet_interval"][0] <= d["frechet"] <= d["frechet_interval"][1], d
        found.append(d)
    assert found[0]["kad_interval"][1] < found[1]["kad_interval"][0]  # the shifted sets are told apart
    # two points a set: many draws repeat one point and have no pair to compare; they are skipped, not NaN
    tiny = embedding_distances(torch.randn(2, 6, generator=g), torch.randn(2, 6, generator=g), n_boot=50)
    assert all(math.isfinite(v) for v in (*tiny["kad_interval"], *tiny["frechet_interval"]))


@pytest.mark.skipif(not SHIPPED_CLAP.exists(), reason="no shipped miniCLAP yet")
def test_search_with_the_shipped_model_ranks_the_asked_instrument_first(tmp_path):
    torch.set_num_threads(1)
    wanted = [("piano", "major"), ("violin", "minor"), ("organ", "major"), ("bass", "minor"), ("flute", "major")]
    for i, (instrument, mode) in enumerate(wanted):
        wav, _ = synth_clip(1_000_500 + i, 3.0, instrument=instrument, mode=mode, drums=False)
        sf.write(tmp_path / f"{instrument}.wav", wav, 22050)
    for instrument, mode in wanted[:2]:
        prompt = f"{'happy' if mode == 'major' else 'sad'} {instrument}"
        results = search_folder(SHIPPED_CLAP, prompt, tmp_path, top=3)
        assert len(results) == 3 and results[0][1].name == f"{instrument}.wav", (prompt, results)
        assert results[0][0] >= results[1][0] >= results[2][0]
    model, _ = load_clap(SHIPPED_CLAP)
    from minidcae.sound.audio import log_mel

    mels = torch.stack([log_mel(torch.from_numpy(sf.read(tmp_path / f"{i}.wav")[0]).float()[None]) for i, _ in wanted])
    right = clap_score(model, mels, [f"{'happy' if m == 'major' else 'sad'} {i}" for i, m in wanted])
    wrong = clap_score(model, mels, [f"{'happy' if m == 'major' else 'sad'} {i}" for i, m in wanted[1:] + wanted[:1]])
    assert right.shape == (5,) and float(right.mean()) > float(wrong.mean())
