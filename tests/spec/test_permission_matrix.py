"""The permission matrix computed from the contract, held against a table written by hand.

The table below was written from the behaviour reference (its role table, 1.6, and its quick
matrix of wrappers and permission checks, 3), not from spec/openapi.yaml: a mistake in either the
annotations, the errata or the computation shows as a difference.
"""

from __future__ import annotations

import pytest

from mmconform.contract import (
    ALLOWED,
    CATCH_ALL_ERROR,
    DENIED,
    EITHER,
    LOCAL,
    NO_LICENSE_ERROR,
    NOT_SERVED,
    PERMISSION_ERROR_ID,
    REFUSED,
    SESSION_ERROR_ID,
    UNAUTHENTICATED,
    CellExpectation,
    Contract,
    MatrixConditions,
    Version,
    expected_cell,
    load_contract,
    permission_matrix,
)
from mmconform.contract._matrix import ERRATA_CASES

NEWEST = Version(11, 1, 0)
COLUMNS = (
    "anonymous",
    "system_user",
    "system_read_only_admin",
    "system_manager",
    "system_user_manager",
    "system_admin",
    "local",
)
_KIND = {
    "A": ALLOWED,
    "D": DENIED,
    "U": UNAUTHENTICATED,
    "R": REFUSED,
    "N": NOT_SERVED,
}

# A newest Enterprise build, unlicensed, as installed (developer mode off, RestrictSystemAdmin
# off). Columns: anonymous, user, read-only admin, manager, user manager, admin, local socket.
# A passes, D 403 permission error, U 401, R refused after the permission check, N 404.
DEFAULT_INSTALL = """
GetSupportedTimezone            U A A A A A N
GetPing                         A A A A A A A
GetNotices                      U A A A A A N
MarkNoticesViewed               U A A A A A N
DatabaseRecycle                 U D D A D A N
TestEmail                       U D D A D A N
TestNotification                U A A A A A N
TestSiteURL                     U D D A D A N
TestS3Connection                U D D A D A N
GetConfig                       U D A A A A A
UpdateConfig                    U D D A A A A
ReloadConfig                    U D D A D A A
GetClientConfig                 A A A A A A A
GetEnvironmentConfig            U A A A A A N
PatchConfig                     U D D A A A A
UploadLicenseFile               U D D D D A A
RemoveLicenseFile               U D D D D A A
GetClientLicense                A A A A A A N
GetLicenseLoadMetric            U A A A A A N
RequestTrialLicense             U D D D D A N
GetPrevTrialLicense             U A A A A A N
GetAudits                       U D A D D A N
InvalidateCaches                U D D A D A N
GetLogs                         U D A A D A A
PostLog                         D A A A A A N
GetAnalyticsOld                 U D A A D A N
GetServerBusyExpires            U D D D D A A
SetServerBusy                   U D D D D A A
ClearServerBusy                 U D D D D A A
AcknowledgeNotification         U A A A A A N
GetRedirectLocation             U A A A A A N
GetImageByUrl                   U A A A A A N
UpgradeToEnterprise             U D D D D R N
UpgradeToEnterpriseStatus       U D D D D A N
IsAllowedToUpgradeToEnterprise  U D D D D R N
RestartServer                   U D D D D A N
CheckIntegrity                  N N N N N N A
GenerateSupportPacket           U D D D D R R
"""


def _table(text: str) -> dict[tuple[str, str], str]:
    cells = {}
    for line in text.strip().splitlines():
        op_id, *kinds = line.split()
        assert len(kinds) == len(COLUMNS), line
        for role, kind in zip(COLUMNS, kinds, strict=True):
            cells[(op_id, role)] = _KIND[kind]
    return cells


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract()


def _default(contract: Contract, **changes: object) -> MatrixConditions:
    base = MatrixConditions.default_install(contract, version=NEWEST)
    return base.replace(**changes) if changes else base


def test_default_install_matrix_matches_the_hand_written_table(contract: Contract) -> None:
    computed = permission_matrix(contract, _default(contract))
    expected = _table(DEFAULT_INSTALL)
    got = {key: cell.access for key, cell in computed.items()}
    differences = sorted(
        f"{op}/{role}: table {expected.get((op, role))}, computed {got.get((op, role))}"
        for op, role in set(expected) | set(got)
        if expected.get((op, role)) != got.get((op, role))
    )
    assert not differences, "\n".join(differences)
    # 38 operations on the newest servers (the renewal link is gone) x 7 callers
    assert len(computed) == 38 * 7


def test_refusals_name_the_answer(contract: Contract) -> None:
    conditions = _default(contract)

    def cell(op_id: str, role: str) -> CellExpectation:
        return expected_cell(contract, op_id, role, conditions)

    logs = cell("GetLogs", "system_user")
    assert logs.accepts(403, PERMISSION_ERROR_ID)
    assert not logs.accepts(403, "api.license.upgrade_needed.app_error")
    assert not logs.accepts(200, None)
    assert logs.statuses == (403,)
    assert "get_logs" in logs.reasons[0]
    anonymous = cell("GetLogs", "anonymous")
    assert anonymous.accepts(401, SESSION_ERROR_ID)
    assert not anonymous.accepts(403, PERMISSION_ERROR_ID)
    allowed = cell("GetLogs", "system_read_only_admin")
    assert allowed.accepts(200, None)
    assert not allowed.accepts(403, PERMISSION_ERROR_ID)
    assert not allowed.accepts(401, SESSION_ERROR_ID)
    assert 200 in allowed.statuses
    assert 403 not in allowed.statuses
    packet = cell("GenerateSupportPacket", "system_admin")
    assert packet.accepts(403, NO_LICENSE_ERROR)
    assert not packet.accepts(403, PERMISSION_ERROR_ID)
    integrity = cell("CheckIntegrity", "system_admin")
    assert integrity.accepts(404, CATCH_ALL_ERROR)
    assert not integrity.accepts(200, None)
    # An edition gate without an id takes any id but the permission error.
    upgrade = cell("IsAllowedToUpgradeToEnterprise", "system_admin")
    assert upgrade.accepts(403, "you cannot upgrade your server")
    assert not upgrade.accepts(403, PERMISSION_ERROR_ID)
    assert cell("IsAllowedToUpgradeToEnterprise", "system_user").accepts(403, PERMISSION_ERROR_ID)


def test_validation_before_permission_is_shown(contract: Contract) -> None:
    cell = expected_cell(contract, "TestEmail", "system_user", _default(contract))
    assert any("before the permission check" in note for note in cell.notes)
    assert not expected_cell(contract, "GetLogs", "system_user", _default(contract)).notes


# Team Edition (behaviour.md 2.21, 2.22; the audit on GetPrevTrialLicense): no license manager.
TEAM_EDITION = """
RequestTrialLicense             U D D D D R N
GetPrevTrialLicense             U R R R R R N
UpgradeToEnterprise             U D D D D A N
IsAllowedToUpgradeToEnterprise  U D D D D A N
"""


def test_team_edition_refuses_the_trial_operations(contract: Contract) -> None:
    computed = permission_matrix(contract, _default(contract, edition="team"))
    for key, kind in _table(TEAM_EDITION).items():
        assert computed[key].access == kind, key
    prev = computed[("GetPrevTrialLicense", "system_user")]
    assert prev.accepts(403, "api.license.upgrade_needed.app_error")
    assert not prev.accepts(200, None)


def test_a_license_lets_the_support_packet_through(contract: Contract) -> None:
    computed = permission_matrix(contract, _default(contract, licensed=True))
    assert computed[("GenerateSupportPacket", "system_admin")].access == ALLOWED
    assert computed[("GenerateSupportPacket", LOCAL)].access == ALLOWED
    assert computed[("GenerateSupportPacket", "system_manager")].access == DENIED


def test_developer_mode_lets_anonymous_callers_log(contract: Contract) -> None:
    """behaviour.md 2.26: EnableDeveloper on accepts anyone, off refuses callers without a
    session with 403."""
    setting = "ServiceSettings.EnableDeveloper"
    on = expected_cell(
        contract, "PostLog", "anonymous", _default(contract, settings={setting: True})
    )
    off = expected_cell(
        contract, "PostLog", "anonymous", _default(contract, settings={setting: False})
    )
    assert on.access == ALLOWED
    assert off.access == DENIED
    assert off.accepts(403, PERMISSION_ERROR_ID)
    unknown = MatrixConditions(version=NEWEST)
    either = expected_cell(contract, "PostLog", "anonymous", unknown)
    assert either.access == EITHER
    assert either.accepts(200, None)
    assert either.accepts(403, PERMISSION_ERROR_ID)


# RestrictSystemAdmin on (behaviour.md 1.5 and each operation's tests; upstream-audit 1.4).
# Newest servers: every caller but the socket gets 403 permission error on the restricted
# operations; TestS3Connection is not restricted.
RESTRICTED_NEWEST = """
DatabaseRecycle                 U D D D D D N
TestEmail                       U D D D D D N
TestSiteURL                     U D D D D D N
TestS3Connection                U D D A D A N
ReloadConfig                    U D D D D D A
UploadLicenseFile               U D D D D D A
RemoveLicenseFile               U D D D D D A
RequestTrialLicense             U D D D D D N
InvalidateCaches                U D D D D D N
GetLogs                         U D D D D D A
GenerateSupportPacket           U D D D D D R
GetAudits                       U D A D D A N
SetServerBusy                   U D D D D A A
"""


def test_restrict_system_admin_on_the_newest_servers(contract: Contract) -> None:
    computed = permission_matrix(contract, _default(contract, restrict_system_admin=True))
    for key, kind in _table(RESTRICTED_NEWEST).items():
        assert computed[key].access == kind, key
    admin = computed[("DatabaseRecycle", "system_admin")]
    assert admin.accepts(403, PERMISSION_ERROR_ID)
    assert not admin.accepts(403, "api.restricted_system_admin")


def test_restrict_system_admin_on_older_servers(contract: Contract) -> None:
    """Before 10.8: the permission first, then api.restricted_system_admin (reload 400); S3
    restricted too; logs and the support packet restricted first, the socket included."""
    old = _default(contract, version=Version(10, 7, 0), restrict_system_admin=True)

    def cell(op_id: str, role: str) -> CellExpectation:
        return expected_cell(contract, op_id, role, old)

    assert cell("DatabaseRecycle", "system_admin").accepts(403, "api.restricted_system_admin")
    assert not cell("DatabaseRecycle", "system_admin").accepts(403, PERMISSION_ERROR_ID)
    assert cell("DatabaseRecycle", "system_user").accepts(403, PERMISSION_ERROR_ID)
    assert cell("ReloadConfig", "system_manager").accepts(400, "api.restricted_system_admin")
    assert cell("ReloadConfig", LOCAL).access == ALLOWED
    assert cell("TestS3Connection", "system_manager").accepts(403, "api.restricted_system_admin")
    assert cell("GetLogs", "system_user").accepts(403, "api.restricted_system_admin")
    assert not cell("GetLogs", "system_user").accepts(403, PERMISSION_ERROR_ID)
    assert cell("GetLogs", LOCAL).accepts(403, "api.restricted_system_admin")
    assert cell("GetLogs", LOCAL).access == DENIED
    # between 10.8 and 10.9 either form is correct
    between = old.replace(version=Version(10, 8, 1))
    s3 = expected_cell(contract, "TestS3Connection", "system_manager", between)
    assert s3.access == EITHER
    assert s3.accepts(400, "api.admin.test_s3.missing_s3_bucket")
    assert s3.accepts(403, "api.restricted_system_admin")


# Local-mode routes by version (erratum local-routes-by-version): the client config from 8.0,
# the client license from 11.5 (either between 11.4 and 11.6).
@pytest.mark.parametrize(
    ("version", "client_config", "client_license"),
    [
        (Version(7, 0, 0), NOT_SERVED, NOT_SERVED),
        (Version(8, 1, 0), ALLOWED, NOT_SERVED),
        (Version(11, 5, 0), ALLOWED, EITHER),
        (Version(11, 10, 0), ALLOWED, ALLOWED),
    ],
)
def test_local_routes_by_version(
    contract: Contract, version: Version, client_config: str, client_license: str
) -> None:
    conditions = _default(contract, version=version)
    assert expected_cell(contract, "GetClientConfig", LOCAL, conditions).access == client_config
    assert expected_cell(contract, "GetClientLicense", LOCAL, conditions).access == client_license


def test_unknown_edition_and_license_accept_both(contract: Contract) -> None:
    unknown = MatrixConditions(version=NEWEST, edition=None, licensed=None)
    prev = expected_cell(contract, "GetPrevTrialLicense", "system_user", unknown)
    assert prev.access == EITHER
    assert prev.accepts(200, None)
    assert prev.accepts(403, "api.license.upgrade_needed.app_error")
    packet = expected_cell(contract, "GenerateSupportPacket", "system_admin", unknown)
    assert packet.accepts(200, None)
    assert packet.accepts(403, NO_LICENSE_ERROR)
    assert not packet.accepts(403, PERMISSION_ERROR_ID)


def test_older_versions_have_fewer_rows(contract: Contract) -> None:
    old = permission_matrix(contract, _default(contract, version=Version(8, 1, 0)))
    operations = {op for op, _ in old}
    assert "RequestLicenseRenewalLink" in operations
    assert "TestNotification" not in operations
    assert "IsAllowedToUpgradeToEnterprise" not in operations
    assert old[("RequestLicenseRenewalLink", "system_admin")].access == ALLOWED
    assert old[("RequestLicenseRenewalLink", "system_manager")].access == DENIED


def test_the_errata_cases_the_matrix_reads_exist(contract: Contract) -> None:
    for erratum_id, cases in ERRATA_CASES.items():
        erratum = contract.erratum(erratum_id)
        for rule in erratum.versions:
            missing = [case for case in cases if case not in rule.expect]
            assert not missing, (erratum_id, rule.from_version, rule.below, missing)


def test_unknown_column_is_refused(contract: Contract) -> None:
    with pytest.raises(KeyError, match="no matrix column"):
        expected_cell(contract, "GetPing", "team_admin", _default(contract))
