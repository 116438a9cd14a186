"""Which differences the contract predicts between the two sides' versions and editions.

A difference is *explained* when one of these says the two sides must answer differently:

1. the operation's availability (``x-mm-min-version``, ``x-mm-removed-in``): one side has it,
   the other does not;
2. the permission matrix (``expected_cell``): the cells of this caller differ between the two
   sides' conditions (edition gates, the license gate, local-mode routes by version, ...) and
   each side's answer is the one its cell expects;
3. an erratum with per-version rules: the two versions fall under different rules, and one of
   its cases expects each side's answer (status and AppError id) on its own side and something
   else on the other; for a difference of key sets, the case must also name the keys
   (``fields``);
4. a response field that only servers from some version send (``x-mm-min-version`` on the
   field in the response schema): its key appears on one side only;
5. a parameter the request sends that one side does not know yet (the parameter's
   ``x-mm-min-version``).

Each explanation names the annotation or erratum. Anything else is *unexplained*.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

from mmconform._version import Version
from mmconform.contract import Contract, Expectation, MatrixConditions, expected_cell
from mmconform.diff._compare import Difference
from mmconform.diff._sides import SideFacts

__all__ = ["Explainer", "Explanation", "Instance"]


@dataclass(frozen=True)
class Explanation:
    """Why the contract predicts a difference: the annotation or erratum, and how."""

    source: str
    text: str


@dataclass(frozen=True)
class Instance:
    """One difference in one exchange, with what explaining it needs."""

    operation: str
    caller: str
    method: str
    target: str
    difference: Difference
    baseline_status: int
    baseline_error_id: str | None
    candidate_status: int
    candidate_error_id: str | None

    @property
    def parameters(self) -> frozenset[str]:
        query = urlsplit(self.target).query
        return frozenset(name for name, _ in parse_qsl(query, keep_blank_values=True))


class Explainer:
    """The contract's predictions for one pair of sides."""

    def __init__(self, contract: Contract, baseline: SideFacts, candidate: SideFacts) -> None:
        self.contract = contract
        self.baseline = baseline
        self.candidate = candidate
        self._conditions = (
            MatrixConditions.default_install(
                contract,
                version=baseline.version,
                edition=baseline.edition,
                licensed=baseline.licensed,
            ),
            MatrixConditions.default_install(
                contract,
                version=candidate.version,
                edition=candidate.edition,
                licensed=candidate.licensed,
            ),
        )

    def explain(self, instance: Instance) -> Explanation | None:
        """The first rule that predicts ``instance``, or None (the most specific first: a
        parameter one side does not know explains any difference of a request that sends it,
        so it is asked last)."""
        rules = (
            (self._availability, self._parameters)
            if instance.difference.kind == "effect"
            else (self._availability, self._matrix, self._errata, self._fields, self._parameters)
        )
        for rule in rules:
            found = rule(instance)
            if found is not None:
                return found
        return None

    # -- 1. availability ----------------------------------------------------------------------
    def _availability(self, instance: Instance) -> Explanation | None:
        operation = self.contract.operation(instance.operation)
        before = operation.unavailability(self.baseline.version)
        after = operation.unavailability(self.candidate.version)
        if (before is None) == (after is None):
            return None
        why = before or after or ""
        source = "x-mm-min-version" if "x-mm-min-version" in why else "x-mm-removed-in"
        has, lacks = ("candidate", "baseline") if before is not None else ("baseline", "candidate")
        return Explanation(
            f"{source} ({instance.operation})",
            f"{why}: the {has} has the operation, the {lacks} does not",
        )

    # -- 2. parameters ------------------------------------------------------------------------
    def _parameters(self, instance: Instance) -> Explanation | None:
        operation = self.contract.operation(instance.operation)
        before = set(operation.unsupported_parameters(self.baseline.version))
        after = set(operation.unsupported_parameters(self.candidate.version))
        sent = sorted((before ^ after) & instance.parameters)
        if not sent:
            return None
        name = sent[0]
        first = operation.parameter_min_versions[name]
        return Explanation(
            f"x-mm-min-version ({instance.operation} parameter {name})",
            f"the request sends {name}, which servers know from {first}: "
            f"{self.baseline.server_version} and {self.candidate.server_version} fall on "
            "either side",
        )

    # -- 3. the permission matrix -------------------------------------------------------------
    def _matrix(self, instance: Instance) -> Explanation | None:
        if instance.difference.kind not in ("status", "error-id", "content-type", "body-kind"):
            return None
        before, after = (
            expected_cell(self.contract, instance.operation, instance.caller, conditions)
            for conditions in self._conditions
        )
        if (before.access, before.answers, before.passes) == (
            after.access,
            after.answers,
            after.passes,
        ):
            return None
        if not before.accepts(instance.baseline_status, instance.baseline_error_id):
            return None
        if not after.accepts(instance.candidate_status, instance.candidate_error_id):
            return None
        reasons = [r for r in (*before.reasons, *after.reasons) if r not in _common(before, after)]
        source = _annotation_in(reasons) or "permission matrix"
        return Explanation(
            f"{source} ({instance.operation})",
            f"as {instance.caller}: baseline {before.describe()}; candidate "
            f"{after.describe()} ({'; '.join(dict.fromkeys(reasons))})",
        )

    # -- 4. errata with per-version rules -----------------------------------------------------
    def _errata(self, instance: Instance) -> Explanation | None:
        before_version, after_version = self.baseline.version, self.candidate.version
        if before_version is None or after_version is None:
            return None
        kind = instance.difference.kind
        if kind not in ("status", "error-id", "content-type", "body-kind", "keys"):
            return None
        for erratum in self.contract.errata_for(instance.operation):
            before_rule = erratum.rule_for(before_version)
            after_rule = erratum.rule_for(after_version)
            if before_rule is None or after_rule is None or before_rule is after_rule:
                continue
            for case in sorted(set(before_rule.expect) & set(after_rule.expect)):
                expect_before = before_rule.expect[case]
                expect_after = after_rule.expect[case]
                if expect_before == expect_after:
                    continue
                if not expect_before.allows(
                    instance.baseline_status, instance.baseline_error_id
                ) or not expect_after.allows(
                    instance.candidate_status, instance.candidate_error_id
                ):
                    continue
                if kind == "keys" and not _fields_cover(
                    instance.difference, (*expect_before.fields, *expect_after.fields)
                ):
                    continue
                return Explanation(
                    f"erratum {erratum.id}",
                    f"case {case}: {self.baseline.server_version} answers "
                    f"{_describe(expect_before)}, {self.candidate.server_version} answers "
                    f"{_describe(expect_after)}",
                )
        return None

    # -- 5. response fields by version --------------------------------------------------------
    def _fields(self, instance: Instance) -> Explanation | None:
        if instance.difference.kind != "keys":
            return None
        versions = self.contract.response_field_versions(
            instance.operation, instance.baseline_status
        )
        changed = changed_keys(instance.difference)
        if not changed or not all(
            location in versions and _between(versions[location], self.baseline, self.candidate)
            for location in changed
        ):
            return None
        found = ", ".join(f"{location} from {versions[location]}" for location in changed)
        return Explanation(
            f"x-mm-min-version ({instance.operation} response field {', '.join(changed)})",
            f"servers send {found}: {self.baseline.server_version} and "
            f"{self.candidate.server_version} fall on either side",
        )


def _between(first: Version, baseline: SideFacts, candidate: SideFacts) -> bool:
    before, after = baseline.version, candidate.version
    if before is None or after is None:
        return False
    return (before < first) != (after < first)


def changed_keys(difference: Difference) -> list[str]:
    """The locations of the keys a ``keys`` difference adds or removes."""
    base = "" if difference.location == "/" else difference.location
    keys = (*difference.baseline.split(", "), *difference.candidate.split(", "))
    return [f"{base}/{key}" for key in keys if key and key != "—"]


def _fields_cover(difference: Difference, fields: tuple[str, ...]) -> bool:
    changed = changed_keys(difference)
    return bool(changed) and all(location in fields for location in changed)


def _describe(expectation: Expectation) -> str:
    options = []
    for option in (expectation, *expectation.also):
        text = str(option.status) + (f" {option.error_id}" if option.error_id else "")
        if option.note:
            text += f" ({option.note})"
        options.append(text)
    return " or ".join(options)


def _common(*cells: object) -> set[str]:
    sets = [set(getattr(cell, "reasons", ())) for cell in cells]
    return set.intersection(*sets) if sets else set()


#: The annotations a matrix explanation is named after, most specific first.
_NAMING_ORDER = (
    "x-mm-edition-gates",
    "x-mm-license",
    "x-mm-config-gates",
    "erratum",
    "x-mm-local-mode",
    "x-mm-restrict-system-admin",
    "x-mm-auth",
    "x-mm-permissions",
    "x-mm-roles",
)
_NAMED = re.compile(r"(x-mm-[a-z-]+|erratum [a-z0-9-]+)")


def _annotation_in(reasons: list[str]) -> str | None:
    """The most specific annotation (or erratum) the reasons name."""
    named = [match.group(1) for reason in reasons for match in _NAMED.finditer(reason)]
    for prefix in _NAMING_ORDER:
        for name in named:
            if name.startswith(prefix):
                return name
    return named[0] if named else None
