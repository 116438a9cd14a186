"""x-mm-role-license: which roles a target can hold at all, as the contract records it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmconform.contract import Contract, ContractError, load_contract
from mmconform.stub.handlers.users import NEW_SYSTEM_ROLES, ROLES_LICENSE_ERROR
from tests.spec._helpers import copy_spec, edit_yaml

NEW_ROLES = ("system_manager", "system_user_manager", "system_read_only_admin")


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract()


def test_the_three_newer_system_roles_need_custom_permission_schemes(contract: Contract) -> None:
    rule = contract.role_license
    assert rule.roles == NEW_ROLES
    assert rule.feature == "CustomPermissionsSchemes"
    assert (rule.status, rule.error_id) == (400, "api.user.update_user_roles.license.app_error")
    assert "updateUserRoles" in rule.source


def test_the_stub_refuses_the_same_roles_with_the_same_answer(contract: Contract) -> None:
    """The stub is written from upstream on its own; the two agreeing is the evidence."""
    assert set(contract.role_license.roles) == set(NEW_SYSTEM_ROLES)
    assert contract.role_license.error_id == ROLES_LICENSE_ERROR


@pytest.mark.parametrize(
    ("edition", "licensed", "features", "cause"),
    [
        ("team", False, None, "Team Edition build"),
        ("team", None, None, "Team Edition build"),
        ("enterprise", False, None, "holds no license"),
        (None, False, None, "holds no license"),
        ("enterprise", True, {"CustomPermissionsSchemes": False}, "does not grant"),
    ],
)
@pytest.mark.parametrize("role", NEW_ROLES)
def test_a_target_that_cannot_hold_a_role_is_told_why(
    contract: Contract,
    role: str,
    edition: str | None,
    licensed: bool | None,
    features: dict[str, bool] | None,
    cause: str,
) -> None:
    reason = contract.role_unavailability(
        role, edition=edition, licensed=licensed, license_features=features
    )
    assert reason is not None
    assert cause in reason
    for named in (*NEW_ROLES, "CustomPermissionsSchemes", contract.role_license.error_id):
        assert named in reason


@pytest.mark.parametrize(
    ("role", "edition", "licensed", "features"),
    [
        ("system_admin", "team", False, None),
        ("system_user", "enterprise", False, None),
        ("system_manager", "enterprise", True, None),
        ("system_manager", "enterprise", True, {"CustomPermissionsSchemes": True}),
        ("system_manager", "enterprise", None, None),
        ("system_manager", None, None, None),
    ],
)
def test_a_role_is_only_called_unavailable_when_that_is_known(
    contract: Contract,
    role: str,
    edition: str | None,
    licensed: bool | None,
    features: dict[str, bool] | None,
) -> None:
    assert (
        contract.role_unavailability(
            role, edition=edition, licensed=licensed, license_features=features
        )
        is None
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "  license-feature: CustomPermissionsSchemes\n",
            "",
            "missing keys \\['license-feature'\\]",
        ),
        ("roles: [system_manager,", "roles: [system_admin,", "need no license"),
        ("roles: [system_manager,", "roles: [root,", "built-in roles"),
        ("  status: 400\n", "  status: 200\n", "4xx status"),
    ],
)
def test_a_malformed_rule_is_refused_with_the_field(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    spec = copy_spec(tmp_path)
    edit_yaml(spec / "openapi.yaml", old, new)
    with pytest.raises(ContractError, match=message) as info:
        load_contract(spec)
    assert "x-mm-role-license" in str(info.value)
