"""YAML that cannot be exploded: every YAML file the grader reads (course.yml, a learner's compose
files) goes through `load`, which bounds the file's size and the size of the document once its
aliases and merge keys are expanded, before anything (PyYAML's constructor, Compose) expands them.

A few hundred bytes of nested aliases expand to billions of nodes ("billion laughs"). PyYAML's
composer keeps an alias as a reference to its anchor's node, so counting the expanded size on the
composed graph, with a memo per node, costs as much as the file is long.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader where PyYAML has it (ten times faster), else the pure-Python one: both safe."""
MAX_BYTES = 1 * 2**20
MAX_NODES = 100_000


class YamlError(Exception):
    """The text is not YAML, or is YAML too large to read; `line` is 1-based when known."""

    def __init__(self, message: str, line: int | None = None, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.fix = fix


@dataclass(frozen=True)
class Document:
    data: object
    node: yaml.Node | None
    nodes: int
    """How many nodes the document has with its aliases expanded."""


def load(text: str, *, max_bytes: int = MAX_BYTES, max_nodes: int = MAX_NODES) -> Document:
    """Parse `text` safely (yaml.SafeLoader), refusing it before expansion when it is too big."""
    size = len(text.encode("utf-8", "replace"))
    if size > max_bytes:
        raise YamlError(f"the file is {_size(size)}; the limit is {_size(max_bytes)}",
                        fix="keep only configuration in it; data belongs in files the stack mounts")
    loader = LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Document(None, None, 0)
        nodes = expanded_size(node, max_nodes)
        return Document(loader.construct_document(node), node, nodes)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error)
        raise YamlError(f"not valid YAML: {problem}", mark.line + 1 if mark else None) from None
    except RecursionError:
        raise YamlError("not valid YAML: it nests too deeply") from None
    finally:
        loader.dispose()


def expanded_size(root: yaml.Node, limit: int) -> int:
    """The number of nodes `root` has once every alias is expanded; YamlError above `limit` or on
    an alias that contains itself. Iterative, memoised by node: linear in the composed graph."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if key in sizes:
            continue
        children = _children(node)
        if children_done:
            open_nodes.discard(key)
            total = 1 + sum(sizes[id(child)] for child in children)
            if total > limit:
                raise YamlError(
                    f"its aliases (`*name`) and merge keys (`<<`) expand to over {limit:,} values",
                    node.start_mark.line + 1,
                    "write the values out, or use fewer levels of aliases",
                )
            sizes[key] = total
            continue
        if key in open_nodes:
            raise YamlError("an alias refers to the value that contains it", node.start_mark.line + 1,
                            "an anchor (`&name`) cannot be used inside its own value")
        open_nodes.add(key)
        stack.append((node, True))
        for child in children:
            if id(child) in open_nodes:
                raise YamlError("an alias refers to the value that contains it", child.start_mark.line + 1,
                                "an anchor (`&name`) cannot be used inside its own value")
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _size(count: int) -> str:
    return f"{count / 2**20:.1f} MiB" if count >= 2**20 else f"{count / 2**10:.0f} KiB"
