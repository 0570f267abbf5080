"""miniCLAP's words: a clip's labels phrased many ways, some ways held out from training, and their vocabulary.

    describe            a clip's labels as a phrasing: training templates, or held-out ones never seen in training
    TRAIN_TEMPLATES / HELDOUT_TEMPLATES / HELDOUT_PAIRINGS   the word orders, and (template, synonym) pairs, of each split
    PHRASE_VOCAB        every word a phrasing can use, after <pad>, <unk> and <empty>; PHRASE_ID its ids, which
                        text.tokenize and text.unknown_words read
    heldout_combinations   one held-out clip per (instrument, mode, tempo word, drums): the retrieval test set

Phrasings vary the words (happy / cheerful / bright / joyful, sad / melancholy / gloomy / sombre, slow / relaxed,
fast / quick, "120 bpm", "with drums", "beat", ...) and the word order. Whole templates, and some
(template, mood synonym) pairings, are held out: retrieval on them measures whether the model learned
what the words mean, not the sentences it was shown. Every word of a held-out phrasing still occurs
in some training phrasing: a model trained from scratch has never met a word it was not shown and
cannot know what it means (a pretrained text encoder could; ours downloads nothing). The key is not
described (the synth's key is a label, but no prompt in the course uses it).

The model that reads them is minidcae.models.clap; a latent transformer reads them with text "phrases" or
"clap" (minidcae.models.condition). Taught in notebook 11 (contrastive text and audio).
"""

from __future__ import annotations

import numpy as np

from minidcae.models.text import EMPTY, PAD, TEMPO_WORDS, UNKNOWN, tempo_word, words_of
from minidcae.sound.synth import INSTRUMENTS, MODES, TEMPO_RANGE, ClipLabels

MOOD_WORDS = {"major": ("happy", "cheerful", "bright", "joyful"), "minor": ("sad", "melancholy", "gloomy", "sombre")}
TEMPO_SYNONYMS = {"slow": ("slow", "relaxed"), "medium": ("medium", "moderate"), "fast": ("fast", "quick")}
DRUM_PHRASES = {True: ("drums", "with drums", "with a beat", "beat"), False: ("no drums", "without drums")}
# {mood} {instrument} {tempo} {drums}; an empty slot and the comma before it disappear
TRAIN_TEMPLATES = (
    "{mood} {instrument}, {tempo}, {drums}",
    "a {mood} tune on the {instrument}, {tempo}, {drums}",
    "{instrument}, {mood}, {tempo}, {drums}",
    "{mood} music played on {instrument}, {tempo}, {drums}",
    "the {instrument} sounds {mood}, {tempo}, {drums}",
)
# word orders never shown in training (tempo first, drums first, instrument before "music")
HELDOUT_TEMPLATES = (
    "{tempo} {mood} {instrument}, {drums}",
    "{drums}, the {mood} {instrument} tune, {tempo}",
    "{instrument} music, {tempo}, {mood}, {drums}",
)
# (training template, mood word) pairs training never draws: known words in a known order, never together
HELDOUT_PAIRINGS = ((0, "joyful"), (1, "sombre"), (2, "bright"), (3, "melancholy"), (4, "cheerful"))
SPLITS = ("train", "heldout")


def _fill(template: str, mood: str, instrument: str, tempo: str, drums: str) -> str:
    text = template.format(mood=mood, instrument=instrument, tempo=tempo, drums=drums)
    parts = [" ".join(p.split()) for p in text.split(",")]
    return ", ".join(p for p in parts if p)


def describe(labels: ClipLabels, rng: np.random.Generator, split: str = "train", complete: bool = False) -> str:
    """One phrasing of a clip's labels from `split`'s templates: mood and instrument always; tempo (a word or
    "N bpm") and drums each left out 30% of the time unless `complete` (then the tempo is always a word)."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    moods = MOOD_WORDS[labels.mode]
    if split == "train":
        t = int(rng.integers(len(TRAIN_TEMPLATES)))
        template = TRAIN_TEMPLATES[t]
        mood = str(rng.choice([w for w in moods if (t, w) not in HELDOUT_PAIRINGS]))
    else:  # a held-out template with any mood word, or a held-out pairing of this mode
        pairs = [(HELDOUT_TEMPLATES[i], w) for i in range(len(HELDOUT_TEMPLATES)) for w in moods]
        pairs += [(TRAIN_TEMPLATES[t], w) for t, w in HELDOUT_PAIRINGS if w in moods]
        template, mood = pairs[int(rng.integers(len(pairs)))]
    tempo = str(rng.choice(TEMPO_SYNONYMS[tempo_word(labels.tempo)]))
    if not complete:
        r = rng.random()
        tempo = f"{labels.tempo:g} bpm" if r < 0.35 else (tempo if r < 0.7 else "")
    drums = str(rng.choice(DRUM_PHRASES[bool(labels.drums)]))
    if not complete and rng.random() < 0.3:
        drums = ""
    return _fill(template, mood, labels.instrument, tempo, drums)


def _template_words() -> list[str]:
    texts = [_fill(t, "", "", "", "") for t in TRAIN_TEMPLATES + HELDOUT_TEMPLATES]
    texts += [p for phrases in DRUM_PHRASES.values() for p in phrases]
    return [w for text in texts for w in words_of(text)]


_WORDS = (
    *(w for words in MOOD_WORDS.values() for w in words),
    *INSTRUMENTS,
    *(w for words in TEMPO_SYNONYMS.values() for w in words),
    "bpm",
    *_template_words(),
)
PHRASE_VOCAB = (
    PAD,
    UNKNOWN,
    EMPTY,
    *dict.fromkeys(_WORDS),
    *(str(b) for b in range(TEMPO_RANGE[0], TEMPO_RANGE[1] + 1)),
)
PHRASE_ID = {word: i for i, word in enumerate(PHRASE_VOCAB)}


def heldout_combinations(base_seed: int) -> list[dict]:
    """One label set per (instrument, mode, tempo word, drums), 6 x 2 x 3 x 2 = 72; seed i is base_seed + i
    (held-out seeds come from synth.first_seed(..., heldout=True)); the tempo is drawn inside its word's range."""
    out = []
    for instrument in INSTRUMENTS:
        for mode in MODES:
            for low, high, _ in TEMPO_WORDS:
                for drums in (False, True):
                    seed = base_seed + len(out)
                    lo, hi = max(low, TEMPO_RANGE[0]), min(high - 1, TEMPO_RANGE[1])
                    tempo = float(np.random.default_rng([seed, 7]).integers(lo, hi + 1))
                    out.append({"seed": seed, "instrument": instrument, "mode": mode, "tempo": tempo, "drums": drums})
    return out
