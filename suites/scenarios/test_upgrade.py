"""The upgrade-to-Enterprise endpoints: status, whether it is allowed, refusals."""

from __future__ import annotations

import httpx
import pytest

from mmconform.harness import ServerFacts
from suites.scenarios.support_test import (
    Verdict,
)


@pytest.mark.mm_operation("UpgradeToEnterpriseStatus")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("upgrade.status")
def test_upgrade_status_is_a_percentage(admin_client: httpx.Client, verdict: Verdict) -> None:
    response = verdict.record(admin_client.get("/upgrade_to_enterprise/status"))
    verdict.status(response, 200)
    body = verdict.json_object(response)
    percentage, error = body.get("percentage"), body.get("error")
    verdict.check(
        isinstance(percentage, int)
        and 0 <= percentage <= 100
        and (error is None or isinstance(error, str)),
        "a percentage from 0 to 100 and an error that is null or a message",
        response=response,
    )


def _edition(server_facts: ServerFacts) -> str:
    if server_facts.edition is None:
        pytest.skip("the target's edition is unknown (no BuildEnterpriseReady, none stated)")
    return server_facts.edition


@pytest.mark.mm_operation("IsAllowedToUpgradeToEnterprise")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("upgrade.allowed", "errors.app-error-shape")
def test_upgrade_is_allowed_only_for_team_edition(
    admin_client: httpx.Client, server_facts: ServerFacts, verdict: Verdict
) -> None:
    requirement = "upgrade.allowed"
    edition = _edition(server_facts)
    response = verdict.record(admin_client.get("/upgrade_to_enterprise/allowed"))
    if edition == "enterprise":
        verdict.app_error(response, status=403, requirement=requirement)
    elif response.status_code == 200:
        verdict.check(
            verdict.json_object(response, requirement=requirement).get("status") == "OK",
            '{"status": "OK"}',
            response=response,
            requirement=requirement,
        )
    else:
        verdict.app_error(response, status=403, requirement=requirement)


@pytest.mark.mm_operation("UpgradeToEnterprise")
@pytest.mark.mm_role("system_admin")
@pytest.mark.mm_requirement("upgrade.enterprise-refuses", "errors.app-error-shape")
def test_enterprise_build_refuses_to_upgrade(admin_client: httpx.Client, verdict: Verdict) -> None:
    response = verdict.record(admin_client.post("/upgrade_to_enterprise"))
    verdict.app_error(
        response,
        status=429,
        error_id="api.upgrade_to_enterprise.already-enterprise.app_error",
        requirement="upgrade.enterprise-refuses",
    )
