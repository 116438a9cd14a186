"""Licenses for the stub: the model, a signed file format, verification and the client map.

The stub trusts exactly one signing key of its own (an Ed25519 TEST key whose private half ships
in this module, so the project's tests can mint licenses). A license file is the standard base64
encoding of ``payload || signature`` where ``payload`` is the UTF-8 JSON of :meth:`License.to_json`
and ``signature`` is the 64-byte Ed25519 signature of ``payload``. Whitespace (line breaks) in the
base64 text is ignored. See ``fixtures/licenses/README.md``.

The JSON keys follow Mattermost's ``model.License`` json tags; the client map follows
``utils.GetClientLicense`` (the full map for ``read_license_information``, a sanitised one
otherwise).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

__all__ = [
    "DAY_MS",
    "EXPIRED_LICENSE_ERROR",
    "INVALID_LICENSE_ERROR",
    "SIGNATURE_SIZE",
    "STUB_PRIVATE_KEY",
    "STUB_PUBLIC_KEY",
    "TRIAL_DURATION_MS",
    "Customer",
    "Features",
    "License",
    "LicenseError",
    "build_license",
    "client_license_map",
    "fixture_dir",
    "load_fixture_license",
    "make_trial_license",
    "new_id",
    "parse_license_payload",
    "sign_license",
    "verify_license",
]

# --- the stub's TEST signing key ---------------------------------------------------------------
# This is NOT a secret and protects nothing: it is a test key for a stub server. Its 32-byte seed is
# sha256(b"mmconform stub TEST license signing key v1 - public, not a secret").
STUB_PRIVATE_KEY: Final[bytes] = bytes.fromhex(
    "3500fd7673fafa3a309da7efced4d14488f81dbd8d535dd09e1728804b808a90"
)
STUB_PUBLIC_KEY: Final[bytes] = bytes.fromhex(
    "1b2bf147d4b4136e345b7846d51b4f66ceace804e3007f3144f959bf7f49ed37"
)

SIGNATURE_SIZE: Final = 64
DAY_MS: Final = 24 * 60 * 60 * 1000
TRIAL_DURATION_MS: Final = 30 * DAY_MS
# Mattermost stores license bytes in a column capped at 10000 characters.
MAX_LICENSE_FILE_CHARS: Final = 10000

INVALID_LICENSE_ERROR: Final = "api.license.add_license.invalid.app_error"
EXPIRED_LICENSE_ERROR: Final = "api.license.add_license.expired.app_error"
_MESSAGES: Final[dict[str, str]] = {
    INVALID_LICENSE_ERROR: "Invalid license file.",
    EXPIRED_LICENSE_ERROR: "License is either expired or has not started yet.",
}

_ID_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz0123456789"


def new_id() -> str:
    """A 26-character lowercase id shaped like Mattermost's ``model.NewId()``."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(26))


class LicenseError(Exception):
    """A license was refused; carries the AppError id, status and message for the handler."""

    def __init__(
        self, error_id: str, message: str | None = None, *, status: int = 400, detail: str = ""
    ) -> None:
        self.error_id = error_id
        self.status = status
        self.message = message if message is not None else _MESSAGES.get(error_id, error_id)
        self.detail = detail
        super().__init__(f"{error_id}: {detail}" if detail else error_id)


@dataclass(frozen=True)
class Customer:
    id: str = ""
    name: str = ""
    email: str = ""
    company: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "email": self.email, "company": self.company}


# (python attribute, json key, client-map key or None). Order = model.Features order.
_FEATURE_KEYS: Final[tuple[tuple[str, str, str | None], ...]] = (
    ("ldap", "ldap", "LDAP"),
    ("ldap_groups", "ldap_groups", "LDAPGroups"),
    ("mfa", "mfa", "MFA"),
    ("google_oauth", "google_oauth", "GoogleOAuth"),
    ("office365_oauth", "office365_oauth", "Office365OAuth"),
    ("openid", "openid", "OpenId"),
    ("compliance", "compliance", "Compliance"),
    ("cluster", "cluster", "Cluster"),
    ("metrics", "metrics", "Metrics"),
    ("mhpns", "mhpns", "MHPNS"),
    ("saml", "saml", "SAML"),
    ("elastic_search", "elastic_search", "Elasticsearch"),
    ("announcement", "announcement", "Announcement"),
    ("theme_management", "theme_management", None),
    ("email_notification_contents", "email_notification_contents", "EmailNotificationContents"),
    ("data_retention", "data_retention", "DataRetention"),
    ("message_export", "message_export", "MessageExport"),
    ("custom_permissions_schemes", "custom_permissions_schemes", "CustomPermissionsSchemes"),
    ("custom_terms_of_service", "custom_terms_of_service", "CustomTermsOfService"),
    ("guest_accounts", "guest_accounts", "GuestAccounts"),
    ("guest_accounts_permissions", "guest_accounts_permissions", "GuestAccountsPermissions"),
    ("id_loaded", "id_loaded", "IDLoadedPushNotifications"),
    ("lock_teammate_name_display", "lock_teammate_name_display", "LockTeammateNameDisplay"),
    ("enterprise_plugins", "enterprise_plugins", None),
    ("advanced_logging", "advanced_logging", None),
    ("cloud", "cloud", "Cloud"),
    ("shared_channels", "shared_channels", "SharedChannels"),
    ("remote_cluster_service", "remote_cluster_service", "RemoteClusterService"),
    ("outgoing_oauth_connections", "outgoing_oauth_connections", "OutgoingOAuthConnections"),
    ("future_features", "future_features", None),
)
# Features that Mattermost's SetDefaults does not derive from future_features.
_FIXED_DEFAULTS: Final[dict[str, bool]] = {
    "announcement": True,
    "theme_management": True,
    "cloud": False,
}


@dataclass(frozen=True)
class Features:
    """License features; defaults mirror ``model.Features.SetDefaults`` (future_features true)."""

    users: int = 0
    ldap: bool = True
    ldap_groups: bool = True
    mfa: bool = True
    google_oauth: bool = True
    office365_oauth: bool = True
    openid: bool = True
    compliance: bool = True
    cluster: bool = True
    metrics: bool = True
    mhpns: bool = True
    saml: bool = True
    elastic_search: bool = True
    announcement: bool = True
    theme_management: bool = True
    email_notification_contents: bool = True
    data_retention: bool = True
    message_export: bool = True
    custom_permissions_schemes: bool = True
    custom_terms_of_service: bool = True
    guest_accounts: bool = True
    guest_accounts_permissions: bool = True
    id_loaded: bool = True
    lock_teammate_name_display: bool = True
    enterprise_plugins: bool = True
    advanced_logging: bool = True
    cloud: bool = False
    shared_channels: bool = True
    remote_cluster_service: bool = True
    outgoing_oauth_connections: bool = True
    future_features: bool = True

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"users": self.users}
        for attr, key, _ in _FEATURE_KEYS:
            out[key] = getattr(self, attr)
        return out


@dataclass(frozen=True)
class License:
    id: str
    issued_at: int
    starts_at: int
    expires_at: int
    customer: Customer = field(default_factory=Customer)
    features: Features = field(default_factory=Features)
    sku_name: str = "Enterprise"
    sku_short_name: str = "enterprise"
    is_trial: bool = False
    is_gov_sku: bool = False
    is_seat_count_enforced: bool = False

    def to_json(self) -> dict[str, Any]:
        """The ``model.License`` JSON a real server answers POST /license with."""
        return {
            "id": self.id,
            "issued_at": self.issued_at,
            "starts_at": self.starts_at,
            "expires_at": self.expires_at,
            "customer": self.customer.to_json(),
            "features": self.features.to_json(),
            "sku_name": self.sku_name,
            "sku_short_name": self.sku_short_name,
            "is_trial": self.is_trial,
            "is_gov_sku": self.is_gov_sku,
            "is_seat_count_enforced": self.is_seat_count_enforced,
            "extra_users": None,
            "signup_jwt": None,
        }

    def is_expired(self, now_ms: int) -> bool:
        return self.expires_at < now_ms

    def is_started(self, now_ms: int) -> bool:
        return self.starts_at < now_ms

    def is_valid_at(self, now_ms: int) -> bool:
        return self.is_started(now_ms) and not self.is_expired(now_ms)


def build_license(
    *,
    users: int = 1000,
    issued_at: int,
    starts_at: int | None = None,
    expires_at: int,
    license_id: str | None = None,
    customer: Customer | None = None,
    sku_name: str = "Enterprise",
    sku_short_name: str = "enterprise",
    is_trial: bool = False,
    is_gov_sku: bool = False,
    **feature_overrides: bool,
) -> License:
    """Convenience constructor: default features with ``users`` and any boolean overrides."""
    known = {f.name for f in fields(Features)}
    unknown = set(feature_overrides) - known
    if unknown:
        raise TypeError(f"unknown features: {sorted(unknown)}")
    return License(
        id=license_id if license_id is not None else new_id(),
        issued_at=issued_at,
        starts_at=issued_at if starts_at is None else starts_at,
        expires_at=expires_at,
        customer=customer
        if customer is not None
        else Customer(
            id=new_id(), name="mmconform test", email="test@example.com", company="mmconform"
        ),
        features=Features(users=users, **feature_overrides),
        sku_name=sku_name,
        sku_short_name=sku_short_name,
        is_trial=is_trial,
        is_gov_sku=is_gov_sku,
    )


def make_trial_license(users: int, *, now_ms: int) -> License:
    """A 30-day trial starting now (what CWS would hand out), ``is_trial`` set."""
    return build_license(
        users=users,
        issued_at=now_ms,
        starts_at=now_ms,
        expires_at=now_ms + TRIAL_DURATION_MS,
        customer=Customer(id=new_id(), name="Trial", email="", company=""),
        sku_name="Enterprise Advanced",
        sku_short_name="advanced",
        is_trial=True,
    )


# --- the file format -----------------------------------------------------------------------------


def _private_key(raw: bytes | None) -> Ed25519PrivateKey:
    data = STUB_PRIVATE_KEY if raw is None else raw
    if data.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_private_key(data, password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the signing key must be an Ed25519 key")
        return key
    return Ed25519PrivateKey.from_private_bytes(data)


def _public_key(raw: bytes | None) -> Ed25519PublicKey:
    data = STUB_PUBLIC_KEY if raw is None else raw
    if data.lstrip().startswith(b"-----BEGIN"):
        key = serialization.load_pem_public_key(data)
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the verifying key must be an Ed25519 key")
        return key
    return Ed25519PublicKey.from_public_bytes(data)


def _payload_bytes(license: License) -> bytes:
    return json.dumps(license.to_json(), sort_keys=True, separators=(",", ":")).encode()


def sign_license(license: License, private_key: bytes | None = None) -> bytes:
    """The bytes of a license file for ``license`` that :func:`verify_license` accepts."""
    payload = _payload_bytes(license)
    signature = _private_key(private_key).sign(payload)
    return base64.b64encode(payload + signature)


def _invalid(detail: str) -> LicenseError:
    return LicenseError(INVALID_LICENSE_ERROR, detail=detail)


def _get_str(obj: dict[str, Any], key: str, *, required: bool = False) -> str:
    if key not in obj or obj[key] is None:
        if required:
            raise _invalid(f"missing field {key!r}")
        return ""
    value = obj[key]
    if not isinstance(value, str):
        raise _invalid(f"field {key!r} must be a string")
    return value


def _get_int(obj: dict[str, Any], key: str, *, required: bool = False) -> int:
    if key not in obj or obj[key] is None:
        if required:
            raise _invalid(f"missing field {key!r}")
        return 0
    value = obj[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(f"field {key!r} must be an integer")
    return value


def _get_bool(obj: dict[str, Any], key: str, default: bool) -> bool:
    if key not in obj or obj[key] is None:
        return default
    value = obj[key]
    if not isinstance(value, bool):
        raise _invalid(f"field {key!r} must be a boolean")
    return value


def parse_license_payload(payload: dict[str, Any]) -> License:
    """Build a :class:`License` from its JSON (the signed payload); strict about types."""
    customer_obj = payload.get("customer")
    if customer_obj is None:
        customer_obj = {}
    if not isinstance(customer_obj, dict):
        raise _invalid("field 'customer' must be an object")
    features_obj = payload.get("features")
    if features_obj is None:
        features_obj = {}
    if not isinstance(features_obj, dict):
        raise _invalid("field 'features' must be an object")
    future = _get_bool(features_obj, "future_features", True)
    feature_values: dict[str, bool] = {}
    for attr, key, _ in _FEATURE_KEYS:
        default = _FIXED_DEFAULTS.get(attr, future)
        feature_values[attr] = _get_bool(features_obj, key, default)
    return License(
        id=_get_str(payload, "id", required=True),
        issued_at=_get_int(payload, "issued_at", required=True),
        starts_at=_get_int(payload, "starts_at", required=True),
        expires_at=_get_int(payload, "expires_at", required=True),
        customer=Customer(
            id=_get_str(customer_obj, "id"),
            name=_get_str(customer_obj, "name"),
            email=_get_str(customer_obj, "email"),
            company=_get_str(customer_obj, "company"),
        ),
        features=Features(users=_get_int(features_obj, "users"), **feature_values),
        sku_name=_get_str(payload, "sku_name"),
        sku_short_name=_get_str(payload, "sku_short_name"),
        is_trial=_get_bool(payload, "is_trial", False),
        is_gov_sku=_get_bool(payload, "is_gov_sku", False),
        is_seat_count_enforced=_get_bool(payload, "is_seat_count_enforced", False),
    )


def verify_license(data: bytes, *, now_ms: int, public_key: bytes | None = None) -> License:
    """Check a license file's signature, format and validity window.

    Raises :class:`LicenseError` with ``api.license.add_license.invalid.app_error`` for anything
    malformed or wrongly signed, and ``api.license.add_license.expired.app_error`` when the
    license has expired or has not started yet (both status 400).
    """
    if len(data) > MAX_LICENSE_FILE_CHARS:
        raise _invalid("license file too large")
    text = b"".join(data.split()).rstrip(b"\x00")
    if not text:
        raise _invalid("empty license file")
    try:
        decoded = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise _invalid(f"not base64: {exc}") from None
    if len(decoded) <= SIGNATURE_SIZE:
        raise _invalid("license file too short")
    payload, signature = decoded[:-SIGNATURE_SIZE], decoded[-SIGNATURE_SIZE:]
    try:
        _public_key(public_key).verify(signature, payload)
    except InvalidSignature:
        raise _invalid("signature does not match the stub's license key") from None
    try:
        obj = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _invalid(f"payload is not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise _invalid("payload is not a JSON object")
    license = parse_license_payload(obj)
    if not license.is_started(now_ms) or license.is_expired(now_ms):
        raise LicenseError(
            EXPIRED_LICENSE_ERROR,
            detail=f"valid from {license.starts_at} to {license.expires_at}, now {now_ms}",
        )
    return license


# --- the client map (utils.GetClientLicense / GetSanitizedClientLicense) -------------------------

_SANITIZED_KEYS: Final = ("Id", "Name", "Email", "IssuedAt", "StartsAt", "ExpiresAt", "SkuName")


def _b(value: bool) -> str:
    return "true" if value else "false"


def client_license_map(license: License | None, *, full: bool) -> dict[str, str]:
    """The flat string map of GET /license/client; ``full`` for ``read_license_information``."""
    if license is None:
        return {"IsLicensed": "false"}
    f = license.features
    props: dict[str, str] = {
        "IsLicensed": "true",
        "Id": license.id,
        "SkuName": license.sku_name,
        "SkuShortName": license.sku_short_name,
        "Users": str(f.users),
    }
    for attr, _, client_key in _FEATURE_KEYS:
        if client_key is not None:
            props[client_key] = _b(getattr(f, attr))
    props.update(
        {
            "IssuedAt": str(license.issued_at),
            "StartsAt": str(license.starts_at),
            "ExpiresAt": str(license.expires_at),
            "Name": license.customer.name,
            "Email": license.customer.email,
            "Company": license.customer.company,
            "IsTrial": _b(license.is_trial),
            "IsGovSku": _b(license.is_gov_sku),
        }
    )
    if not full:
        for key in _SANITIZED_KEYS:
            props.pop(key, None)
    return props


# --- fixtures ------------------------------------------------------------------------------------


def fixture_dir() -> Path:
    """``fixtures/licenses`` of a source checkout (not shipped in the wheel)."""
    return Path(__file__).resolve().parents[2] / "fixtures" / "licenses"


def load_fixture_license(name: str) -> bytes:
    """The bytes of ``fixtures/licenses/<name>`` (``.mattermost-license`` appended if missing)."""
    path = fixture_dir() / name
    if not path.exists() and not name.endswith(".mattermost-license"):
        path = fixture_dir() / f"{name}.mattermost-license"
    return path.read_bytes()
