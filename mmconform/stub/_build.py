"""What the stub says about its own build: the values a real server gets from its build flags."""

from __future__ import annotations

BUILD_NUMBER = "20261126"
BUILD_HASH = "8d3e1c6f0a5b4c2e9f7a1b3c5d7e9f0a1b2c3d4e"
BUILD_DATE = "Thu Nov 26 00:00:00 UTC 2026"
#: A release build reports "production" (source builds say "dev", test builds "test").
SERVICE_ENVIRONMENT = "production"
TELEMETRY_ID = "stubtelemetryid00000000000"
#: The stub's stand-in for the server's public signing key (base64 DER), sent to every client.
ASYMMETRIC_SIGNING_PUBLIC_KEY = (
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEc3R1YnN0dWJzdHVic3R1YnN0dWJzdHVic3R1YnN0dWJzdHVi"
    "c3R1YnN0dWJzdHVic3R1YnN0dWJzdHVic3R1YnN0dWJzdHVic3R1Yg=="
)
INSTALLATION_DATE_MS = "1764115200000"
MAX_POST_SIZE = "16383"
SCHEMA_VERSION = "148"

__all__ = [
    "ASYMMETRIC_SIGNING_PUBLIC_KEY",
    "BUILD_DATE",
    "BUILD_HASH",
    "BUILD_NUMBER",
    "INSTALLATION_DATE_MS",
    "MAX_POST_SIZE",
    "SCHEMA_VERSION",
    "SERVICE_ENVIRONMENT",
    "TELEMETRY_ID",
]
