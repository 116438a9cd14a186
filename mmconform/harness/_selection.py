"""What runs against this target, decided per collected conformance item.

An item names the operations it exercises: schemathesis items by their operation label, every
other test through ``mm_operation`` marks. From those and the target's facts come:

* deselection, with a reason: the operation is newer than the target or removed before it,
  destructive while destructive operations are off, local-only in the HTTP contract run, or not
  among the ``--operation`` selection;
* the xdist group: items that change the same server-wide state (or states some operation
  changes together) share one group, so ``--dist loadgroup`` never runs them concurrently;
* skips for roles the target did not give a token for: *unsupported* where the target cannot
  hold the role (``_roles``), otherwise a missing role.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

import pytest

from mmconform._components import connected_groups
from mmconform._version import Version
from mmconform.contract import FEATURES, ROLES, Contract, Operation, Requirement
from mmconform.harness._results import describe_item
from mmconform.harness._roles import role_skip_reason
from mmconform.harness._target import Target
from mmconform.report import UNSUPPORTED_PREFIX, unavailable_role_reason

__all__ = [
    "CONFORMANCE_MARK",
    "SUITE_ORDER",
    "Selection",
    "SelectionFacts",
    "in_feedback_order",
    "item_operation_label",
    "missing_role_reason",
    "select",
]

CONFORMANCE_MARK = "conformance"
#: The marks of a conformance test, as registered by the plugin.
MARKERS = (
    f"{CONFORMANCE_MARK}: a conformance test (collected under suites/; needs a target)",
    "mm_operation(*operation_ids): the spec operations a test exercises",
    "mm_role(*roles): roles whose tokens the test needs (skipped, with the reason, if absent; "
    "unsupported where the target cannot hold the role)",
    "mm_destructive: the test changes state a real server cannot afford to lose",
    "mm_refusal_only: the test only sends requests a correct server refuses, and what a wrong "
    "server would do with them is harmless or put back by the test: it runs even where "
    "destructive operations are excluded",
    "mm_global_state(*states): server-wide states the test changes (decides its xdist group)",
    "mm_requirement(*ids): requirements of spec/requirements.yaml the test proves",
    "mm_feature(*names): optional features of the target the test needs",
    *(
        f"{feature}: needs the target feature {feature} (see [target].features)"
        for feature in sorted(FEATURES)
    ),
)


@dataclass(frozen=True)
class SelectionFacts:
    """What selection needs to know about the target and the run's options."""

    server_version: Version | None
    allow_destructive: bool
    roles: tuple[str, ...]
    #: "enterprise" or "team" (None: unknown)
    edition: str | None = None
    #: optional features the target claims (the target file's ``features``)
    features: frozenset[str] = frozenset()
    #: operationIds given with --operation (empty: all)
    selected_operations: tuple[str, ...] = ()
    #: whether xdist workers share the target (False: each runs its own embedded stub, so no
    #: worker can disturb another's server-wide state and tests need no xdist group)
    shared_target: bool = True
    #: role -> why the target cannot hold it (tests needing it are unsupported)
    unavailable_roles: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


@dataclass
class Selection:
    """The outcome: items to run, items deselected with their reason, items left out by
    ``--operation`` (reported by pytest as deselected, without a reason of ours)."""

    keep: list[pytest.Item]
    deselected: dict[pytest.Item, str]
    not_selected: list[pytest.Item]


def item_operation_label(item: pytest.Item) -> str | None:
    """``GET /api/v4/system/ping`` for schemathesis items, None for others."""
    label = getattr(item, "operation_label", None)
    return label if isinstance(label, str) else None


def missing_role_reason(role: str, target: Target | None) -> str:
    """Why a test that needs ``role`` does not run on ``target``: unsupported where the target
    cannot hold the role, otherwise the role is missing, and the reason says how to give it."""
    return role_skip_reason(role, target)


def item_operations(item: pytest.Item, contract: Contract) -> list[Operation]:
    """The operations ``item`` exercises (UsageError for an ``mm_operation`` the contract lacks)."""
    operations: list[Operation] = []
    label = item_operation_label(item)
    if label is not None:
        method, _, path = label.partition(" ")
        operations.append(contract.find(method, path))
    for mark in item.iter_markers("mm_operation"):
        for op_id in mark.args:
            try:
                operations.append(contract.operation(op_id))
            except KeyError:
                raise pytest.UsageError(
                    f"{item.nodeid}: mm_operation names {op_id!r}, which is not an operationId "
                    "of spec/openapi.yaml"
                ) from None
    return operations


def item_requirements(item: pytest.Item, contract: Contract) -> list[Requirement]:
    """The requirements ``item`` proves (UsageError for an id the catalogue lacks)."""
    found = []
    for mark in item.iter_markers("mm_requirement"):
        for req_id in mark.args:
            try:
                found.append(contract.requirement(str(req_id)))
            except KeyError:
                raise pytest.UsageError(
                    f"{item.nodeid}: mm_requirement names {req_id!r}, which is not a requirement "
                    "of spec/requirements.yaml"
                ) from None
    return found


def exclusion_reason(
    item: pytest.Item,
    operations: Sequence[Operation],
    facts: SelectionFacts,
    requirements: Sequence[Requirement] = (),
) -> str | None:
    """Why ``item`` must not run against this target, or None."""
    for requirement in requirements:
        reason = requirement.applies_to(facts.server_version, facts.edition)
        if reason is not None:
            return reason
    for operation in operations:
        reason = operation.unavailability(facts.server_version)
        if reason is not None:
            return reason
        refusal_only = item.get_closest_marker("mm_refusal_only") is not None
        if operation.destructive and not facts.allow_destructive and not refusal_only:
            return (
                f"{operation.operation_id} is destructive (x-mm-destructive) and "
                "--allow-destructive is off for this target"
            )
        if operation.auth == "local-only" and item_operation_label(item) is not None:
            return (
                f"{operation.operation_id} is served only on the local-mode unix socket "
                "(x-mm-auth local-only); the HTTP contract run cannot reach it"
            )
    if item.get_closest_marker("mm_destructive") is not None and not facts.allow_destructive:
        return "destructive test and --allow-destructive is off for this target"
    return None


def item_states(item: pytest.Item, operations: Iterable[Operation]) -> tuple[str, ...]:
    """Server-wide states an item changes or depends on (decides its xdist group)."""
    states = {state for operation in operations for state in operation.grouping_states}
    for mark in item.iter_markers("mm_global_state"):
        states.update(str(arg) for arg in mark.args)
    return tuple(sorted(states))


def state_groups(state_sets: Iterable[Iterable[str]]) -> dict[str, str]:
    """Each state -> the xdist group of every state some operation or test touches with it."""
    return {
        state: "mm-state-" + "+".join(group)
        for group in connected_groups(state_sets)
        for state in group
    }


def _selected(operations: Sequence[Operation], facts: SelectionFacts) -> bool:
    wanted = facts.selected_operations
    return not wanted or any(op.operation_id in wanted for op in operations)


def select(
    items: Sequence[pytest.Item],
    contract: Contract,
    facts: SelectionFacts,
    category_of: Callable[[pytest.Item], str] = lambda item: "custom",
) -> Selection:
    """Decide, for conformance ``items``, what runs; add xdist groups, role skips and the
    description the reports read (category, operations, roles...) to those that do."""
    operations = {item: item_operations(item, contract) for item in items}
    states = {item: item_states(item, operations[item]) for item in items}
    groups = state_groups(
        [op.grouping_states for op in contract.operations] + list(states.values())
    )
    selection = Selection(keep=[], deselected={}, not_selected=[])
    for item in items:
        if not _selected(operations[item], facts):
            selection.not_selected.append(item)
            continue
        reason = exclusion_reason(item, operations[item], facts, item_requirements(item, contract))
        if reason is not None:
            selection.deselected[item] = reason
            continue
        if facts.shared_target and states[item] and item.get_closest_marker("xdist_group") is None:
            # All states of one item lie in one connected group, hence one group name.
            item.add_marker(pytest.mark.xdist_group(groups[states[item][0]]))
        requirements = item_requirements(item, contract)
        features = _mark_features(item, requirements, facts.features)
        _skip_for_roles(item, facts)
        describe_item(
            item,
            category=category_of(item),
            operations=[op.operation_id for op in operations[item]],
            features=features,
        )
        selection.keep.append(item)
    return selection


def item_features(item: pytest.Item, requirements: Sequence[Requirement]) -> tuple[str, ...]:
    """Optional features a test needs: its ``mm_feature`` marks and its requirements'."""
    named = [str(f) for mark in item.iter_markers("mm_feature") for f in mark.args]
    unknown = sorted(set(named) - FEATURES)
    if unknown:
        raise pytest.UsageError(
            f"{item.nodeid}: mm_feature names {unknown}; known features: {sorted(FEATURES)}"
        )
    needed = dict.fromkeys([*named, *(f for req in requirements for f in req.features)])
    return tuple(needed)


def _mark_features(
    item: pytest.Item, requirements: Sequence[Requirement], claimed: frozenset[str]
) -> tuple[str, ...]:
    """Mark the test with each feature it needs (so ``-m smtp`` selects it), and skip it as
    unsupported when the target does not claim one."""
    needed = item_features(item, requirements)
    for feature in needed:
        item.add_marker(getattr(pytest.mark, feature))
    missing = [feature for feature in needed if feature not in claimed]
    if missing:
        item.add_marker(
            pytest.mark.skip(
                reason=f"{UNSUPPORTED_PREFIX}the target does not claim "
                f"{', '.join(missing)} (list what it supports in [target].features)"
            )
        )
    return needed


#: The order the suites run in, cheap and decisive first: the scenarios (a few seconds), the
#: permission matrix and visibility, the official clients, then the contract suite's thousands
#: of generated cases. With ``-x`` a fault is found in seconds. A suite not named here runs just
#: before the contract suite.
SUITE_ORDER: Final = ("scenarios", "permissions", "clients", "contract")


def in_feedback_order(
    items: Sequence[pytest.Item],
    is_conformance: Callable[[pytest.Item], bool],
    suite_of: Callable[[pytest.Item], str],
) -> list[pytest.Item]:
    """``items`` with the conformance tests in ``SUITE_ORDER``; a stable sort (the order within
    a suite is kept) that leaves every other test where it was."""
    contract = SUITE_ORDER.index("contract")

    def rank(item: pytest.Item) -> float:
        suite = suite_of(item)
        return SUITE_ORDER.index(suite) if suite in SUITE_ORDER else contract - 0.5

    slots = [index for index, item in enumerate(items) if is_conformance(item)]
    ordered = sorted((items[index] for index in slots), key=rank)
    result = list(items)
    for index, item in zip(slots, ordered, strict=True):
        result[index] = item
    return result


def _skip_for_roles(item: pytest.Item, facts: SelectionFacts) -> None:
    """Skip a test needing a role without a token: unsupported when the target cannot hold
    one of them, else for the first missing one."""
    needed = [
        role
        for mark in item.iter_markers("mm_role")
        for role in mark.args
        if role in ROLES and role not in facts.roles
    ]
    unavailable = [role for role in needed if role in facts.unavailable_roles]
    if unavailable:
        role = unavailable[0]
        reason = unavailable_role_reason(role, facts.unavailable_roles[role])
    elif needed:
        reason = role_skip_reason(needed[0], None)
    else:
        return
    item.add_marker(pytest.mark.skip(reason=reason))
