"""The scorecard a person reads in the terminal, with the image's layers drawn to scale."""

from __future__ import annotations

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from graders import history
from graders.history import Attempt
from graders.report import HIDDEN, human_size
from graders.results import UNSCORED, GradingResult, ImageSummary

MARKS = {"passed": ("✔", "green"), "partial": ("◐", "yellow"), "failed": ("✘", "red"), "skipped": ("↷", "blue"),
         "not_gradable": ("–", "dim")}


def render(result: GradingResult, console: Console, attempts: list[Attempt] | None = None) -> None:
    console.print(_scorecard(result))
    if result.image and result.image.layers:
        console.print(_layers(result.image))
    console.print(_total(result))
    if attempts and len(attempts) > 1:
        console.print(_history(attempts))


BARS = "▁▂▃▄▅▆▇█"
SHOWN = 20


def _history(attempts: list[Attempt]) -> Text:
    """The score over the last attempts, one bar each, and what changed since the one before."""
    text = Text(f"Attempt {len(attempts)}: ", style="bold")
    for attempt in attempts[-SHOWN:]:
        bar = BARS[min(len(BARS) - 1, int(attempt.percent / 100 * len(BARS)))]
        text.append(bar, style="green" if attempt.passed else ("dim" if not attempt.gradable else "yellow"))
    first, last = attempts[-SHOWN:][0], attempts[-1]
    text.append(f"  {first.percent:.0f}% → {last.percent:.0f}%")
    changed = history.changes(attempts[-2], last)
    text.append("\nSince the last check: " + ("nothing changed" if not changed else ""))
    for line in changed:
        style = "green" if line.endswith("passed") else "red" if line.endswith(("failed", "partial")) else ""
        text.append(f"\n  {line}", style=style)
    return text


def _scorecard(result: GradingResult) -> Table:
    table = Table(title=f"Lab {result.lab}", title_justify="left", show_lines=False, expand=True)
    table.add_column("", width=1)
    table.add_column("Criterion", ratio=2)
    table.add_column("Points", justify="right", no_wrap=True)
    table.add_column("What the grader saw", ratio=4)
    for criterion in result.criteria:
        mark, colour = MARKS[criterion.status]
        points = "n/a" if criterion.status in UNSCORED else f"{criterion.points:g}/{criterion.max_points:g}"
        if criterion.visibility == "hidden":
            detail = Text(HIDDEN, style="dim")
        else:
            detail = Text(criterion.message)
            if criterion.hint:
                detail.append("\n→ " + criterion.hint, style="cyan")
        table.add_row(Text(mark, style=colour), criterion.title, points, detail)
    return table


def _layers(image: ImageSummary, width: int = 30) -> Panel:
    added = [layer for layer in image.layers if not layer.from_base and layer.size_bytes > 0]
    biggest = max([layer.size_bytes for layer in added] + [image.base_size_bytes, 1])
    lines = []
    rows = [(f"base {image.base}", image.base_size_bytes, "dim", 0)]
    rows += [(layer.instruction, layer.size_bytes, "magenta", layer.wasted_bytes) for layer in added]
    for label, size, style, wasted in rows:
        bar = "█" * max(1, round(width * size / biggest)) if size else ""
        line = Text(f"{human_size(size):>9} ", no_wrap=True, overflow="ellipsis")
        line.append(bar.ljust(width), style=style)
        line.append(f" {label}")
        lines.append(line)
        if wasted:
            lines.append(Text(f"{'':>9} {'':<{width}} ↳ {human_size(wasted)} also written or deleted in another layer",
                              style="yellow", no_wrap=True, overflow="ellipsis"))
    if image.wasted_bytes is not None:
        lines.append(Text(f"Wasted across layers (as dive counts it): {human_size(image.wasted_bytes)}"))
    if image.baseline_size_bytes:
        reduction = 100 * (1 - image.size_bytes / image.baseline_size_bytes)
        lines.append(Text(f"Naive single-stage build of the same folder: {human_size(image.baseline_size_bytes)}; "
                          f"this image is {reduction:.0f}% smaller", style="bold"))
    title = f"Image {image.id[7:19]}: {human_size(image.size_bytes)} in all, {human_size(image.size_bytes - image.base_size_bytes)} added"
    return Panel(Group(*lines), title=title, title_align="left")


def _total(result: GradingResult) -> Text:
    verdict = ("PASS", "bold green") if result.passed else ("NOT YET", "bold red")
    text = Text(f"Score {result.score:g}/{result.max_score:g} ({result.percent:g}%, pass at {result.pass_threshold:g}%)  ")
    text.append(verdict[0], style=verdict[1])
    skipped = [c for c in result.criteria if c.status == "not_gradable"]
    if skipped:
        text.append(f"\n{len(skipped)} criterion(s) could not be graded on this machine and are left out of the maximum.", style="yellow")
    waiting = [c for c in result.criteria if c.status == "skipped"]
    if waiting:
        text.append(f"\n{len(waiting)} criterion(s) are judged only once the one they depend on passes, and are left "
                    "out of the maximum until then.", style="blue")
    for problem in result.problems[:5]:
        text.append(f"\n! {problem}", style="yellow")
    stand_ins = result.environment.stand_ins
    if stand_ins:
        text.append(f"\nBuilt on local stand-in base image(s): {', '.join(stand_ins)} (no registry was reachable).", style="dim")
    timings = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in result.timings.items() if seconds >= 0.05)
    text.append(f"\nTime: {timings}", style="dim")
    return text
