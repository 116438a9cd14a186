"""Recordings: the requests a comparison sent to one side and the answers it received, one JSON
line each, so that a CI job needs one server at a time.

The first line is a header: the format and its version, the sha256 of the contract files that
generated the requests and explain the differences, the side's facts and how the requests were
generated. Then each distinct request once (``"type": "request"``, without credentials: the
caller is named, the token is not), and each answer (``"type": "answer"``) with the request it
answers, its caller, and the locations of its volatile values (kept, but marked); an answer to a
step of a sequence also names the sequence and the step, and holds what the step observed
(format version 2; version 1 recordings hold no sequences and are still read). Answers pass
the redactor before they are written, so no token reaches the file. A name ending in ``.gz`` is
written and read compressed.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, Final

from mmconform import __version__
from mmconform.contract import Contract
from mmconform.diff._exitcodes import EXIT_RECORDING_REFUSED, EXIT_USAGE, DiffProblem
from mmconform.diff._model import Answer, RequestSpec
from mmconform.diff._sides import SideFacts
from mmconform.report import spec_hashes

__all__ = [
    "CONTRACT_FILES",
    "READABLE_FORMAT_VERSIONS",
    "RECORDING_FORMAT",
    "RECORDING_FORMAT_VERSION",
    "Recorded",
    "Recorder",
    "Recording",
    "contract_hashes",
    "read_recording",
]

RECORDING_FORMAT: Final = "mmconform-diff-recording"
RECORDING_FORMAT_VERSION: Final = 2
#: The format versions this mmconform reads (1: written before sequences were recorded).
READABLE_FORMAT_VERSIONS: Final = (1, 2)
#: The spec files whose hashes a recording must share with the contract replaying it: the one
#: that generates the requests and the one that explains differences.
CONTRACT_FILES: Final = ("openapi.yaml", "errata.yaml")


def contract_hashes(contract: Contract) -> dict[str, str]:
    """sha256 of the contract files a recording depends on."""
    hashes = spec_hashes(contract.spec_dir)
    return {name: hashes[name] for name in CONTRACT_FILES if name in hashes}


def _open_text(path: Path, mode: str, *, compressed: bool) -> IO[str]:
    if compressed:
        raw = open(path, mode + "b")  # noqa: SIM115 - wrapped and closed by the caller
        return io.TextIOWrapper(gzip.GzipFile(fileobj=raw, mode=mode + "b"), encoding="utf-8")
    return open(path, mode, encoding="utf-8")


class Recorder:
    """Writes one recording. It is written beside its final name and moved there only when the
    run ends well, and it never replaces an existing file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.exists():
            raise DiffProblem(
                f"--record {path}: the file exists; a recording never replaces another run's "
                "file (name a new one)",
                EXIT_USAGE,
            )
        self._partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
        try:
            self._handle = _open_text(self._partial, "x", compressed=path.suffix == ".gz")
        except OSError as exc:
            raise DiffProblem(f"--record {path}: {exc.strerror or exc}", EXIT_USAGE) from None
        self._requests: set[str] = set()
        self.answers = 0

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        self._handle.close()
        if kind is not None:
            self._partial.unlink(missing_ok=True)
            return
        try:
            os.link(self._partial, self.path)
        except FileExistsError:
            raise DiffProblem(
                f"--record {self.path}: the file appeared while the run was going; the "
                f"recording is left at {self._partial}",
                EXIT_USAGE,
            ) from None
        self._partial.unlink()

    def header(
        self,
        contract: Contract,
        facts: SideFacts,
        *,
        generation: Mapping[str, Any],
    ) -> None:
        self._write(
            {
                "type": "header",
                "format": RECORDING_FORMAT,
                "format_version": RECORDING_FORMAT_VERSION,
                "contract": contract_hashes(contract),
                "mmconform": __version__,
                "recorded_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "side": {"url": facts.url, **facts.as_record()},
                "generation": dict(generation),
            }
        )

    def answer(
        self,
        request: RequestSpec,
        caller: str,
        answer: Answer,
        volatile: Sequence[str],
        *,
        sequence: Mapping[str, Any] | None = None,
    ) -> None:
        """One answer; ``sequence`` (``name``, ``step``, ``observed``, ``clean_up``) for a
        step of a sequence."""
        if request.key not in self._requests:
            self._requests.add(request.key)
            self._write({"type": "request", "key": request.key, **request.as_record()})
        self.answers += 1
        self._write(
            {
                "type": "answer",
                "seq": self.answers,
                "request": request.key,
                "caller": caller,
                **answer.as_record(),
                "volatile": list(volatile),
                **({"sequence": dict(sequence)} if sequence is not None else {}),
            }
        )

    def _write(self, record: Mapping[str, Any]) -> None:
        self._handle.write(json.dumps(record, sort_keys=True, ensure_ascii=False) + "\n")


@dataclass(frozen=True)
class Recorded:
    """One recorded answer, with its request and caller."""

    line: int
    request: RequestSpec
    caller: str
    answer: Answer
    #: the sequence step it answers (``name``, ``step``, ``observed``, ``clean_up``), if any
    sequence: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Recording:
    """A recording read back and checked."""

    path: Path
    header: Mapping[str, Any]
    facts: SideFacts
    answers: tuple[Recorded, ...] = field(default=())

    @property
    def allow_destructive(self) -> bool:
        return bool(self.header.get("generation", {}).get("allow_destructive"))


def _refuse(path: Path, why: str) -> DiffProblem:
    return DiffProblem(f"--against {path}: {why}", EXIT_RECORDING_REFUSED)


def _lines(path: Path) -> Iterator[tuple[int, Any]]:
    try:
        with _open_text(path, "r", compressed=path.suffix == ".gz") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield number, json.loads(line)
                except ValueError:
                    raise _refuse(path, f"line {number} is not JSON") from None
    except FileNotFoundError:
        raise _refuse(path, "no such file") from None
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise _refuse(path, f"cannot be read ({exc})") from None


def read_recording(path: Path, contract: Contract) -> Recording:
    """Read a recording; refuse (exit 21) another format, another format version or a
    recording made with another contract."""
    lines = _lines(path)
    first = next(lines, None)
    if first is None:
        raise _refuse(path, "the file is empty")
    _, header = first
    if not isinstance(header, dict) or header.get("format") != RECORDING_FORMAT:
        raise _refuse(path, f"not an mmconform diff recording (no {RECORDING_FORMAT} header)")
    version = header.get("format_version")
    if version not in READABLE_FORMAT_VERSIONS:
        raise _refuse(
            path,
            f"recording format version {version!r}; this mmconform reads versions "
            f"{', '.join(map(str, READABLE_FORMAT_VERSIONS))}: record it again with this "
            "mmconform",
        )
    ours = contract_hashes(contract)
    theirs = header.get("contract") or {}
    changed = sorted(name for name in ours if theirs.get(name) != ours[name])
    if changed:
        raise _refuse(
            path,
            f"recorded with another contract ({', '.join(changed)} differ: "
            f"{', '.join(f'{n} {str(theirs.get(n))[:12]} here {ours[n][:12]}' for n in changed)}"
            "); its requests and explanations would not be this contract's: record it again "
            "with this checkout",
        )
    requests: dict[str, RequestSpec] = {}
    answers: list[Recorded] = []
    for number, record in lines:
        try:
            kind = record["type"]
            if kind == "request":
                requests[str(record["key"])] = RequestSpec.from_record(record)
            elif kind == "answer":
                request = requests[str(record["request"])]
                sequence = record.get("sequence")
                if sequence is not None:
                    sequence = {
                        "name": str(sequence["name"]),
                        "step": int(sequence["step"]),
                        "observed": dict(sequence.get("observed") or {}),
                        "clean_up": bool(sequence.get("clean_up")),
                        "unmet": sequence.get("unmet"),
                    }
                answers.append(
                    Recorded(
                        number,
                        request,
                        str(record["caller"]),
                        Answer.from_record(record),
                        sequence,
                    )
                )
            else:
                raise _refuse(path, f"line {number}: unknown record type {kind!r}")
        except (KeyError, TypeError, ValueError) as exc:
            raise _refuse(
                path, f"line {number} is malformed ({type(exc).__name__}: {exc})"
            ) from None
    side = header.get("side") or {}
    return Recording(
        path=path,
        header=header,
        facts=SideFacts.from_record(side, url=str(side.get("url", ""))),
        answers=tuple(answers),
    )
