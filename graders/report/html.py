"""Pages a person reads in a browser: one per learner, and one for the class. Self-contained
HTML with inline SVG charts (no scripts, no network), from result documents (plain dicts)."""

from __future__ import annotations

from collections import Counter
from html import escape
from typing import Any

from graders.batch.leaderboard import METRICS, Entry
from graders.batch.similarity import Pair, page_name
from graders.report import HIDDEN, clip, human_size
from graders.results import UNSCORED

STYLE = """
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4rem .5rem;vertical-align:top;text-align:left}
td:first-child{white-space:nowrap}
.passed{color:#17803d}.partial{color:#a86400}.failed{color:#b42318}.skipped{color:#0b5cad}.not_gradable{color:#777}
.hint{color:#0b5cad;margin-top:.2rem}pre{background:#f5f5f5;padding:.6rem;overflow-x:auto;font-size:12px}
.big{font-size:1.3rem;font-weight:600}
"""
MARKS = {"passed": "✔ passed", "partial": "◐ partial", "failed": "✘ failed", "skipped": "↷ skipped", "not_gradable": "– not gradable"}


def feedback_page(result: dict[str, Any], lab_title: str, places: list[str] | None = None) -> str:
    rows = []
    for criterion in result["criteria"]:
        status = criterion["status"]
        points = "n/a" if status in UNSCORED else f"{criterion['points']:g} / {criterion['max_points']:g}"
        if criterion["visibility"] == "hidden":
            detail = f"<em>{HIDDEN}</em>"
        else:
            detail = escape(criterion["message"])
            if criterion["hint"]:
                detail += f'<div class="hint">→ {escape(criterion["hint"])}</div>'
            if status in ("failed", "partial"):
                detail += _evidence(criterion.get("evidence") or {})
        rows.append(f'<tr><td class="{status}">{MARKS[status]}</td><td>{escape(criterion["title"])}</td>'
                    f"<td>{points}</td><td>{detail}</td></tr>")
    verdict = "passed" if result["passed"] else "not yet passed"
    parts = [
        f"<h1>{escape(lab_title)}: {escape(result['learner'])}</h1>",
        f'<p class="big">{result["score"]:g} / {result["max_score"]:g} points ({result["percent"]:g}%), {verdict}</p>',
        "".join(f"<p>⚠ {escape(p)}</p>" for p in result["problems"]),
        "".join(f"<p>⛔ not run: {escape(r)}</p>" for r in result.get("refusals") or []),
        "<table><tr><th>Result</th><th>Criterion</th><th>Points</th><th>What the grader saw</th></tr>",
        *rows, "</table>",
    ]
    parts += image_and_build(result, "<h2>{}</h2>")
    if places:
        parts += ["<h2>Leaderboard</h2><ul>", *(f"<li>{escape(line)}</li>" for line in places), "</ul>"]
    return _page(f"{lab_title}: {result['learner']}", parts)


def image_and_build(result: dict[str, Any], heading: str, lines: int = 40) -> list[str]:
    """The image's layers drawn to scale, and the end of the build log when the build failed;
    `heading` formats each part's title."""
    parts = []
    image = result.get("image")
    if image and image.get("layers"):
        parts += [heading.format("Image size by layer"), layer_chart(image)]
    build = result.get("build")
    if build and not build.get("ok"):
        parts += [heading.format("Build log (last lines)"), f"<pre>{escape(chr(10).join(build['log_tail'][-lines:]))}</pre>"]
    return parts


EVIDENCE_LISTS = ("secrets", "unpinned", "problems", "exposed", "missing", "health_log", "logs", "up")


def _evidence(evidence: dict[str, Any]) -> str:
    """The findings and log lines behind a lost point, folded away under the message."""
    parts = []
    for key in EVIDENCE_LISTS:
        lines = evidence.get(key)
        if isinstance(lines, list) and lines:
            text = escape("\n".join(str(line) for line in lines[-20:]))
            parts.append(f"<details><summary>{escape(key.replace('_', ' '))}</summary><pre>{text}</pre></details>")
    return "".join(parts)


def summary_page(results: list[dict[str, Any]], lab_title: str, criteria: list[tuple[str, str]],
                 board: dict[str, list[Entry]] | None = None, similar: list[Pair] | None = None) -> str:
    """`criteria` is [(id, title)] in rubric order; `board` the leaderboard, when the lab has one;
    `similar` the pairs of submissions alike enough to look at (each has a page in similar/)."""
    graded = [r for r in results if r["max_score"] > 0]
    passed = sum(r["passed"] for r in graded)
    rates: list[tuple[str, float]] = []
    failures: Counter[tuple[str, str]] = Counter()
    for criterion_id, title in criteria:
        statuses = [c for r in results for c in r["criteria"] if c["id"] == criterion_id and c["status"] not in UNSCORED]
        if statuses:
            rates.append((title, sum(c["status"] == "passed" for c in statuses) / len(statuses)))
        for c in statuses:
            if c["status"] != "passed":
                failures[(title, clip(c["message"], 140))] += 1
    parts = [
        f"<h1>{escape(lab_title)}: class summary</h1>",
        f'<p class="big">{len(results)} submissions, {passed} passed, '
        f"{len(results) - len(graded)} could not be graded</p>",
        "<h2>Score distribution</h2>", histogram([r["percent"] for r in graded]),
        "<h2>Pass rate per criterion</h2>", bars(rates),
        "<h2>Most common failures</h2><table><tr><th>Learners</th><th>Criterion</th><th>What the grader saw</th></tr>",
        *(f"<tr><td>{n}</td><td>{escape(t)}</td><td>{escape(m)}</td></tr>" for (t, m), n in failures.most_common(10)),
        "</table>",
        "<h2>Learners</h2><table><tr><th>Learner</th><th>Score</th><th>Status</th></tr>",
        *(f'<tr><td><a href="feedback/{escape(r["learner"])}.html">{escape(r["learner"])}</a></td>'
          f'<td>{r["score"]:g} / {r["max_score"]:g}</td><td>{"passed" if r["passed"] else "not yet"}</td></tr>'
          for r in results),
        "</table>",
    ]
    if similar:
        parts += ["<h2>Submissions alike</h2><p>Beyond the starter and the reference, once comments, spacing, "
                  "names and flag order are set aside. A flag to look at, never a grade.</p>",
                  "<table><tr><th>Alike</th><th>Learners</th><th></th></tr>",
                  *(f'<tr><td>{pair.score:.0%}</td><td>{escape(pair.a.learner)} and {escape(pair.b.learner)}</td>'
                    f'<td><a href="similar/{escape(page_name(pair))}">side by side</a></td></tr>' for pair in similar),
                  "</table>"]
    if board is not None:
        parts += _leaderboard(board)
    return _page(f"{lab_title}: class summary", parts)


def _leaderboard(board: dict[str, list[Entry]], shown: int = 10) -> list[str]:
    """Each metric's best passing submissions, drawn as bars (the best is the shortest)."""
    parts = ["<h2>Leaderboard</h2><p>Among the submissions that passed; lower is better; never a grade.</p>"]
    for metric_id, entries in board.items():
        metric = METRICS[metric_id]
        parts.append(f"<h3>{escape(metric.title)} ({escape(metric.unit)})</h3>")
        if not entries:
            parts.append("<p>No passing submission has this figure.</p>")
            continue
        top = max(entry.value for entry in entries[:shown]) or 1
        parts.append(bars([(f"{rank}. {entry.shown_as}: {entry.value:g} {metric.unit}", entry.value / top)
                           for rank, entry in enumerate(entries[:shown], 1)], colour="#3b82f6"))
    return parts


def histogram(percents: list[float], width: int = 600, height: int = 170) -> str:
    counts = [0] * 10
    for value in percents:
        counts[min(9, int(value // 10))] += 1
    top = max(counts + [1])
    step = width / 10
    bars_svg = []
    for index, count in enumerate(counts):
        h = (height - 40) * count / top  # headroom for the count above the tallest bar
        x = index * step
        bars_svg.append(f'<rect x="{x + 4:.0f}" y="{height - 20 - h:.0f}" width="{step - 8:.0f}" height="{h:.0f}" fill="#3b82f6"/>'
                        f'<text x="{x + step / 2:.0f}" y="{height - 5}" font-size="11" text-anchor="middle">'
                        f'{index * 10}–{index * 10 + 10}%</text>')
        if count:
            bars_svg.append(f'<text x="{x + step / 2:.0f}" y="{height - 24 - h:.0f}" font-size="11" text-anchor="middle">{count}</text>')
    return f'<svg width="{width}" height="{height}" role="img" aria-label="score distribution">{"".join(bars_svg)}</svg>'


def bars(rows: list[tuple[str, float]], width: int = 600, colour: str | None = None) -> str:
    """Horizontal bars for fractions between 0 and 1, labelled (coloured by the fraction unless `colour`)."""
    height = 22 * len(rows) + 4
    items = []
    for index, (label, fraction) in enumerate(rows):
        y = index * 22 + 2
        fill = colour or ("#22c55e" if fraction >= 0.8 else "#f59e0b" if fraction >= 0.5 else "#ef4444")
        items.append(f'<text x="0" y="{y + 14}" font-size="12">{escape(clip(label, 40))}</text>'
                     f'<rect x="270" y="{y}" width="{(width - 330) * fraction:.0f}" height="16" fill="{fill}"/>'
                     + ("" if colour else f'<text x="{275 + (width - 330) * fraction:.0f}" y="{y + 13}" '
                                         f'font-size="11">{fraction:.0%}</text>'))
    return f'<svg width="{width}" height="{height}" role="img" aria-label="pass rate per criterion">{"".join(items)}</svg>'


def layer_chart(image: dict[str, Any], width: int = 600) -> str:
    layers = [layer for layer in image["layers"] if not layer["from_base"] and layer["size_bytes"] > 0]
    rows = [(f"base {image['base']}", image["base_size_bytes"], 0)] + [
        (layer["instruction"], layer["size_bytes"], layer.get("wasted_bytes", 0)) for layer in layers]
    top = max([size for _, size, _ in rows] + [1])
    items = []
    for index, (label, size, wasted) in enumerate(rows):
        y = index * 22 + 2
        w = (width - 330) * size / top
        items.append(f'<text x="0" y="{y + 13}" font-size="11">{human_size(size)}</text>'
                     f'<rect x="80" y="{y}" width="{max(w, 1):.0f}" height="16" fill="{"#9ca3af" if index == 0 else "#a855f7"}"/>'
                     f'<text x="{90 + w:.0f}" y="{y + 13}" font-size="11">{escape(clip(label, 70))}'
                     f'{f" (wasted {human_size(wasted)})" if wasted else ""}</text>')
    return f'<svg width="{width + 200}" height="{22 * len(rows) + 4}" role="img" aria-label="image size by layer">{"".join(items)}</svg>'


def _page(title: str, parts: list[str]) -> str:
    return (f'<!doctype html><html lang="en"><meta charset="utf-8"><title>{escape(title)}</title>'
            f"<style>{STYLE}</style><body>{''.join(parts)}</body></html>\n")
