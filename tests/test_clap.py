import math
import re

import numpy as np
import pytest
import soundfile as sf
import torch
import torch.nn.functional as F

from minidcae.core.config import SHIPPED_CLAP, ClapConfig
from minidcae.core.profiles import get_profile
from minidcae.models.clap import (
    MiniClap,
    clap_score,
    info_nce,
    load_clap,
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
