"""The support packet: a license needed, and a zip with the sanitised config."""

from __future__ import annotations

import io
import json
import zipfile

import httpx
import pytest

from mmconform.contract import CONFIG_MASK, Contract, Version, setting_value
from mmconform.harness import ServerState
from suites.scenarios.support_test import (
    Verdict,
    shown,
)


@pytest.mark.mm_operation("GenerateSupportPacket")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement(
    "support.needs-license", "permissions.license-gate", "errors.app-error-shape"
)
def test_support_packet_needs_a_license(
    admin_client: httpx.Client, server_state: ServerState, verdict: Verdict
) -> None:
    """On an unlicensed target, as found (no license file needed). A licensed target proves
    the same with the test below, which removes its license for the scenario and installs the
    one its target file names."""
    if server_state.licensed():
        pytest.skip(
            "the target is licensed: test_the_license_gate_closes_without_the_license_and_opens_"
            "with_it proves this there (with --allow-destructive and [target].license_file)"
        )
    response = verdict.record(admin_client.get("/system/support_packet"))
    verdict.app_error(
        response, status=403, error_id="api.no_license", requirement="support.needs-license"
    )


@pytest.mark.mm_operation("GenerateSupportPacket", "UploadLicenseFile", "RemoveLicenseFile")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("license")
@pytest.mark.mm_requirement(
    "support.needs-license", "permissions.license-gate", "errors.app-error-shape"
)
@pytest.mark.mm_feature("license")
def test_the_license_gate_closes_without_the_license_and_opens_with_it(
    admin_client: httpx.Client,
    accepted_license: bytes,
    server_state: ServerState,
    verdict: Verdict,
) -> None:
    """On any target with a license it accepts, licensed or not: without a license the packet
    is refused with api.no_license, with one it is served (the license state is put back)."""
    with server_state.guard({"license"}):
        if server_state.licensed():
            removed = verdict.record(admin_client.delete("/license"))
            verdict.status(removed, 200, what="removing the license")
        refused = verdict.record(admin_client.get("/system/support_packet"))
        verdict.app_error(
            refused, status=403, error_id="api.no_license", requirement="support.needs-license"
        )
        uploaded = admin_client.post("/license", files={"license": ("l", accepted_license)})
        verdict.status(verdict.record(uploaded), 200, what="installing the accepted license")
        served = verdict.record(
            admin_client.get("/system/support_packet", params={"basic_server_logs": "false"})
        )
        verdict.status(served, 200)


@pytest.mark.mm_operation("GenerateSupportPacket", "UploadLicenseFile", "RemoveLicenseFile")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_global_state("license")
@pytest.mark.mm_requirement("support.packet-zip")
@pytest.mark.mm_feature("license")
def test_support_packet_is_a_zip_with_the_sanitized_config(
    admin_client: httpx.Client,
    accepted_license: bytes,
    contract: Contract,
    server_state: ServerState,
    server_version: Version | None,
    verdict: Verdict,
) -> None:
    """On a licensed target (the accepted license is installed for the scenario where none
    is, and removed again)."""
    with server_state.guard({"license"}):
        if not server_state.licensed():
            uploaded = admin_client.post("/license", files={"license": ("l", accepted_license)})
            verdict.status(verdict.record(uploaded), 200, what="installing the accepted license")
        response = verdict.record(admin_client.get("/system/support_packet"))
        verdict.status(response, 200)
        disposition = response.headers.get("content-disposition", "")
        verdict.check(
            response.headers.get("content-type", "").startswith("application/zip")
            and "attachment" in disposition
            and ".zip" in disposition,
            "an application/zip attachment named *.zip",
            received=f"{response.headers.get('content-type')}; {disposition}",
            response=response,
        )
        members = _zip_members(response, verdict)
        config = members.get("sanitized_config.json")
        verdict.check(
            config is not None,
            "a sanitized_config.json member",
            received=f"members {sorted(members)}",
            response=response,
        )
        assert config is not None
        data_source = setting_value(json.loads(config), ("SqlSettings", "DataSource"))
        verdict.check(
            data_source == CONFIG_MASK,
            f"SqlSettings.DataSource masked as {CONFIG_MASK!r} in the packet's config",
            received=shown(("SqlSettings", "DataSource"), data_source),
            response=response,
        )
        if "basic_server_logs" in contract.operation(
            "GenerateSupportPacket"
        ).unsupported_parameters(server_version):
            return
        without = verdict.record(
            admin_client.get("/system/support_packet", params={"basic_server_logs": "false"})
        )
        verdict.status(without, 200)
        names = sorted(_zip_members(without, verdict))
        verdict.check(
            not any(name.endswith("mattermost.log") for name in names),
            "no mattermost.log with basic_server_logs=false",
            received=f"members {names}",
            response=without,
        )


def _zip_members(response: httpx.Response, verdict: Verdict) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
            return {
                info.filename.rsplit("/", 1)[-1]: archive.read(info) for info in archive.infolist()
            }
    except zipfile.BadZipFile as exc:
        problem = str(exc)
    # failed outside the handler, so that the report is the verdict's alone
    verdict.fail(
        "a zip archive",
        received=f"{len(response.content)} bytes that are no zip ({problem})",
        response=response,
    )
