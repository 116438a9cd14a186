"""The supported timezones are real IANA zone names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
import pytest

from suites.scenarios.support_test import (
    Verdict,
)

ClientFor = Callable[..., httpx.Client]


def _is_zone(name: Any) -> bool:
    if not isinstance(name, str) or not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@pytest.mark.mm_operation("GetSupportedTimezone")
@pytest.mark.mm_requirement("timezones.iana-names")
def test_timezones_are_iana_zone_names(client_for: ClientFor, verdict: Verdict) -> None:
    """Checked with the runner's time zone database (zoneinfo), not with a list kept here."""
    response = verdict.record(client_for("system_user").get("/system/timezones"))
    verdict.status(response, 200)
    zones = response.json()
    verdict.check(isinstance(zones, list) and bool(zones), "a non-empty array", response=response)
    unknown = [zone for zone in zones if not _is_zone(zone)]
    verdict.check(
        not unknown,
        "every entry an IANA time zone name",
        received=f"{len(unknown)} of {len(zones)} unknown to zoneinfo: {unknown[:10]}",
    )
    verdict.check(
        len(set(zones)) == len(zones),
        "no zone listed twice",
        received=f"{len(zones) - len(set(zones))} duplicates",
    )
