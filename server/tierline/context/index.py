"""The workspace's definitions, by name: a plain table the event loop reads and writes.

It is filled by `background.py` (the parsing happens in a worker process: tree-sitter holds the
GIL while it parses, 180 ms for a 12,000-line file, which a thread would take from the event
loop). A request reads whatever the table holds at that moment: an index still building gives
fewer snippets, never a slower answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tierline.context.definitions import Definition


@dataclass
class IndexStats:
    files: int = 0
    definitions: int = 0
    seconds: float = 0.0
    ready: bool = False


class DefinitionIndex:
    def __init__(self) -> None:
        self.stats = IndexStats()
        self._by_name: dict[str, list[Definition]] = {}
        self._by_path: dict[str, tuple[Definition, ...]] = {}

    def lookup(self, name: str) -> Sequence[Definition]:
        return self._by_name.get(name, ())

    def defined_in(self, path: str) -> tuple[Definition, ...]:
        return self._by_path.get(path, ())

    def __len__(self) -> int:
        return len(self._by_path)

    def set(self, path: str, definitions: list[Definition] | tuple[Definition, ...]) -> None:
        """Replace a file's definitions ([] removes the file). Lists grown in place: a name defined
        in thousands of files (`__init__`) costs one append per definition, not a copy."""
        old = self._by_path.get(path, ())
        for name in {d.name for d in old}:
            kept = [d for d in self._by_name.get(name, ()) if d.path != path]
            if kept:
                self._by_name[name] = kept
            else:
                self._by_name.pop(name, None)
        if definitions:
            self._by_path[path] = tuple(definitions)
        else:
            self._by_path.pop(path, None)
        for definition in definitions:
            self._by_name.setdefault(definition.name, []).append(definition)
        self.stats.files = len(self._by_path)
