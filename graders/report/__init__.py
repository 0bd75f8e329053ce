"""Ways to show a grading result: the terminal scorecard, the JSON document, HTML pages."""

HIDDEN = "hidden criterion: your instructor sees the details"
"""What a learner's view shows of a hidden criterion besides its title, mark and points."""


def human_size(size: float) -> str:
    """Decimal units, as `docker images` shows them: 468 B, 2.1 kB, 287.3 MB, 5.1 GB."""
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return ""


def clip(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1] + "…"
