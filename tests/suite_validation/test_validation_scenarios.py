"""The faithful stub passes the whole scenario suite (that each scenario fails against the faults
made for it is proved from the fault records: ``test_validation_catalogue.py``)."""

from __future__ import annotations

import pytest

from tests._faithful import GROUP, GateRun

SCENARIOS = "suites/scenarios"


@pytest.mark.xdist_group(GROUP)
def test_the_faithful_stub_passes_every_scenario(faithful_gate: GateRun) -> None:
    """Read from the shared run of the whole gate against the faithful stub."""
    scenarios = faithful_gate.of(f"{SCENARIOS}/")
    failed = {n: o for n, o in scenarios.items() if o in ("FAILED", "ERROR")}
    assert not failed, faithful_gate.output[-8000:]
    assert faithful_gate.returncode == 0, faithful_gate.output[-8000:]
    assert sum(o == "PASSED" for o in scenarios.values()) > 80, faithful_gate.output[-3000:]
    # The reproduction lines name the roles, never their tokens or the config's secrets.
    leaked = [secret[:8] for secret in faithful_gate.secrets if secret in faithful_gate.output]
    assert not leaked
