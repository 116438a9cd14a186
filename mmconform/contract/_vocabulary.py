"""The closed vocabulary of ``spec/``: annotation values, permission ids, roles, check names."""

from __future__ import annotations

import re
from typing import Final

# The callers' names and the words on the wire live on the neutral floor; the contract
# re-exports them.
from mmconform._wire import ANONYMOUS as ANONYMOUS
from mmconform._wire import CALLERS as CALLERS
from mmconform._wire import CONFIG_MASK as CONFIG_MASK
from mmconform._wire import LOCAL as LOCAL
from mmconform._wire import ROLES as ROLES
from mmconform._wire import SECRETS_MASKED_WHEN_SET as SECRETS_MASKED_WHEN_SET
from mmconform._wire import setting_patch as setting_patch
from mmconform._wire import setting_value as setting_value

AUTH_VALUES: Final = frozenset({"none", "session", "local-only"})
LICENSE_VALUES: Final = frozenset({"none", "required"})
GROUP_TOKENS: Final = frozenset({"sysconsole_read_*", "sysconsole_write_*"})
PERMISSIONS: Final = frozenset(
    {
        "manage_system",
        "read_license_information",
        "manage_license_information",
        "get_logs",
        "get_analytics",
        "read_audits",
        "invalidate_caches",
        "reload_config",
        "test_site_url",
        "test_s3",
        "test_email",
        "recycle_database_connections",
    }
    | GROUP_TOKENS
)
GLOBAL_STATE_VALUES: Final = frozenset(
    {
        "server_busy",
        "config",
        "license",
        "caches",
        "database_connections",
        "server_process",
        "server_binary",
        "notice_views",
        "logs",
    }
)
API_PREFIX: Final = "/api/v4"
DECISIONS: Final = frozenset({"strict", "accept-real", "version-dependent"})
ERRATA_TOPICS: Final = frozenset(
    {
        "status-code",
        "response-schema",
        "request-schema",
        "parameter",
        "permission",
        "path",
        "content-type",
        "availability",
        "deprecation",
        "behaviour",
    }
)
#: schemathesis 4.x check names an erratum may exempt.
CHECK_NAMES: Final = frozenset(
    {
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "negative_data_rejection",
        "positive_data_acceptance",
        "missing_required_header",
        "unsupported_method",
        "allow_header_conformance",
        "use_after_free",
        "ensure_resource_availability",
        "ignored_auth",
        "object_level_authorization",
    }
)
OPERATION_ANNOTATIONS: Final = (
    "x-mm-auth",
    "x-mm-permissions",
    "x-mm-restrict-system-admin",
    "x-mm-min-version",
    "x-mm-removed-in",
    "x-mm-license",
    "x-mm-destructive",
    "x-mm-global-state",
    "x-mm-config-gates",
    "x-mm-local-mode",
    "x-mm-edition-gates",
    "x-mm-request",
)
#: Builds of the server: a Team Edition build, or an Enterprise-ready one.
EDITION_VALUES: Final = frozenset({"enterprise", "team"})
#: Keys of an ``x-mm-request`` example.
REQUEST_KEYS: Final = frozenset(
    {"path", "query", "json", "text", "multipart", "body-from", "set", "denied-cells"}
)
#: ``x-mm-request.denied-cells``: where the request may be sent by a caller a correct server
#: refuses, although the operation is destructive.
DENIED_CELL_POLICIES: Final = frozenset(
    {"always", "when-unlicensed", "on-enterprise-builds", "disposable-targets-only"}
)
HTTP_METHODS: Final = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
ALL_OPERATIONS: Final = "*"

_STATUS_RE: Final = re.compile(r"^[1-5](\d\d|XX)$")
_ENV_VAR: Final = "MMCONFORM_SPEC_DIR"
_OPENAPI_FILE: Final = "openapi.yaml"
_ERRATA_FILE: Final = "errata.yaml"
# OpenAPI 3.0 schema keywords that JSON Schema validators do not need.
_OPENAPI_ONLY_KEYWORDS: Final = frozenset(
    {"nullable", "example", "examples", "discriminator", "xml", "externalDocs", "deprecated"}
)


class ContractError(ValueError):
    """The spec files are malformed; the message names file, operation and field."""
