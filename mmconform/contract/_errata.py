"""Reading ``spec/errata.yaml``: where the seed description and real servers disagree, the
decision taken, and the effects and per-version expectations the suites apply."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mmconform.contract._model import ContractEffects, Erratum, Expectation, VersionRule
from mmconform.contract._vocabulary import (
    _STATUS_RE,
    ALL_OPERATIONS,
    CHECK_NAMES,
    DECISIONS,
    ERRATA_TOPICS,
    ContractError,
)
from mmconform.contract._yaml import load_yaml, parse_version, status_key

__all__ = ["parse_errata"]


def parse_errata(path: Path, operation_ids: Collection[str]) -> tuple[Erratum, ...]:
    """Read and check spec/errata.yaml (none when the file is absent)."""
    if not path.is_file():
        return ()
    raw = load_yaml(path)
    entries = raw.get("errata") if isinstance(raw, dict) else raw
    if not isinstance(entries, list):
        raise ContractError(f"{path}: expected a list of errata (or a mapping 'errata:')")
    seen: set[str] = set()
    out = []
    required = ("id", "operations", "topic", "seed", "server", "decision", "why")
    optional = ("contract", "versions")
    for index, entry in enumerate(entries):
        where = f"{path}: errata[{index}]"
        if not isinstance(entry, dict):
            raise ContractError(f"{where}: not a mapping")
        if isinstance(entry.get("id"), str):
            where = f"{path}: erratum {entry['id']}"
        for key in required:
            if key not in entry:
                raise ContractError(f"{where}: missing field {key!r}")
        unknown = set(entry) - set(required) - set(optional)
        if unknown:
            raise ContractError(f"{where}: unknown field(s) {sorted(unknown)}")
        for key in ("id", "topic", "seed", "server", "decision", "why"):
            if not isinstance(entry[key], str) or not entry[key].strip():
                raise ContractError(f"{where}: field {key!r} must be a non-empty string")
        if entry["id"] in seen:
            raise ContractError(f"{where}: duplicate id")
        seen.add(entry["id"])
        if entry["decision"] not in DECISIONS:
            raise ContractError(
                f"{where}: field 'decision': unknown value {entry['decision']!r} "
                f"(expected one of {sorted(DECISIONS)})"
            )
        if entry["topic"] not in ERRATA_TOPICS:
            raise ContractError(
                f"{where}: field 'topic': unknown value {entry['topic']!r} "
                f"(expected one of {sorted(ERRATA_TOPICS)})"
            )
        ops = entry["operations"]
        if not isinstance(ops, list) or not ops:
            raise ContractError(f"{where}: field 'operations' must be a non-empty list")
        for op_id in ops:
            if op_id != ALL_OPERATIONS and op_id not in operation_ids:
                raise ContractError(f"{where}: field 'operations': unknown operationId {op_id!r}")
        versions = _parse_rules(entry.get("versions"), where)
        if entry["decision"] == "version-dependent" and not versions:
            raise ContractError(f"{where}: version-dependent entries need 'versions' rules")
        out.append(
            Erratum(
                id=entry["id"],
                operations=tuple(ops),
                topic=entry["topic"],
                seed=entry["seed"].strip(),
                server=entry["server"].strip(),
                decision=entry["decision"],
                why=entry["why"].strip(),
                contract=_effects(entry.get("contract"), f"{where}: contract"),
                versions=versions,
            )
        )
    return tuple(out)


def _parse_rules(raw: Any, where: str) -> tuple[VersionRule, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ContractError(f"{where}: field 'versions' must be a list of rules")
    rules = []
    for index, rule in enumerate(raw):
        rwhere = f"{where}: versions[{index}]"
        if not isinstance(rule, dict):
            raise ContractError(f"{rwhere}: not a mapping")
        unknown = set(rule) - {"from", "below", "expect", "contract"}
        if unknown:
            raise ContractError(f"{rwhere}: unknown key(s) {sorted(unknown)}")
        if "from" not in rule and "below" not in rule:
            raise ContractError(f"{rwhere}: needs 'from' and/or 'below'")
        lower = parse_version(rule.get("from"), f"{rwhere}.from")
        upper = parse_version(rule.get("below"), f"{rwhere}.below")
        if lower and upper and upper <= lower:
            raise ContractError(f"{rwhere}: 'below' must be after 'from'")
        expect_raw = rule.get("expect", {}) or {}
        if not isinstance(expect_raw, dict):
            raise ContractError(f"{rwhere}.expect: expected a mapping case -> expectation")
        expect: dict[str, Expectation] = {}
        for case, exp in expect_raw.items():
            expect[str(case)] = _expectation(exp, f"{rwhere}.expect.{case}", nested=False)
        rules.append(
            VersionRule(
                lower,
                upper,
                MappingProxyType(expect),
                _effects(rule.get("contract"), f"{rwhere}.contract"),
            )
        )
    return tuple(rules)


def _effects(raw: Any, where: str) -> ContractEffects:
    if raw is None:
        return ContractEffects()
    if not isinstance(raw, Mapping):
        raise ContractError(f"{where}: expected a mapping with skip_checks/extra_status")
    unknown = set(raw) - {"skip_checks", "extra_status"}
    if unknown:
        raise ContractError(f"{where}: unknown keys {sorted(unknown)}")
    skip = raw.get("skip_checks", []) or []
    extra = raw.get("extra_status", []) or []
    if not isinstance(skip, list) or not all(isinstance(c, str) for c in skip):
        raise ContractError(f"{where}.skip_checks: expected a list of check names")
    bad = sorted(set(skip) - CHECK_NAMES)
    if bad:
        raise ContractError(
            f"{where}.skip_checks: unknown check names {bad} (known: {sorted(CHECK_NAMES)})"
        )
    if not isinstance(extra, list):
        raise ContractError(f"{where}.extra_status: expected a list of status codes")
    statuses = [status_key(code) for code in extra]
    for code in statuses:
        if not _STATUS_RE.match(code):
            raise ContractError(f"{where}.extra_status: not a status code: {code!r}")
    return ContractEffects(frozenset(skip), frozenset(statuses))


def _expectation(raw: Any, where: str, *, nested: bool) -> Expectation:
    if not isinstance(raw, dict) or not isinstance(raw.get("status"), int):
        raise ContractError(f"{where}: needs an integer 'status'")
    allowed = {"status", "error_id", "note", "fields"} | (set() if nested else {"also"})
    extra = set(raw) - allowed
    if extra:
        raise ContractError(f"{where}: unknown key(s) {sorted(extra)}")
    also_raw = raw.get("also", []) or []
    if not isinstance(also_raw, list):
        raise ContractError(f"{where}.also: expected a list of {{status, error_id?, note?}}")
    also = tuple(
        _expectation(option, f"{where}.also[{index}]", nested=True)
        for index, option in enumerate(also_raw)
    )
    fields = raw.get("fields", []) or []
    if not isinstance(fields, list) or not all(
        isinstance(f, str) and f.startswith("/") for f in fields
    ):
        raise ContractError(f"{where}.fields: expected a list of answer locations like '/name'")
    return Expectation(raw["status"], raw.get("error_id"), raw.get("note"), also, tuple(fields))
