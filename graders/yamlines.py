"""Line numbers of the keys in a YAML document, so that messages can say `file:line key.path`."""

from __future__ import annotations

import yaml

from graders import safeyaml


def record(source: str | yaml.Node | None) -> dict[str, int]:
    """`key.path[index]` -> 1-based line, for every key and item of the document (empty when it
    cannot be read). `source` is the text or its composed node (graders.safeyaml.Document.node)."""
    lines: dict[str, int] = {}
    if isinstance(source, str):
        try:
            source = safeyaml.load(source).node
        except safeyaml.YamlError:
            return lines
    if source is not None:
        _walk(source, "", lines)
    return lines


def line_of(lines: dict[str, int], path_text: str) -> int | None:
    """The line of `path_text`, or of its nearest ancestor that the document spells out."""
    while path_text:
        if path_text in lines:
            return lines[path_text]
        cut = max(path_text.rfind("."), path_text.rfind("["))
        path_text = path_text[:cut] if cut > 0 else ""
    return lines.get("")


def _walk(node: yaml.Node, path: str, lines: dict[str, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = f"{path}.{key.value}" if path else str(key.value)
            _walk(value, child, lines)
            lines[child] = key.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, f"{path}[{index}]", lines)
