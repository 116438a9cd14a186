"""The headers of the request pipeline: what ``X-Version-Id`` says about the license."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from suites.scenarios.support_test import Verdict

ClientFor = Callable[..., httpx.Client]


@pytest.mark.mm_operation("GetClientLicense", "GetPing")
@pytest.mark.mm_global_state("license")
@pytest.mark.mm_requirement("headers.version-id-licensed")
def test_version_id_says_whether_the_server_is_licensed(
    client_for: ClientFor, verdict: Verdict
) -> None:
    """The header's last part is the server's ``license != nil``; the client license says the
    same thing in ``IsLicensed``."""
    admin = client_for("system_admin")
    license_answer = verdict.record(admin.get("/license/client", params={"format": "old"}))
    verdict.status(license_answer, 200)
    licensed = str(verdict.json_object(license_answer).get("IsLicensed", "")).lower()
    verdict.check(
        licensed in ("true", "false"),
        'IsLicensed "true" or "false" in the client license',
        response=license_answer,
    )
    for response in (license_answer, verdict.record(admin.get("/system/ping"))):
        header = response.headers.get("x-version-id", "")
        verdict.check(
            header.rsplit(".", 1)[-1] == licensed,
            f"an X-Version-Id ending in .{licensed}, as IsLicensed is {licensed!r}",
            received=f"X-Version-Id {header!r}",
            response=response,
        )
