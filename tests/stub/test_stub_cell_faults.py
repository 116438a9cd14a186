"""Cell faults: one caller gets one operation wrong, and every other cell stays as it was."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from mmconform.stub import CellSpec, RunningStub, StubOptions, parse_cell_fault, start_stub
from mmconform.stub.__main__ import build_parser
from mmconform.stub.cell_faults import CELL_CALLERS, describe_cell_fault
from mmconform.stub.handlers import OPERATIONS
from tests.stub._helpers import Api


@pytest.fixture(scope="module")
def stub() -> Iterator[RunningStub]:
    with start_stub(StubOptions()) as running:
        yield running


@pytest.fixture
def caller(stub: RunningStub) -> Iterator[Api]:
    api = Api(stub)
    yield api
    stub.state.cell_faults = frozenset()
    api.close()


def _flip(stub: RunningStub, *specs: str) -> None:
    stub.state.cell_faults = frozenset(parse_cell_fault(spec) for spec in specs)


def test_parse_and_describe() -> None:
    fault = parse_cell_fault("grant:GetLogs:system_user")
    assert fault == CellSpec("grant", "GetLogs", "system_user")
    assert str(fault) == "grant:GetLogs:system_user"
    assert "GetLogs lets system_user" in describe_cell_fault(fault)
    assert parse_cell_fault("DENY:CheckIntegrity:local").kind == "deny"
    assert set(CELL_CALLERS) >= {"anonymous", "local", "system_admin"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("grant:GetLogs", "expected grant:OPERATION:CALLER"),
        ("allow:GetLogs:system_user", "kind must be one of grant, deny"),
        ("grant:GetLog:system_user", "unknown operation 'GetLog'"),
        ("grant:GetLogs:team_admin", "unknown caller 'team_admin'"),
    ],
)
def test_malformed_cell_faults_are_named(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_cell_fault(text)


def test_the_command_line_takes_cell_faults_beside_named_ones() -> None:
    args = build_parser().parse_args(
        ["--fault", "grant:GetLogs:system_user", "--fault", "TIMEZONES_AS_TEXT"]
    )
    kinds = {type(fault).__name__ for fault in args.fault}
    assert kinds == {"CellSpec", "Fault"}
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--fault", "grant:Nope:system_user"])


@pytest.mark.off_contract
def test_grant_lets_one_role_through_and_no_other(stub: RunningStub, caller: Api) -> None:
    assert caller("GET", "/api/v4/logs?logs_per_page=1", "system_user").status_code == 403
    _flip(stub, "grant:GetLogs:system_user")
    assert caller("GET", "/api/v4/logs?logs_per_page=1", "system_user").status_code == 200
    # the neighbouring cells are untouched
    assert caller("GET", "/api/v4/logs?logs_per_page=1", "system_user_manager").status_code == 403
    assert caller("GET", "/api/v4/audits", "system_user").status_code == 403
    assert caller("GET", "/api/v4/logs", "anonymous").status_code == 401


@pytest.mark.off_contract
def test_deny_refuses_one_role_with_the_permission_error(stub: RunningStub, caller: Api) -> None:
    _flip(stub, "deny:GetLogs:system_manager", "deny:GetPing:anonymous")
    refused = caller("GET", "/api/v4/logs?logs_per_page=1", "system_manager")
    assert refused.status_code == 403
    assert refused.json()["id"] == "api.context.permissions.app_error"
    assert caller("GET", "/api/v4/logs?logs_per_page=1", "system_admin").status_code == 200
    assert caller("GET", "/api/v4/system/ping", "anonymous").status_code == 403
    assert caller("GET", "/api/v4/system/ping", "system_user").status_code == 200


@pytest.mark.off_contract
def test_grant_opens_session_operations_to_anonymous_callers(
    stub: RunningStub, caller: Api
) -> None:
    _flip(stub, "grant:GetServerBusyExpires:anonymous", "grant:PostLog:anonymous")
    assert caller("GET", "/api/v4/server_busy", "anonymous").status_code == 200
    # the developer-mode gate of POST /logs is an access check too
    logged = caller("POST", "/api/v4/logs", "anonymous", json={"level": "INFO", "message": "x"})
    assert logged.status_code == 200
    assert caller("GET", "/api/v4/system/timezones", "anonymous").status_code == 401


@pytest.mark.off_contract
def test_grant_serves_a_route_the_transport_does_not_have(stub: RunningStub, caller: Api) -> None:
    assert caller("POST", "/api/v4/integrity", "system_user").status_code == 404
    assert caller.local("GET", "/api/v4/audits").status_code == 404
    _flip(stub, "grant:CheckIntegrity:system_user", "grant:GetAudits:local")
    assert caller("POST", "/api/v4/integrity", "system_user").status_code == 200
    assert caller("POST", "/api/v4/integrity", "system_admin").status_code == 404
    assert caller("POST", "/api/v4/integrity", "anonymous").status_code == 404
    assert caller.local("GET", "/api/v4/audits").status_code == 200
    assert caller.local("GET", "/api/v4/config/environment").status_code == 404


@pytest.mark.off_contract
def test_deny_on_the_local_socket(stub: RunningStub, caller: Api) -> None:
    _flip(stub, "deny:GetConfig:local")
    assert caller.local("GET", "/api/v4/config").status_code == 403
    assert caller.local("GET", "/api/v4/logs?logs_per_page=1").status_code == 200
    assert caller("GET", "/api/v4/config").status_code == 200


@pytest.mark.off_contract
def test_a_granted_caller_still_meets_the_handlers_own_answers(
    stub: RunningStub, caller: Api
) -> None:
    """Only the access checks change: the support packet still needs a license."""
    _flip(stub, "grant:GenerateSupportPacket:system_user")
    packet = caller("GET", "/api/v4/system/support_packet", "system_user")
    assert packet.status_code == 403
    assert packet.json()["id"] == "api.no_license"


@pytest.mark.off_contract
def test_a_granted_reader_sees_the_config_unfiltered(stub: RunningStub, caller: Api) -> None:
    _flip(stub, "grant:GetConfig:system_user")
    config = caller("GET", "/api/v4/config", "system_user").json()
    assert config["SqlSettings"]["DriverName"] is not None
    stub.state.cell_faults = frozenset()
    # a granted answer is not served from the cache to the same role afterwards
    assert caller("GET", "/api/v4/config", "system_user").status_code == 403
    manager = caller("GET", "/api/v4/config", "system_user_manager").json()
    assert manager["SqlSettings"]["DriverName"] is None


def test_every_operation_can_be_named() -> None:
    for op in OPERATIONS:
        for who in CELL_CALLERS:
            assert parse_cell_fault(f"deny:{op.name}:{who}").operation == op.name


def test_cell_faults_start_with_the_stub() -> None:
    options = StubOptions(cell_faults=frozenset({parse_cell_fault("deny:GetPing:system_admin")}))
    with start_stub(options) as running:
        token = running.tokens["system_admin"]
        with httpx.Client(base_url=running.url, trust_env=False) as client:
            headers = {"Authorization": f"Bearer {token}"}
            assert client.get("/api/v4/system/ping", headers=headers).status_code == 403
            assert client.get("/api/v4/system/ping").status_code == 200
