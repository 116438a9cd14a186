"""Connected components of a graph given as groups of names that belong together."""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["connected_groups"]


def connected_groups(groups: Iterable[Iterable[str]]) -> list[tuple[str, ...]]:
    """Merge every two groups that share a name; return the merged groups, each sorted.

    >>> connected_groups([("a", "b"), ("c",), ("b", "d")])
    [('a', 'b', 'd'), ('c',)]
    """
    parent: dict[str, str] = {}

    def root(name: str) -> str:
        while parent.setdefault(name, name) != name:
            parent[name] = parent[parent[name]]
            name = parent[name]
        return name

    for group in groups:
        members = list(group)
        for member in members:
            root(member)
        for other in members[1:]:
            a, b = root(members[0]), root(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    merged: dict[str, list[str]] = {}
    for name in parent:
        merged.setdefault(root(name), []).append(name)
    return sorted(tuple(sorted(members)) for members in merged.values())
