"""Generated requests kept between runs: generation is deterministic, so the requests of one
contract, one list of operations and one generation setting are the same every time. They are
kept in ``$XDG_CACHE_HOME/mmconform/diff-cases/`` (``~/.cache`` without ``XDG_CACHE_HOME``),
under a name that digests everything they depend on: the contract document, the operations and
their order, the seed, the example count, the large-body setting, the schemathesis and
Hypothesis releases and the source of the generating code. A file that is missing or unreadable
is generated again; one is written whole or not at all.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from importlib import metadata, resources
from pathlib import Path

from mmconform.contract import Contract
from mmconform.diff._cases import Generation, iter_requests
from mmconform.diff._model import RequestSpec

__all__ = ["cache_dir", "cached_requests"]

_FORMAT = 1


def cache_dir(environ: Mapping[str, str] | None = None) -> Path:
    """Where generated requests are kept."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mmconform" / "diff-cases"


def _digest(contract: Contract, operation_ids: Sequence[str], generation: Generation) -> str:
    digest = hashlib.sha256()
    digest.update(f"format {_FORMAT}\n".encode())
    digest.update((contract.spec_dir / "openapi.yaml").read_bytes())
    digest.update(json.dumps(list(operation_ids)).encode())
    digest.update(
        json.dumps([generation.seed, generation.max_examples, generation.large_bodies]).encode()
    )
    for package in ("schemathesis", "hypothesis"):
        digest.update(f"{package} {metadata.version(package)}\n".encode())
    for module in ("_cases.py", "_model.py"):
        digest.update(resources.files("mmconform.diff").joinpath(module).read_bytes())
    return digest.hexdigest()[:32]


def _read(path: Path) -> list[tuple[str, list[RequestSpec]]] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [
            (str(operation), [RequestSpec.from_record(record) for record in records])
            for operation, records in data["operations"]
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write(path: Path, batches: Sequence[tuple[str, Sequence[RequestSpec]]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        payload = {
            "format": _FORMAT,
            "operations": [
                [operation, [request.as_record() for request in requests]]
                for operation, requests in batches
            ],
        }
        partial.write_text(json.dumps(payload), encoding="utf-8")
        partial.replace(path)
    except OSError:
        return  # a cache that cannot be written only costs the next run its time


def cached_requests(
    contract: Contract,
    operation_ids: Sequence[str],
    generation: Generation,
    *,
    folder: Path | None,
) -> Iterator[tuple[str, list[RequestSpec]]]:
    """What :func:`iter_requests` yields, from the cache in ``folder`` when it has it, else
    generated (and kept there); ``folder`` None generates and keeps nothing."""
    if folder is None:
        yield from iter_requests(contract, operation_ids, generation)
        return
    path = folder / f"{_digest(contract, operation_ids, generation)}.json"
    kept = _read(path)
    if kept is not None:
        yield from kept
        return
    made: list[tuple[str, list[RequestSpec]]] = []
    for operation, requests in iter_requests(contract, operation_ids, generation):
        made.append((operation, requests))
        yield operation, requests
    _write(path, made)
