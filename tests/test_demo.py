"""`make demo` (the ci profile): WAVs, metrics and a report page whose every player points at a real file."""

import json
import re

import pytest
import soundfile as sf

from minidcae.cli import main


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
