"""What kind of server the target is: its edition (a Team Edition build or an Enterprise-ready
one) and whether it holds a license. Expectations depend on both (Team Edition refuses the trial
license operations to everyone; the support packet needs a license).

The target file may state them (``[target].edition``, ``[target].licensed``); otherwise the
preflight reads them from the server: ``BuildEnterpriseReady`` in the client config, and
``IsLicensed`` in the client license (or, failing that, the last field of ``X-Version-Id``).
When a stated fact differs from what the server says, the stated one is used and the header
says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from mmconform.contract import ANONYMOUS
from mmconform.harness._clients import Transport, make_client
from mmconform.harness._target import Target

__all__ = ["ServerFacts", "learn_server_facts"]


@dataclass(frozen=True)
class ServerFacts:
    """The target's edition and license state (None where neither stated nor learnt)."""

    edition: str | None = None
    edition_source: str = "unknown"
    licensed: bool | None = None
    licensed_source: str = "unknown"
    license_sku: str | None = None
    #: the license's feature flags as the client license shows them (None: not read)
    license_features: Mapping[str, bool] | None = None

    def describe(self) -> str:
        edition = {
            "enterprise": "Enterprise Edition build",
            "team": "Team Edition build",
            None: "edition unknown",
        }[self.edition]
        if self.licensed is None:
            license_state = "license state unknown"
        elif self.licensed:
            license_state = "licensed" + (f" ({self.license_sku})" if self.license_sku else "")
        else:
            license_state = "unlicensed"
        return f"{edition} ({self.edition_source}), {license_state} ({self.licensed_source})"


def learn_server_facts(
    target: Target, transport: Transport, ping: httpx.Response
) -> tuple[ServerFacts, list[str]]:
    """The target's facts, and notes where a stated fact differs from the server's word."""
    notes: list[str] = []
    with make_client(target, ANONYMOUS, transport) as client:
        config = _string_map(client, "/config/client")
        client_license = _string_map(client, "/license/client")
    ready = config.get("BuildEnterpriseReady") if config else None
    said_edition = {"true": "enterprise", "false": "team"}.get(str(ready).lower())
    said_licensed = _flag(client_license.get("IsLicensed")) if client_license else None
    licensed_from = "client license"
    if said_licensed is None:
        said_licensed = _flag(str(ping.headers.get("X-Version-Id", "")).rsplit(".", 1)[-1])
        licensed_from = "X-Version-Id header"

    edition, edition_source = said_edition, "client config BuildEnterpriseReady"
    if target.edition is not None:
        if said_edition is not None and said_edition != target.edition:
            notes.append(
                f"the target file says a {target.edition} edition build, the server says "
                f"{said_edition}; using {target.edition}"
            )
        edition, edition_source = target.edition, target.sources.get("edition", "target")
    elif said_edition is None:
        edition_source = "unknown (no BuildEnterpriseReady in the client config)"

    licensed, licensed_source = said_licensed, licensed_from
    if target.licensed is not None:
        if said_licensed is not None and said_licensed != target.licensed:
            notes.append(
                f"the target file says licensed={str(target.licensed).lower()}, the server "
                f"says {str(said_licensed).lower()}; using the target file"
            )
        licensed, licensed_source = target.licensed, target.sources.get("licensed", "target")
    elif said_licensed is None:
        licensed_source = "unknown"
    sku = client_license.get("SkuShortName") if client_license and licensed else None
    features = _license_features(client_license) if said_licensed else None
    facts = ServerFacts(edition, edition_source, licensed, licensed_source, sku or None, features)
    return facts, notes


def _license_features(client_license: Mapping[str, str]) -> Mapping[str, bool] | None:
    """The true/false entries of a held license's client map (CustomPermissionsSchemes, ...)."""
    flags = {
        key: flag
        for key, value in client_license.items()
        if key != "IsLicensed" and (flag := _flag(value)) is not None
    }
    return flags or None


def _string_map(client: httpx.Client, path: str) -> dict[str, str]:
    """A flat string map (``format=old``), or {} when the server will not give one."""
    try:
        response = client.get(path, params={"format": "old"})
        body = response.json() if response.status_code == 200 else None
    except (httpx.TransportError, ValueError):
        return {}
    return {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}


def _flag(value: str | None) -> bool | None:
    return {"true": True, "false": False}.get(str(value).strip().lower())
