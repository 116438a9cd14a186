"""Merging the files of a sharded selftest into one score.

Each shard file says which selection it was cut from (a fingerprint of the mutants), which
contract it ran against and which shard it is. Shards merge only when they all agree on the
selection, the contract and the number of shards, every shard is there exactly once, no
mutant is in two of them and together they are the whole selection, checked against this
checkout's own catalogue. Anything else is refused with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmconform.selftest._catalogue import Mutant
from mmconform.selftest._runner import Outcome
from mmconform.selftest._shards import catalogue_fingerprint
from mmconform.selftest._summary import FORMAT, Provenance

__all__ = ["MergeError", "Merged", "merge_shards"]


class MergeError(ValueError):
    """The shard files cannot be merged; the message says why."""


@dataclass(frozen=True)
class Merged:
    outcomes: list[Outcome]
    provenance: Provenance
    #: the sum of the shards' wall times (what one machine would have taken)
    wall_seconds: float
    #: the longest shard's wall time (what the matrix took)
    longest_seconds: float
    sample: bool


def _read(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MergeError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except ValueError as exc:
        raise MergeError(f"{path}: not a selftest file (not JSON: {exc})") from None
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise MergeError(
            f"{path}: not a selftest shard file of this version (format "
            f"{document.get('format') if isinstance(document, dict) else '?'}, expected {FORMAT})"
        )
    return document


def merge_shards(
    paths: Sequence[Path], catalogue: Sequence[Mutant], contract: dict[str, str]
) -> Merged:
    """The merged outcomes of the shard files, in catalogue order (``MergeError`` when they do
    not form one whole selftest of this catalogue and contract)."""
    if not paths:
        raise MergeError("no shard files given")
    documents = [(path, _read(path)) for path in paths]
    first_path, first = documents[0]
    provenance = first["provenance"]
    for path, document in documents:
        theirs = document["provenance"]
        if theirs.get("shard") is None:
            raise MergeError(f"{path}: not a shard (a whole selftest run needs no merging)")
        for key, what in (
            ("selection", "a different selection of mutants (another catalogue or filter)"),
            ("contract", "a different contract (spec files)"),
        ):
            if theirs.get(key) != provenance.get(key):
                raise MergeError(f"{path} and {first_path} were made from {what}")
        if theirs["shard"]["count"] != provenance["shard"]["count"]:
            raise MergeError(
                f"{path} is one of {theirs['shard']['count']} shards, {first_path} one of "
                f"{provenance['shard']['count']}"
            )
    if provenance.get("contract") != contract:
        raise MergeError(
            "the shards ran against another contract than this checkout's spec/ "
            "(spec file hashes differ)"
        )
    count = int(provenance["shard"]["count"])
    indices = sorted(int(document["provenance"]["shard"]["index"]) for _, document in documents)
    if indices != list(range(1, count + 1)):
        missing = sorted(set(range(1, count + 1)) - set(indices))
        twice = sorted({i for i in indices if indices.count(i) > 1})
        raise MergeError(
            f"shards of {count}: missing {missing or 'none'}, given twice {twice or 'none'}"
        )
    by_key = {mutant.key: mutant for mutant in catalogue}
    entries: dict[str, tuple[Path, dict[str, Any]]] = {}
    for path, document in documents:
        for entry in document["mutants"]:
            key = entry["key"]
            if key not in by_key:
                raise MergeError(f"{path}: mutant {key} is not in this checkout's catalogue")
            if key in entries:
                raise MergeError(f"mutant {key} is in {entries[key][0]} and in {path}")
            entries[key] = (path, entry)
    selected = [mutant for mutant in catalogue if mutant.key in entries]
    if catalogue_fingerprint(selected) != provenance["selection"]:
        raise MergeError(
            f"the shards hold {len(selected)} mutants that are not the selection they were cut "
            f"from ({provenance['selected']} mutants): a shard is missing mutants, or the "
            "catalogue changed since"
        )
    outcomes = [
        Outcome(
            mutant=mutant,
            verdict=entries[mutant.key][1]["verdict"],
            caught_by=entries[mutant.key][1]["caught_by"],
            seconds=float(entries[mutant.key][1]["seconds"]),
            returncode=int(entries[mutant.key][1]["returncode"]),
            detail=entries[mutant.key][1].get("detail", ""),
        )
        for mutant in selected
    ]
    walls = [float(document.get("wall_seconds", 0.0)) for _, document in documents]
    return Merged(
        outcomes=outcomes,
        provenance=Provenance(
            selection=provenance["selection"],
            selected=int(provenance["selected"]),
            contract=dict(contract),
        ),
        wall_seconds=sum(walls),
        longest_seconds=max(walls),
        sample=bool(first["summary"].get("sample")),
    )
