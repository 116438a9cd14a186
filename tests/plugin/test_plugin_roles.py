"""Which roles a target can hold: a role without a token is *missing* where the target could
hold it and *unavailable* where it cannot (the contract's license rule for the edition and
license the server shows, or the target file's word); a test needing it says which."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from mmconform.contract import load_contract
from mmconform.harness import Secret, ServerFacts, Target, Transport, missing_role_reason
from mmconform.harness._roles import learn_unavailable_roles
from mmconform.harness._server_facts import learn_server_facts
from mmconform.harness._target import resolve_target
from mmconform.stub import StubOptions, start_stub
from mmconform.stub._license import build_license, fixture_dir, sign_license

NEW_ROLES = ("system_manager", "system_user_manager", "system_read_only_admin")


def admin_and_user(**extra: object) -> Target:
    return Target(
        url="http://h",
        tokens={
            "system_admin": Secret("a", "system_admin"),
            "system_user": Secret("u", "system_user"),
        },
        **extra,  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("facts", "cause"),
    [
        (ServerFacts(edition="team", licensed=False), "Team Edition build"),
        (ServerFacts(edition="enterprise", licensed=False), "holds no license"),
        (
            ServerFacts(
                edition="enterprise",
                licensed=True,
                license_features={"CustomPermissionsSchemes": False},
            ),
            "does not grant CustomPermissionsSchemes",
        ),
    ],
)
def test_roles_nobody_can_hold_there_are_unavailable_not_missing(
    facts: ServerFacts, cause: str
) -> None:
    target = admin_and_user()
    reasons = learn_unavailable_roles(load_contract(), target, facts)
    assert tuple(reasons) == NEW_ROLES
    assert all(cause in why and "CustomPermissionsSchemes" in why for why in reasons.values())
    known = target.with_unavailable_roles(reasons)
    assert known.missing_roles == ()
    assert known.roles == ("system_admin", "system_user")
    reason = missing_role_reason("system_manager", known)
    assert reason.startswith("unsupported: role system_manager cannot be held on this target: ")


def test_on_a_server_that_can_hold_them_the_roles_not_given_are_missing() -> None:
    facts = ServerFacts(
        edition="enterprise", licensed=True, license_features={"CustomPermissionsSchemes": True}
    )
    target = admin_and_user()
    assert learn_unavailable_roles(load_contract(), target, facts) == {}
    assert target.missing_roles == NEW_ROLES
    reason = missing_role_reason("system_manager", target)
    assert reason.startswith("role system_manager not given")
    assert "mmconform provision" in reason


def test_a_token_given_for_a_role_is_used_whatever_the_license() -> None:
    target = Target(
        url="http://h", tokens={"system_manager": Secret("m", "system_manager")}
    ).with_unavailable_roles({"system_manager": "no license"})
    assert target.unavailable_roles == {}
    assert target.roles == ("system_manager",)
    reasons = learn_unavailable_roles(
        load_contract(), target, ServerFacts(edition="team", licensed=False)
    )
    assert "system_manager" not in reasons


def test_the_target_files_word_stands_where_the_contract_knows_nothing(tmp_path: Path) -> None:
    path = tmp_path / "t.toml"
    path.write_text(
        "[target]\nurl = 'http://h'\n[tokens]\nsystem_admin = 'a'\n"
        "[unavailable]\nsystem_manager = 'PUT roles answered 400 x'\n"
        "system_user = 'refused'\n",
        encoding="utf-8",
    )
    target = resolve_target(target_file=path, target_url=None, environ={})
    assert target is not None
    assert "system_manager" not in target.missing_roles
    licensed = ServerFacts(edition="enterprise", licensed=True, license_features=None)
    reasons = learn_unavailable_roles(load_contract(), target, licensed)
    assert reasons == {
        "system_manager": "the target file marks it unavailable (PUT roles answered 400 x)",
        "system_user": "the target file marks it unavailable (refused)",
    }
    # a token from the environment beats the file's mark
    with_env = resolve_target(
        target_file=path, target_url=None, environ={"MMCONFORM_TOKEN_SYSTEM_USER": "u"}
    )
    assert with_env is not None
    assert "system_user" not in with_env.unavailable_roles
    assert "system_user" in with_env.roles


def test_the_license_features_are_learnt_from_the_client_license(tmp_path: Path) -> None:
    now_ms = int(time.time() * 1000)
    narrow = tmp_path / "narrow.mattermost-license"
    narrow.write_bytes(
        sign_license(
            build_license(
                issued_at=now_ms - 1000,
                expires_at=now_ms + 10**12,
                custom_permissions_schemes=False,
            )
        )
    )
    for license_file, granted in (
        (fixture_dir() / "valid.mattermost-license", True),
        (narrow, False),
        (None, None),
    ):
        with start_stub(StubOptions(license_file=license_file, local_mode=False)) as stub:
            target = Target(url=stub.url)
            ping = httpx.get(f"{stub.url}/api/v4/system/ping", timeout=5, trust_env=False)
            facts, _ = learn_server_facts(target, Transport(), ping)
        features = facts.license_features
        assert (None if features is None else features["CustomPermissionsSchemes"]) is granted
