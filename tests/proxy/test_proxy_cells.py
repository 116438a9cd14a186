"""Cell faults: one operation, one caller, and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmconform._wire import PERMISSION_ERROR_ID
from mmconform.proxy import MUTATIONS, check_catalogue, parse_mutation
from mmconform.stub import RunningStub
from tests.proxy._helpers import proxied


def test_grant_sends_the_caller_as_system_admin(stub: RunningStub, stub_target: Path) -> None:
    with proxied(stub, stub_target, ["grant:GetLogs:system_user"]) as p:
        assert p.direct("GET", "/api/v4/logs", "system_user").status_code == 403
        assert p.proxied("GET", "/api/v4/logs", "system_user").status_code == 200
        # other callers and other operations are untouched
        assert p.proxied("GET", "/api/v4/logs", None).status_code == 401
        assert p.proxied("GET", "/api/v4/audits", "system_user").status_code == 403
        assert p.proxied("GET", "/api/v4/logs", "system_user_manager").status_code == 403


def test_grant_to_anonymous(stub: RunningStub, stub_target: Path) -> None:
    with proxied(stub, stub_target, ["grant:GetConfig:anonymous"]) as p:
        assert p.proxied("GET", "/api/v4/config", None).status_code == 200
        assert p.proxied("GET", "/api/v4/logs", None).status_code == 401


def test_deny_answers_the_permission_error(stub: RunningStub, stub_target: Path) -> None:
    with proxied(stub, stub_target, ["deny:GetLogs:system_manager"]) as p:
        assert p.direct("GET", "/api/v4/logs", "system_manager").status_code == 200
        denied = p.proxied("GET", "/api/v4/logs", "system_manager")
        assert denied.status_code == 403
        body = denied.json()
        assert body["id"] == PERMISSION_ERROR_ID
        assert body["status_code"] == 403
        assert body["request_id"] == denied.headers["x-request-id"]
        assert denied.headers["x-version-id"].startswith(stub.server_version)
        assert denied.headers["content-type"] == "application/json"
        assert p.proxied("GET", "/api/v4/logs", "system_admin").status_code == 200
        assert p.proxied("GET", "/api/v4/config", "system_manager").status_code == 200


def test_deny_anonymous_ping(stub: RunningStub, stub_target: Path) -> None:
    with proxied(stub, stub_target, ["deny:GetPing:anonymous"]) as p:
        assert p.proxied("GET", "/api/v4/system/ping", None).status_code == 403
        assert p.proxied("GET", "/api/v4/system/ping", "system_user").status_code == 200


def test_several_cells_at_once(stub: RunningStub, stub_target: Path) -> None:
    cells = ["grant:GetLogs:system_user", "deny:GetConfig:system_read_only_admin"]
    with proxied(stub, stub_target, cells) as p:
        assert p.proxied("GET", "/api/v4/logs", "system_user").status_code == 200
        assert p.proxied("GET", "/api/v4/config", "system_read_only_admin").status_code == 403
        assert p.proxied("GET", "/api/v4/logs", "system_read_only_admin").status_code == 200


def test_parsed_cells_describe_themselves() -> None:
    grant = parse_mutation("grant:GetLogs:system_user")
    assert grant.kind == "fault"
    assert grant.area == "permissions"
    assert grant.operations == ("GetLogs",)
    assert "system_admin token" in grant.description
    deny = parse_mutation("deny:GetPing:anonymous")
    assert deny.operations == ("GetPing",)
    assert PERMISSION_ERROR_ID in deny.description
    assert grant.name not in MUTATIONS
    assert parse_mutation(" PING_STATUS_DROPPED ") is MUTATIONS["PING_STATUS_DROPPED"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("NOPE", "unknown mutation 'NOPE'; known: PING_STATUS_DROPPED"),
        ("grant:GetLogs", "expected grant:OPERATION:CALLER"),
        ("grant:NoSuchOp:system_user", "unknown operation 'NoSuchOp'"),
        ("deny:GetLogs:root", "unknown caller 'root'"),
        ("deny:GetLogs:local", "never sees the local socket"),
        ("grant:GetLogs:system_admin", "cannot be granted more"),
        ("allow:GetLogs:system_user", "unknown mutation"),
    ],
)
def test_bad_names(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_mutation(text)


def test_the_catalogue_is_checked_and_importing_the_proxy_reads_no_contract() -> None:
    """Every name, area and operation of the catalogue is checked when it is first built; a
    bare import (the selftest's, the command line's) builds nothing and parses no spec."""
    import subprocess
    import sys

    code = (
        "import mmconform.proxy, mmconform.selftest\n"
        "from mmconform.contract import _contract\n"
        "print(_contract._default_contract.cache_info().currsize)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "0", done.stdout + done.stderr
    check_catalogue()
