"""The scorecard a learner sees in JupyterLab: every criterion with its mark, points, what the grader
saw and the hint (linked to the README section that teaches it), the total, the next thing to fix,
and the image's layers drawn to scale. HTML from a result document (a plain dict); no scripts."""

from __future__ import annotations

import re
from html import escape
from typing import Any
from urllib.parse import quote

from graders import history
from graders.history import Attempt
from graders.report import HIDDEN
from graders.report.html import MARKS, _evidence, image_and_build
from graders.results import UNSCORED

STYLE = """<style>
.dl-card{font:14px/1.45 system-ui,sans-serif;color:#222}.dl-card table{border-collapse:collapse;width:100%}
.dl-card td,.dl-card th{border-bottom:1px solid #ddd;padding:.35rem .5rem;vertical-align:top;text-align:left!important}
.dl-card td.passed{color:#17803d}.dl-card td.partial{color:#a86400}.dl-card td.failed{color:#b42318}
.dl-card td.not_gradable{color:#777}.dl-card td.skipped{color:#0b5cad}
.dl-card .hint{color:#0b5cad}.dl-card .total{font-size:1.25rem;font-weight:600}
.dl-card .next{background:#fff7e6;border-left:4px solid #a86400;padding:.4rem .7rem;margin:.6rem 0}
.dl-card pre{background:#f5f5f5;padding:.5rem;font-size:12px;overflow-x:auto}
</style>"""
SECTION = re.compile(r'README, section (\d+) "([^"]+)"')


def render(result: dict[str, Any], *, readme: str = "README.md", attempts: list[Attempt] | None = None) -> str:
    rows = []
    for criterion in result["criteria"]:
        status = criterion["status"]
        points = "n/a" if status in UNSCORED else f"{criterion['points']:g} / {criterion['max_points']:g}"
        if criterion.get("visibility") == "hidden":
            detail = f"<em>{HIDDEN}</em>"
        else:
            detail = escape(criterion["message"])
            if status == "not_gradable":
                detail += "<br><em>not gradable on this machine: left out of your total here (a notebook's nbgrader cell counts it 0)</em>"
            if status == "skipped":
                detail += "<br><em>left out of your total until then (a notebook's nbgrader cell counts it 0)</em>"
            if criterion["hint"] and status != "passed":
                detail += f'<div class="hint">→ {link_sections(criterion["hint"], readme)}</div>'
            if status in ("failed", "partial"):
                detail += _evidence(criterion.get("evidence") or {})
        rows.append(f'<tr data-criterion="{escape(criterion["id"])}" class="{status}"><td class="{status}">'
                    f'{MARKS[status]}</td><td>{escape(criterion["title"])}</td><td>{points}</td><td>{detail}</td></tr>')
    verdict = "passed" if result["passed"] else "not yet passed"
    parts = [STYLE, '<div class="dl-card">',
             f'<p class="total">{escape(result["lab"])}: {result["score"]:g} / {result["max_score"]:g} points '
             f'({result["percent"]:g}%), {verdict}</p>']
    if step := next_step(result):
        parts.append(f'<div class="next"><b>Next:</b> {step}</div>')
    if attempts and len(attempts) > 1:
        parts.append(_history(attempts))
    parts += [f"<p>⚠ {escape(problem)}</p>" for problem in result["problems"]]
    parts += ["<table><tr><th>Result</th><th>Criterion</th><th>Points</th><th>What the grader saw</th></tr>",
              *rows, "</table>"]
    parts += image_and_build(result, "<p><b>{}</b></p>", lines=30)
    parts.append("</div>")
    return "".join(parts)


def next_step(result: dict[str, Any], readme: str = "README.md") -> str:
    """The lost criterion worth the most points, with its hint: what to fix first."""
    lost = [c for c in result["criteria"] if c["status"] in ("failed", "partial") and c.get("visibility") != "hidden"]
    if not lost:
        return ""
    first = max(lost, key=lambda c: c["max_points"] - c["points"])
    text = f"{escape(first['title'])} ({first['max_points'] - first['points']:g} points)"
    return text + (f": {link_sections(first['hint'], readme)}" if first["hint"] else "")


def link_sections(hint: str, readme: str) -> str:
    """`README, section 3 "Build and run it"` becomes a link to that heading of the lab's README."""
    def link(match: re.Match[str]) -> str:
        anchor = quote(f"{match.group(1)}.-{match.group(2)}".replace(" ", "-"))
        return f'<a href="{escape(readme)}#{anchor}" target="_blank">{escape(match.group(0))}</a>'

    pieces, last = [], 0
    for match in SECTION.finditer(hint):
        pieces += [escape(hint[last:match.start()]), link(match)]
        last = match.end()
    return "".join(pieces) + escape(hint[last:])


def _history(attempts: list[Attempt], shown: int = 20) -> str:
    """The score over the last attempts as small bars, and what changed since the one before."""
    bars = "".join(f'<span title="{a.percent:.0f}%" style="display:inline-block;width:8px;margin-right:2px;'
                   f'vertical-align:bottom;height:{max(2, round(a.percent / 5))}px;'
                   f'background:{"#1a7f37" if a.passed else "#a86400"}"></span>' for a in attempts[-shown:])
    changed = history.changes(attempts[-2], attempts[-1])
    since = "; ".join(escape(line) for line in changed) or "nothing changed"
    return (f'<p class="history">Attempt {len(attempts)}: {bars} '
            f'{attempts[-shown:][0].percent:.0f}% → {attempts[-1].percent:.0f}%. Since the last check: {since}</p>')
