"""`make demo`'s page: runs/demo/report.html, every stage's audio and figure in one place.

    write_report    the metrics table, mels.png, and one audio player per clip and stage (WAV files
                    beside the page, referenced by relative path, so the page is small and works offline);
                    then the melody and search sections of report["melody"] and report["search"]

Used by `make demo` (minidcae.cli.demo), the README's quick start.
"""

from __future__ import annotations

import html
from pathlib import Path

from minidcae.core.files import atomic_write

STYLE = """body{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}
th{background:#f3f3f3}audio{width:220px}img{max-width:100%}"""


def _player(src: str) -> str:
    return f'<audio controls preload="auto" src="{html.escape(src)}"></audio>'


def _section(title: str, part: dict | None, body) -> str:
    """A section of the page: nothing without `part`, its one line when its checkpoint was missing ({"missing":
    line}), else the heading and body(part)."""
    if not part:
        return ""
    if "missing" in part:
        return f"<h2>{title}</h2>\n<p>{html.escape(part['missing'])}</p>"
    return f"<h2>{title}</h2>\n{body(part)}"


def _melody_section(melody: dict) -> str:
    """demo.demo_melody's rows: what, a player, the chroma cosine with the synthesizer's rendering."""
    rows = "".join(
        f"<tr><td>{html.escape(r['what'])}</td><td>{_player(r['path'])}</td>"
        f"<td>{'reference' if r['chroma'] is None else format(r['chroma'], '.3f')}</td></tr>"
        for r in melody["rows"]
    )
    return f"""<p>{html.escape(melody["melody"])}, generated as <code>{html.escape(melody["prompt"])}</code> (same seed with and
without the melody). Chroma cosine similarity: per-frame cosine of the two chromagrams, averaged
(audiocraft's metric; 1 = the same pitch classes at every frame), against the melody played by the synthesizer.</p>
<table><tr><th>clip</th><th>audio</th><th>chroma cosine</th></tr>{rows}</table>"""


def _search_section(search: dict) -> str:
    """demo.demo_search's rankings: one table per prompt of rank, score, file, true labels and a player."""
    tables = "".join(
        f"<h3>{html.escape(prompt)}</h3><table><tr><th>rank</th><th>score</th><th>file</th><th>true labels</th>"
        "<th>audio</th></tr>"
        + "".join(
            f"<tr><td>{r['rank']}</td><td>{r['score']:+.3f}</td><td>{html.escape(r['path'])}</td>"
            f"<td>{html.escape(r['labels'])}</td><td>{_player(r['path'])}</td></tr>"
            for r in ranked
        )
        + "</table>"
        for prompt, ranked in search["rankings"].items()
    )
    return f"""<p>{len(search["clips"])} synthetic clips ranked by miniCLAP for each prompt (cosine of the clip's and the
prompt's embeddings), as <code>minidcae search</code> ranks a folder.</p>
{tables}"""


def write_report(out_dir, report: dict, players: dict, generated: list[dict], columns: tuple) -> Path:
    """players: {clip: {stage: relative WAV path}}; generated: [{"prompt", "path", "seconds"}];
    report["melody"] and report["search"], when there, as demo.demo_melody and demo.demo_search return them."""
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
{_section("Melody", report.get("melody"), _melody_section)}
{_section("Search", report.get("search"), _search_section)}
</body></html>
"""
    return atomic_write(out / "report.html", lambda tmp: Path(tmp).write_text(page))
