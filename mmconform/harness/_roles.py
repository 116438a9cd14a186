"""Which roles this target can hold, and why a test that needs a role does not run.

A role without a token is either *missing* (the target could hold it; the run is incomplete
without it) or *unavailable* (nobody on this target can hold it: the target file says so, or the
contract's license rule of role assignment does for the edition and license the preflight
found). Tests needing an unavailable role are reported unsupported, with the reason; the verdict
names the roles and the rule. A role with a token is always tested.
"""

from __future__ import annotations

from collections.abc import Mapping

from mmconform.contract import ROLES, Contract
from mmconform.harness._server_facts import ServerFacts
from mmconform.harness._target import Target
from mmconform.report import unavailable_role_reason

__all__ = ["learn_unavailable_roles", "missing_role_text", "role_skip_reason"]


def learn_unavailable_roles(
    contract: Contract, target: Target, facts: ServerFacts
) -> Mapping[str, str]:
    """role -> why the target cannot hold it, for the roles it was given no token for: the
    contract's rule for the target's edition and license first, else the target file's word."""
    reasons: dict[str, str] = {}
    for role in ROLES:
        if role in target.tokens:
            continue
        why = contract.role_unavailability(
            role,
            edition=facts.edition,
            licensed=facts.licensed,
            license_features=facts.license_features,
        ) or target.unavailable_roles.get(role)
        if why:
            reasons[role] = why
    return reasons


def missing_role_text(role: str) -> str:
    """Why a test that needs ``role`` is skipped when the target could hold it, and how to give
    the role."""
    return (
        f"role {role} not given: add it to [tokens] of the target file or set "
        f"MMCONFORM_TOKEN_{role.upper()} (mmconform provision creates the users and tokens)"
    )


def role_skip_reason(role: str, target: Target | None) -> str:
    """The reason a test needing ``role`` does not run on ``target``: unsupported when the
    target cannot hold the role, otherwise missing."""
    why = target.unavailable_roles.get(role) if target is not None else None
    return unavailable_role_reason(role, why) if why else missing_role_text(role)
