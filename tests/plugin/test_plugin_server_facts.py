"""Edition and license state as facts of the target: learnt from the server, or stated in the
target file (which wins, with a note when the server says otherwise)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from mmconform.harness import Secret, ServerFacts, Target, Transport
from mmconform.harness._server_facts import learn_server_facts
from mmconform.stub import RunningStub, StubOptions, start_stub
from mmconform.stub._license import fixture_dir

LICENSE = fixture_dir() / "valid.mattermost-license"


def facts_of(stub: RunningStub, **stated: Any) -> tuple[ServerFacts, list[str]]:
    target = Target(
        url=stub.url,
        tokens={role: Secret(token, role) for role, token in stub.tokens.items()},
        sources=dict.fromkeys(stated, "file t.toml"),
        **stated,
    )
    ping = httpx.get(f"{stub.url}/api/v4/system/ping", timeout=5, trust_env=False)
    return learn_server_facts(target, Transport(), ping)


@pytest.mark.parametrize(
    ("edition", "license_file", "described"),
    [
        ("team", None, "Team Edition build (client config BuildEnterpriseReady), unlicensed"),
        (
            "enterprise",
            None,
            "Enterprise Edition build (client config BuildEnterpriseReady), unlicensed",
        ),
        (
            "enterprise",
            LICENSE,
            "Enterprise Edition build (client config BuildEnterpriseReady), licensed (",
        ),
    ],
)
def test_facts_are_learnt_from_the_server(
    edition: str, license_file: Path | None, described: str
) -> None:
    options = StubOptions(
        edition="team" if edition == "team" else "enterprise", license_file=license_file
    )
    with start_stub(options) as stub:
        facts, notes = facts_of(stub)
    assert facts.describe().startswith(described)
    assert notes == []


def test_stated_facts_win_and_a_difference_is_noted() -> None:
    with start_stub(StubOptions(edition="enterprise")) as stub:
        facts, notes = facts_of(stub, edition="team", licensed=True)
    assert facts.edition == "team"
    assert facts.licensed is True
    assert "file t.toml" in facts.describe()
    assert any("says a team edition build, the server says enterprise" in n for n in notes)
    assert any("licensed=true, the server says false" in n for n in notes)
