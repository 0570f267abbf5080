"""`make demo`'s page: runs/demo/report.html, every stage's audio and figure in one place.

    write_report    the metrics table, mels.png, and one audio player per clip and stage (WAV files
                    beside the page, referenced by relative path, so the page is small and works offline)

Used by `make demo` (minidcae.demo), the README's quick start.
"""

from __future__ import annotations

import html
from pathlib import Path

from .files import atomic_write

STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}audio{width:220px}img{max-width:100%}"""


def _player(src: str) -> str:
    return f'<audio controls preload="auto" src="{html.escape(src)}"></audio>'


def write_report(out_dir, report: dict, players: dict, generated: list[dict], columns: tuple) -> Path:
    """players: {clip: {stage: relative WAV path}}; generated: [{"prompt", "path", "seconds"}]."""
    out = Path(out_dir)
    stages = list(report["mean"])
    rows = "".join(
        f"<tr><td>{html.escape(s)}</td>" + "".join(f"<td>{report['mean'][s][c]:.3f}</td>" for c in columns) + "</tr>"
        for s in stages
    )
    all_stages = list(dict.fromkeys(stage for clip in players.values() for stage in clip))
    players_rows = "".join(
        f"<tr><td>{html.escape(clip)}</td>"
        + "".join(f"<td>{_player(p[s]) if s in p else ''}</td>" for s in all_stages)
        + "</tr>"
        for clip, p in players.items()
    )
    gen_rows = "".join(
        f"<tr><td>{html.escape(g['prompt'])}</td><td>{g['seconds']:.1f} s</td><td>{_player(g['path'])}</td></tr>"
        for g in generated
    )
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>minidcae demo</title><style>{STYLE}</style></head><body>
<h1>minidcae demo</h1>
<p>Profile <code>{html.escape(report["profile"])}</code>, Griffin-Lim {report["griffin_lim_iters"]} iterations,
{report["seconds"]:.1f} s. Every stage is measured against the original clip (means over {len(report["clips"])} clips).</p>
<h2>Metrics</h2>
<table><tr><th>stage</th>{"".join(f"<th>{html.escape(c)}</th>" for c in columns)}</tr>{rows}</table>
<h2>Mels</h2><img src="mels.png" alt="log-mels of the first clips at each stage">
<h2>Listen</h2>
<table><tr><th>clip</th>{"".join(f"<th>{html.escape(s)}</th>" for s in all_stages)}</tr>{players_rows}</table>
<h2>Generated</h2>
<table><tr><th>prompt</th><th>length</th><th>audio</th></tr>{gen_rows or "<tr><td colspan=3>no transformer checkpoint</td></tr>"}</table>
</body></html>
"""
    return atomic_write(out / "report.html", lambda tmp: Path(tmp).write_text(page))
