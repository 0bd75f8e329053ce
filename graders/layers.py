"""Layer efficiency as dive computes it, from the files each layer adds, changes or deletes.

For every path that is a leaf (a file, link, empty folder, or a whiteout) in more than one
layer, every one of those copies counts as wasted: the bytes of each version, and for a deleted
folder the bytes it held. A deleted file's whiteout counts 0 bytes; the file it hides counts its
size. This matches dive's `inefficientBytes`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

WHITEOUT = ".wh."
OPAQUE = ".wh..wh..opq"


@dataclass(frozen=True)
class Entry:
    """One member of a layer's tar: a path (no leading ./ or /), its size, whether it is a folder."""

    path: str
    size: int
    is_dir: bool = False


@dataclass
class Efficiency:
    wasted_bytes: int
    per_layer: list[int]
    """Wasted bytes counted in each layer, in layer order; they add up to wasted_bytes."""
    offenders: list[tuple[str, int, int]] = field(default_factory=list)
    """(path, copies, bytes) for the worst paths, largest first."""
    score: float = 1.0
    """dive's efficiency score: smallest copies' bytes over all copies' bytes."""
    history_index: list[int] = field(default_factory=list)
    """For each layer, its position in the image history (which also lists metadata-only steps)."""


def efficiency(layers: list[list[Entry]], top: int = 10) -> Efficiency:
    seen: dict[str, list[tuple[int, int]]] = {}  # path -> [(layer index, bytes)]
    stacked: dict[str, tuple[int, bool]] = {}  # the image as of the previous layer: path -> (size, is_dir)
    for index, entries in enumerate(layers):
        for path, size in _leaves(entries, stacked).items():
            seen.setdefault(path, []).append((index, size))
        _apply(entries, stacked)
    per_layer = [0] * len(layers)
    offenders = []
    minimum = total = 0
    for path, copies in seen.items():
        sizes = [size for _layer, size in copies]
        minimum += min(sizes)
        total += sum(sizes)
        if len(copies) > 1:
            for layer, size in copies:
                per_layer[layer] += size
            offenders.append((path, len(copies), sum(sizes)))
    offenders.sort(key=lambda item: -item[2])
    return Efficiency(sum(per_layer), per_layer, offenders[:top], minimum / total if total else 1.0)


def _leaves(entries: list[Entry], stacked: dict[str, tuple[int, bool]]) -> dict[str, int]:
    """Leaf paths of one layer's tree, with the bytes dive charges for each."""
    nodes: dict[str, int] = {}
    parents: set[str] = set()
    for entry in entries:
        folder, _, name = entry.path.rpartition("/")
        if name == OPAQUE:
            continue
        if name.startswith(WHITEOUT):
            path = f"{folder}/{name[len(WHITEOUT):]}" if folder else name[len(WHITEOUT):]
            size = _folder_bytes(path, stacked) if stacked.get(path, (0, False))[1] else 0
        else:
            path, size = entry.path, (0 if entry.is_dir else entry.size)
        nodes[path] = size
        while "/" in path:
            path = path.rpartition("/")[0]
            parents.add(path)
    return {path: size for path, size in nodes.items() if path not in parents}


def _folder_bytes(folder: str, stacked: dict[str, tuple[int, bool]]) -> int:
    prefix = folder + "/"
    return sum(size for path, (size, is_dir) in stacked.items() if path.startswith(prefix) and not is_dir)


def _apply(entries: list[Entry], stacked: dict[str, tuple[int, bool]]) -> None:
    for entry in entries:
        folder, _, name = entry.path.rpartition("/")
        if name == OPAQUE:
            _remove_below(folder, stacked)
        elif name.startswith(WHITEOUT):
            path = f"{folder}/{name[len(WHITEOUT):]}" if folder else name[len(WHITEOUT):]
            stacked.pop(path, None)
            _remove_below(path, stacked)
    for entry in entries:
        if not entry.path.rpartition("/")[2].startswith(WHITEOUT):
            stacked[entry.path] = (entry.size, entry.is_dir)


def _remove_below(folder: str, stacked: dict[str, tuple[int, bool]]) -> None:
    prefix = folder + "/"
    for path in [p for p in stacked if p.startswith(prefix)]:
        del stacked[path]
