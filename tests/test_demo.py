"""`make demo` (the ci profile): WAVs, metrics and a report page whose every player points at a real file;
its melody and search sections, checked with stand-in checkpoints built here when the shipped ones are missing."""

import json
import re
from dataclasses import asdict, replace

import pytest
import soundfile as sf
import torch

from minidcae.cli.main import main
from minidcae.core.config import SHIPPED_CLAP, SHIPPED_MELODY_TRANSFORMER, SHIPPED_TRANSFORMER
from minidcae.core.profiles import get_profile


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    assert main(["demo", "--out", str(out), "--profile", "ci"]) == 0
    return out


def test_the_demo_writes_metrics_for_every_stage(demo):
    report = json.loads((demo / "metrics.json").read_text())
    assert set(report["mean"]) >= {"oracle mel", "shipped DCAE"}
    # the oracle (the true mel) is closer to the original than a DCAE trained for a few steps
    tiny = next(s for s in report["mean"] if s.startswith("tiny DCAE"))
    assert report["mean"]["oracle mel"]["log_mel_l1_db"] < report["mean"][tiny]["log_mel_l1_db"]


def test_the_report_page_has_a_player_per_stage_and_each_loads_a_real_file(demo):
    page = (demo / "report.html").read_text()
    sources = re.findall(r'<audio controls preload="auto" src="([^"]+)"', page)
    for stage in ("original", "oracle mel", "shipped DCAE", "shipped DCAE + neural vocoder"):
        assert f"<th>{stage}</th>" in page
    assert "happy piano, 120 bpm, drums" in page and 'src="mels.png"' in page
    assert len(sources) >= 4 * 5 + 2
    for src in sources:
        info = sf.info(demo / src)
        assert info.frames > 0 and info.samplerate == 22050, src


def test_the_report_page_has_a_melody_and_a_search_section(demo):
    page = (demo / "report.html").read_text()
    report = json.loads((demo / "metrics.json").read_text())
    assert "<h2>Melody</h2>" in page and "<h2>Search</h2>" in page
    if SHIPPED_MELODY_TRANSFORMER.exists():
        rows = report["melody"]["rows"]
        assert [r["chroma"] is None for r in rows] == [True, False, False]  # reference, with, without
        for r in rows:
            assert f'src="{r["path"]}"' in page and sf.info(demo / r["path"]).frames > 0
            if r["chroma"] is not None:
                assert f"{r['chroma']:.3f}" in page and -1 <= r["chroma"] <= 1
    else:  # one line says so, and the demo went on
        assert "no melody transformer (transformer_melody.safetensors)" in page
    if SHIPPED_CLAP.exists():
        for prompt, ranked in report["search"]["rankings"].items():
            assert f"<h3>{prompt}</h3>" in page and [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    else:
        assert "no miniCLAP checkpoint (clap.safetensors)" in page


@pytest.fixture(scope="module")
def silent_melody_model(tmp_path_factory):
    """The shipped text transformer with melody layers added and not trained: they start at zero, so this
    model must sound exactly as the text model does, melody or not."""
    from minidcae.core.checkpoint import save_model
    from minidcae.models.transformer import LatentTransformer, load_transformer

    text, _ = load_transformer(SHIPPED_TRANSFORMER)
    model = LatentTransformer(replace(text.cfg, melody="cross"))
    assert not model.load_state_dict(text.state_dict(), strict=False).unexpected_keys
    return save_model(tmp_path_factory.mktemp("melody") / "transformer_melody", model, "transformer", model.cfg)


def test_demo_melody_scores_each_clip_by_chroma_against_the_chorale_played_by_the_synthesizer(
    silent_melody_model, tmp_path
):
    from minidcae.cli.demo import MELODY_FILE, demo_melody
    from minidcae.measure.chroma import chroma_cosine_similarity, chromagram
    from minidcae.sound.melody import read_midi

    torch.set_num_threads(1)
    (tmp_path / "audio").mkdir()
    result = demo_melody(tmp_path, get_profile("ci"), checkpoint=silent_melody_model)
    assert result["seconds"] == 3.0 and len(result["rows"]) == 3
    wavs = [sf.read(tmp_path / r["path"], dtype="float32")[0] for r in result["rows"]]  # (samples,) each
    reference, with_melody, without = wavs
    # the reference plays the chorale's soprano: each long note of its first 3 s is the strongest pitch class
    notes, _ = read_midi(MELODY_FILE)
    chroma = chromagram(reference, 22050)  # (12, frames), hop 1024
    long_notes = [(s, n, m) for s, n, m in notes if s + n <= 3.0 and n >= 0.5]
    assert len(long_notes) >= 2
    for start, length, midi in long_notes:
        inside = chroma[:, int((start + 0.15) * 22050 / 1024) : int((start + length - 0.1) * 22050 / 1024)]  # (12, f)
        assert int(inside.sum(dim=1).argmax()) == midi % 12, (start, midi)
    # each printed figure is the chroma cosine of the written files (16-bit audio: a small tolerance)
    for row, wav in zip(result["rows"][1:], wavs[1:]):
        assert row["chroma"] == pytest.approx(chroma_cosine_similarity(reference, wav, 22050), abs=0.01)
    # melody layers at zero change nothing: with and without the melody, the same clip (same seed)
    assert abs(with_melody - without).max() < 1e-3
    assert result["rows"][1]["chroma"] == pytest.approx(result["rows"][2]["chroma"], abs=1e-3)


def test_demo_search_ranks_every_clip_by_its_cosine_with_the_prompt(tmp_path):
    from minidcae.cli.demo import SEARCH_CLIPS, demo_search
    from minidcae.core.checkpoint import save_model
    from minidcae.core.config import ClapConfig
    from minidcae.models.clap import MiniClap, clap_score
    from minidcae.sound.audio import log_mel
    from minidcae.sound.audio_files import load_audio
    from minidcae.sound.synth import HELDOUT_SEED_BASE, draw_labels

    torch.set_num_threads(1)
    profile = get_profile("ci")
    torch.manual_seed(0)
    model = MiniClap(ClapConfig())  # untrained: the ranking means nothing, its arithmetic must still hold
    ckpt = save_model(tmp_path / "ckpt" / "clap", model, "clap", ClapConfig(), {"mel": asdict(profile.mel)})
    result = demo_search(tmp_path, profile, checkpoint=ckpt, prompts=("happy piano", "sad violin"))
    clips = result["clips"]
    assert len(clips) == len(SEARCH_CLIPS)
    for i, (clip, overrides) in enumerate(zip(clips, SEARCH_CLIPS)):
        labels = draw_labels(HELDOUT_SEED_BASE + i, **overrides)  # the true labels, drawn again
        mood = "happy" if labels["mode"] == "major" else "sad"
        assert clip["labels"].startswith(f"{mood} {labels['instrument']}, {labels['tempo']:g} bpm")
    mels = torch.stack([log_mel(load_audio(tmp_path / c["path"], 22050, 1), profile.mel) for c in clips])
    for prompt, ranked in result["rankings"].items():
        assert [r["rank"] for r in ranked] == list(range(1, len(clips) + 1))
        assert sorted(r["path"] for r in ranked) == sorted(c["path"] for c in clips)
        # every score is the cosine clap_score computes in a batch; best first
        expected = clap_score(model, mels, [prompt] * len(clips))  # (N,)
        by_path = {c["path"]: float(e) for c, e in zip(clips, expected)}
        for r in ranked:
            assert r["score"] == pytest.approx(by_path[r["path"]], abs=1e-3)
            assert r["labels"] == next(c["labels"] for c in clips if c["path"] == r["path"])
        assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)


def test_missing_checkpoints_leave_one_line_in_each_section_and_write_nothing(tmp_path):
    from minidcae.cli.demo import demo_melody, demo_search
    from minidcae.cli.report import write_report

    profile = get_profile("ci")
    melody = demo_melody(tmp_path, profile, checkpoint=tmp_path / "none.safetensors")
    search = demo_search(tmp_path, profile, checkpoint=tmp_path / "none.safetensors")
    assert list(tmp_path.iterdir()) == []
    report = {"profile": "ci", "griffin_lim_iters": 1, "seconds": 0.0, "clips": {}, "mean": {}}
    page = write_report(tmp_path, {**report, "melody": melody, "search": search}, {}, [], ()).read_text()
    assert (
        "<h2>Melody</h2>\n<p>no melody transformer (none.safetensors): `minidcae train-melody` trains one</p>" in page
    )
    assert "<h2>Search</h2>\n<p>no miniCLAP checkpoint (none.safetensors): `minidcae train-clap` trains one</p>" in page
