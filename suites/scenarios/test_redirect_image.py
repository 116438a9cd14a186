"""Redirect location and image proxy input: what they need and what they refuse."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from mmconform.contract import Contract, Version, setting_value
from mmconform.harness import Target
from suites.scenarios.support_test import (
    Verdict,
    erratum_case,
)

ClientFor = Callable[..., httpx.Client]


@pytest.mark.mm_operation("GetRedirectLocation", "GetConfig")
@pytest.mark.mm_global_state("config")
@pytest.mark.mm_requirement("redirect.url-checked", "errors.app-error-shape")
def test_redirect_location_needs_a_url_while_link_previews_are_on(
    client_for: ClientFor, admin_config: dict[str, Any], target: Target, verdict: Verdict
) -> None:
    requirement = "redirect.url-checked"
    user = client_for("system_user")
    previews = setting_value(admin_config, ("ServiceSettings", "EnableLinkPreviews")) is True
    missing = verdict.record(user.get("/redirect_location"))
    if previews:
        verdict.app_error(
            missing,
            status=400,
            error_id="api.context.invalid_body_param.app_error",
            requirement=requirement,
        )
    else:
        verdict.status(missing, 200, requirement=requirement, what="link previews off")
        verdict.check(
            _location(missing) == "",
            "an empty `location` while link previews are off",
            response=missing,
            requirement=requirement,
        )
    plain = verdict.record(
        user.get("/redirect_location", params={"url": f"{target.api_url}/system/ping"})
    )
    verdict.status(plain, 200, requirement=requirement)
    verdict.check(
        _location(plain) == "",
        "an empty `location` for a URL that does not redirect",
        response=plain,
        requirement=requirement,
    )


@pytest.mark.mm_operation("GetImageByUrl", "GetConfig")
@pytest.mark.mm_global_state("config")
@pytest.mark.mm_requirement("image.url-checked", "errors.app-error-shape")
def test_image_refuses_what_it_cannot_fetch(
    client_for: ClientFor,
    admin_config: dict[str, Any],
    contract: Contract,
    server_version: Version | None,
    verdict: Verdict,
) -> None:
    requirement = "image.url-checked"
    user = client_for("system_user")
    opaque = verdict.record(user.get("/image", params={"url": "mailto:someone@example.com"}))
    verdict.app_error(
        opaque, status=400, error_id="api.image.get.app_error", requirement=requirement
    )
    if setting_value(admin_config, ("ImageProxySettings", "Enable")) is not False:
        return
    url = "https://images.mmconform.invalid/picture.png"
    response = verdict.record(user.get("/image", params={"url": url}))
    expect = erratum_case(contract, "image-url-parameter", "proxy_disabled", server_version)
    if response.status_code == 302 and expect.allows(302):
        verdict.check(
            response.headers.get("location") == url,
            f"a redirect to the image itself ({url}) while the image proxy is off",
            response=response,
            requirement=requirement,
        )
    else:
        verdict.app_error(response, expect=expect, requirement=requirement)


def _location(answer: httpx.Response) -> object:
    """The ``location`` of a redirect-location answer (other fields are allowed beside it)."""
    body = answer.json()
    return body.get("location") if isinstance(body, dict) else body
