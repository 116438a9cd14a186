"""Client config keys that depend on the license's tier, as upstream's client.go sends them."""

from __future__ import annotations

import pytest

from mmconform.stub import StubOptions, start_stub
from mmconform.stub._license import DAY_MS, build_license

ADVANCED_KEYS = {
    "MobileEnableSecureFilePreview",
    "MobileAllowPdfLinkNavigation",
    "ContentFlaggingEnabled",
    "EnableAutoTranslation",
}


@pytest.mark.parametrize(
    ("sku", "sent"), [("advanced", True), ("enterprise", False), ("professional", False)]
)
def test_enterprise_advanced_keys_come_only_with_that_license_and_a_session(
    sku: str, sent: bool
) -> None:
    with start_stub(StubOptions(local_mode=False)) as stub:
        now = stub.state.now_ms()
        stub.state.set_license(
            build_license(issued_at=now, expires_at=now + 30 * DAY_MS, sku_short_name=sku)
        )
        full = stub.state.client_config(full=True)
        limited = stub.state.client_config(full=False)
    assert (set(full) >= ADVANCED_KEYS) is sent
    assert not ADVANCED_KEYS & set(limited)
    if sent:
        assert {full[key] for key in ADVANCED_KEYS} == {"false"}


def test_no_license_sends_no_enterprise_advanced_keys() -> None:
    with start_stub(StubOptions(local_mode=False)) as stub:
        assert not ADVANCED_KEYS & set(stub.state.client_config(full=True))
