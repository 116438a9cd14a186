"""The stub's licenses: the signed file format, verification, the client map, trials."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from mmconform.stub._license import (
    DAY_MS,
    EXPIRED_LICENSE_ERROR,
    INVALID_LICENSE_ERROR,
    SIGNATURE_SIZE,
    STUB_PRIVATE_KEY,
    STUB_PUBLIC_KEY,
    Customer,
    Features,
    License,
    LicenseError,
    build_license,
    client_license_map,
    fixture_dir,
    load_fixture_license,
    make_trial_license,
    sign_license,
    verify_license,
)

NOW_MS = int(time.time() * 1000)
# 2026-01-01 and 2100-01-01: the fixtures must hold for the life of the project.
JAN_2026_MS = 1_767_225_600_000
JAN_2100_MS = 4_102_444_800_000

SANITIZED_AWAY = {"Id", "Name", "Email", "IssuedAt", "StartsAt", "ExpiresAt", "SkuName"}
FULL_KEYS = {
    "IsLicensed", "Id", "SkuName", "SkuShortName", "Users",
    "LDAP", "LDAPGroups", "MFA", "SAML", "Cluster", "Metrics", "GoogleOAuth", "Office365OAuth",
    "OpenId", "Compliance", "MHPNS", "Announcement", "Elasticsearch", "DataRetention",
    "IDLoadedPushNotifications", "IssuedAt", "StartsAt", "ExpiresAt", "Name", "Email", "Company",
    "EmailNotificationContents", "MessageExport", "CustomPermissionsSchemes", "GuestAccounts",
    "GuestAccountsPermissions", "CustomTermsOfService", "LockTeammateNameDisplay", "Cloud",
    "SharedChannels", "RemoteClusterService", "OutgoingOAuthConnections", "IsTrial", "IsGovSku",
}  # fmt: skip


def _license(**changes: object) -> License:
    base = build_license(
        license_id="testlicense000000000000001",
        users=250,
        issued_at=NOW_MS - DAY_MS,
        expires_at=NOW_MS + 365 * DAY_MS,
        customer=Customer(id="c1", name="Jane", email="jane@example.com", company="ACME"),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def _refused(data: bytes, now_ms: int = NOW_MS) -> LicenseError:
    with pytest.raises(LicenseError) as info:
        verify_license(data, now_ms=now_ms)
    assert info.value.status == 400
    assert info.value.message
    return info.value


# --- the key ----------------------------------------------------------------------------------


def test_public_key_belongs_to_the_private_key() -> None:
    derived = Ed25519PrivateKey.from_private_bytes(STUB_PRIVATE_KEY).public_key()
    assert derived.public_bytes_raw() == STUB_PUBLIC_KEY


def test_readme_calls_it_a_test_key() -> None:
    readme = (fixture_dir() / "README.md").read_text()
    assert "TEST" in readme
    assert "not a secret" in readme.lower() or "not, and" in readme


# --- the fixtures ------------------------------------------------------------------------------


def test_valid_fixture_verifies_now_and_until_2100() -> None:
    data = load_fixture_license("valid.mattermost-license")
    for now in (NOW_MS, JAN_2026_MS, JAN_2100_MS - 2 * DAY_MS):
        license = verify_license(data, now_ms=now)
        assert license.features.users == 1000
        assert license.sku_short_name == "enterprise"
        assert not license.is_trial
    assert load_fixture_license("valid") == data


@pytest.mark.parametrize(
    ("name", "error_id"),
    [
        ("garbage", INVALID_LICENSE_ERROR),
        ("bad-signature", INVALID_LICENSE_ERROR),
        ("tampered", INVALID_LICENSE_ERROR),
        ("expired", EXPIRED_LICENSE_ERROR),
        ("not-yet-started", EXPIRED_LICENSE_ERROR),
    ],
)
def test_invalid_fixtures_are_refused(name: str, error_id: str) -> None:
    assert _refused(load_fixture_license(name)).error_id == error_id


def test_generator_reproduces_the_fixtures_byte_for_byte() -> None:
    import importlib.util

    path = fixture_dir() / "make_licenses.py"
    spec = importlib.util.spec_from_file_location("_make_licenses", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    generated: dict[str, bytes] = module.fixtures()
    assert len(generated) >= 5
    for name, data in generated.items():
        assert (fixture_dir() / name).read_bytes() == data, name


# --- signing and verification -------------------------------------------------------------------


def test_sign_then_verify_round_trips() -> None:
    original = _license()
    data = sign_license(original)
    assert sign_license(original) == data  # Ed25519 is deterministic
    assert verify_license(data, now_ms=NOW_MS) == original


def test_format_is_base64_payload_then_signature() -> None:
    data = sign_license(_license())
    raw = base64.b64decode(data)
    payload = json.loads(raw[:-SIGNATURE_SIZE])
    assert payload == _license().to_json()
    assert len(raw[-SIGNATURE_SIZE:]) == 64


def test_line_breaks_in_the_base64_are_ignored() -> None:
    data = sign_license(_license())
    wrapped = b"\n".join(data[i : i + 76] for i in range(0, len(data), 76)) + b"\n"
    assert verify_license(wrapped, now_ms=NOW_MS).id == _license().id


def test_any_flipped_payload_byte_breaks_the_signature() -> None:
    raw = bytearray(base64.b64decode(sign_license(_license())))
    for index in (0, 10, len(raw) // 2, len(raw) - SIGNATURE_SIZE - 1):
        tampered = bytearray(raw)
        tampered[index] ^= 0x01
        assert _refused(base64.b64encode(bytes(tampered))).error_id == INVALID_LICENSE_ERROR


def test_a_flipped_signature_byte_is_refused() -> None:
    raw = bytearray(base64.b64decode(sign_license(_license())))
    raw[-1] ^= 0x80
    assert _refused(base64.b64encode(bytes(raw))).error_id == INVALID_LICENSE_ERROR


def test_signed_by_another_key_is_refused_unless_that_key_is_trusted() -> None:
    other = Ed25519PrivateKey.from_private_bytes(b"\x07" * 32)
    other_raw = other.private_bytes_raw()
    data = sign_license(_license(), other_raw)
    assert _refused(data).error_id == INVALID_LICENSE_ERROR
    other_public = other.public_key().public_bytes_raw()
    assert verify_license(data, now_ms=NOW_MS, public_key=other_public).id == _license().id


def test_pem_keys_are_accepted_too() -> None:
    key = Ed25519PrivateKey.from_private_bytes(STUB_PRIVATE_KEY)
    pem_private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    pem_public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    data = sign_license(_license(), pem_private)
    assert data == sign_license(_license())
    assert verify_license(data, now_ms=NOW_MS, public_key=pem_public) == _license()


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \n",
        b"%%%not base64%%%",
        base64.b64encode(b"short"),
        base64.b64encode(b"x" * 200),
        b"A" * 20_000,
    ],
    ids=["empty", "blank", "not-base64", "too-short", "unsigned-noise", "huge"],
)
def test_malformed_files_are_invalid(data: bytes) -> None:
    assert _refused(data).error_id == INVALID_LICENSE_ERROR


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b"[1, 2, 3]",
        b'"a string"',
        b"\xff\xfe",
        json.dumps({"issued_at": 1, "starts_at": 1, "expires_at": 2}).encode(),
        json.dumps({"id": 5, "issued_at": 1, "starts_at": 1, "expires_at": 2}).encode(),
        json.dumps({"id": "x", "issued_at": "1", "starts_at": 1, "expires_at": 2}).encode(),
        json.dumps(
            {"id": "x", "issued_at": 1, "starts_at": 1, "expires_at": 2, "features": [1]}
        ).encode(),
        json.dumps(
            {"id": "x", "issued_at": 1, "starts_at": 1, "expires_at": 2, "is_trial": "yes"}
        ).encode(),
        json.dumps(
            {"id": "x", "issued_at": 1, "starts_at": 1, "expires_at": 2, "features": {"ldap": 1}}
        ).encode(),
    ],
)
def test_correctly_signed_but_malformed_payloads_are_invalid(payload: bytes) -> None:
    signature = Ed25519PrivateKey.from_private_bytes(STUB_PRIVATE_KEY).sign(payload)
    assert _refused(base64.b64encode(payload + signature)).error_id == INVALID_LICENSE_ERROR


def test_minimal_payload_takes_mattermost_feature_defaults() -> None:
    payload = json.dumps(
        {"id": "min", "issued_at": 1, "starts_at": 1, "expires_at": JAN_2100_MS}
    ).encode()
    signature = Ed25519PrivateKey.from_private_bytes(STUB_PRIVATE_KEY).sign(payload)
    license = verify_license(base64.b64encode(payload + signature), now_ms=NOW_MS)
    assert license.features == Features()
    assert license.features.users == 0
    assert license.features.ldap
    assert license.features.announcement
    assert not license.features.cloud
    assert license.customer == Customer()


def test_future_features_false_turns_the_derived_defaults_off() -> None:
    body = {
        "id": "f",
        "issued_at": 1,
        "starts_at": 1,
        "expires_at": JAN_2100_MS,
        "features": {"future_features": False},
    }
    payload = json.dumps(body).encode()
    signature = Ed25519PrivateKey.from_private_bytes(STUB_PRIVATE_KEY).sign(payload)
    features = verify_license(base64.b64encode(payload + signature), now_ms=NOW_MS).features
    assert not features.ldap
    assert not features.saml
    assert not features.cloud
    assert features.announcement
    assert features.theme_management


def test_validity_window_edges() -> None:
    license = _license(starts_at=NOW_MS, expires_at=NOW_MS + 1000)
    data = sign_license(license)
    # Mattermost: started means starts_at < now; expired means expires_at < now.
    assert _refused(data, now_ms=NOW_MS).error_id == EXPIRED_LICENSE_ERROR
    assert verify_license(data, now_ms=NOW_MS + 1) == license
    assert verify_license(data, now_ms=NOW_MS + 1000) == license
    assert _refused(data, now_ms=NOW_MS + 1001).error_id == EXPIRED_LICENSE_ERROR
    assert license.is_started(NOW_MS + 1)
    assert not license.is_started(NOW_MS)
    assert license.is_expired(NOW_MS + 1001)
    assert not license.is_expired(NOW_MS + 1000)


def test_license_error_defaults() -> None:
    error = LicenseError(INVALID_LICENSE_ERROR)
    assert error.status == 400
    assert error.message == "Invalid license file."
    assert LicenseError("x.y", "msg", status=500).status == 500


# --- JSON and the client map ------------------------------------------------------------------


def test_to_json_uses_model_license_keys() -> None:
    body = _license().to_json()
    for key in (
        "id", "issued_at", "starts_at", "expires_at", "customer", "features",
        "sku_name", "sku_short_name", "is_trial", "is_gov_sku",
    ):  # fmt: skip
        assert key in body, key
    assert set(body["customer"]) == {"id", "name", "email", "company"}
    features = body["features"]
    assert features["users"] == 250
    for key in (
        "ldap", "ldap_groups", "mfa", "google_oauth", "office365_oauth", "openid", "compliance",
        "cluster", "metrics", "mhpns", "saml", "elastic_search", "announcement",
        "theme_management", "email_notification_contents", "data_retention", "message_export",
        "custom_permissions_schemes", "custom_terms_of_service", "guest_accounts",
        "guest_accounts_permissions", "id_loaded", "lock_teammate_name_display", "cloud",
        "shared_channels", "remote_cluster_service", "outgoing_oauth_connections",
    ):  # fmt: skip
        assert isinstance(features[key], bool), key
    assert isinstance(body["issued_at"], int)
    json.dumps(body)  # serialisable as is


def test_client_map_unlicensed() -> None:
    assert client_license_map(None, full=True) == {"IsLicensed": "false"}
    assert client_license_map(None, full=False) == {"IsLicensed": "false"}


def test_client_map_full() -> None:
    license = _license(is_gov_sku=True)
    props = client_license_map(license, full=True)
    assert set(props) == FULL_KEYS
    assert all(isinstance(v, str) for v in props.values())
    assert props["IsLicensed"] == "true"
    assert props["Id"] == license.id
    assert props["Users"] == "250"
    assert props["IssuedAt"] == str(license.issued_at)
    assert props["ExpiresAt"] == str(license.expires_at)
    assert props["Name"] == "Jane"
    assert props["Email"] == "jane@example.com"
    assert props["Company"] == "ACME"
    assert props["LDAP"] == "true"
    assert props["Cloud"] == "false"
    assert props["IsTrial"] == "false"
    assert props["IsGovSku"] == "true"


def test_client_map_trimmed() -> None:
    license = _license()
    full = client_license_map(license, full=True)
    trimmed = client_license_map(license, full=False)
    assert set(trimmed) == FULL_KEYS - SANITIZED_AWAY
    assert {k: v for k, v in full.items() if k not in SANITIZED_AWAY} == trimmed
    assert trimmed["Company"] == "ACME"  # Company is not trimmed


def test_client_map_follows_features() -> None:
    license = _license(features=Features(users=7, saml=False, cloud=True, id_loaded=False))
    props = client_license_map(license, full=False)
    assert props["Users"] == "7"
    assert props["SAML"] == "false"
    assert props["Cloud"] == "true"
    assert props["IDLoadedPushNotifications"] == "false"


# --- trials -------------------------------------------------------------------------------------


def test_trial_license() -> None:
    trial = make_trial_license(42, now_ms=NOW_MS)
    assert trial.is_trial
    assert trial.features.users == 42
    assert trial.starts_at == NOW_MS
    assert trial.expires_at - trial.starts_at == 30 * DAY_MS
    assert len(trial.id) == 26
    assert client_license_map(trial, full=True)["IsTrial"] == "true"
    # A trial is a normal signed license as far as the verifier goes.
    assert verify_license(sign_license(trial), now_ms=NOW_MS + 1) == trial
    assert trial.is_expired(NOW_MS + 31 * DAY_MS)
    assert make_trial_license(42, now_ms=NOW_MS).id != trial.id


def test_build_license_rejects_unknown_features() -> None:
    with pytest.raises(TypeError):
        build_license(issued_at=1, expires_at=2, not_a_feature=True)


def test_fixture_dir_is_the_checkout() -> None:
    assert (fixture_dir() / "valid.mattermost-license").is_file()
