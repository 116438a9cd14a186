"""The shapes the TypeScript client's types declare for what its methods resolve to.

Each shape mirrors a type of ``@mattermost/types`` (or the inline type in ``Client4``'s
declaration) at the pinned version, named after it. TypeScript does not check values at run
time; these checks do what a caller of the client relies on: the value is an object, a list or a
string where the type says so, and the declared fields hold the declared types.

A field the type declares but a correct server may leave out (by version, role or request) is
``optional`` here, with the reason; every other declared field is required.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ADMIN_CONFIG",
    "ANALYTICS_ROWS",
    "AUDITS",
    "CLIENT_CONFIG",
    "CLIENT_LICENSE",
    "ENVIRONMENT_CONFIG",
    "LICENSE",
    "LOAD_METRIC",
    "LOG_ECHO",
    "PING",
    "PLAIN_LOGS",
    "PRODUCT_NOTICES",
    "STATUS_OK",
    "TRIAL_RESPONSE",
    "UPGRADE_STATUS",
    "Shape",
]


class Shape:
    """A declared type; ``problems(value)`` lists where a value does not fit it."""

    name = "value"

    def problems(self, value: Any, where: str = "value") -> list[str]:
        raise NotImplementedError


def _js_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        if "$undefined" in value:
            return "undefined"
        if "$blob" in value:
            return "Blob"
        return "object"
    return type(value).__name__


@dataclass(frozen=True)
class Scalar(Shape):
    js_type: str  # "string", "number", "boolean", "null"
    literal: Any = None

    @property
    def name(self) -> str:  # type: ignore[override]
        return repr(self.literal) if self.literal is not None else self.js_type

    def problems(self, value: Any, where: str = "value") -> list[str]:
        if _js_type(value) != self.js_type:
            return [f"{where} is {_js_type(value)} ({_short(value)}), the type says {self.name}"]
        if self.literal is not None and value != self.literal:
            return [f"{where} is {value!r}, the type says {self.name}"]
        return []


@dataclass(frozen=True)
class AnyValue(Shape):
    """Any JSON value (``unknown``): where the type's own detail is not the point."""

    name = "unknown"

    def problems(self, value: Any, where: str = "value") -> list[str]:
        return (
            []
            if _js_type(value) not in ("undefined", "Blob")
            else [f"{where} is {_js_type(value)}"]
        )


ANY = AnyValue()
STRING = Scalar("string")
NUMBER = Scalar("number")
BOOLEAN = Scalar("boolean")


@dataclass(frozen=True)
class Nullable(Shape):
    inner: Shape
    #: why null is a correct answer although the type does not say so
    why: str = ""

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.inner.name} | null"

    def problems(self, value: Any, where: str = "value") -> list[str]:
        return [] if value is None else self.inner.problems(value, where)


@dataclass(frozen=True)
class ListOf(Shape):
    item: Shape

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"{self.item.name}[]"

    def problems(self, value: Any, where: str = "value") -> list[str]:
        if not isinstance(value, list):
            return [f"{where} is {_js_type(value)} ({_short(value)}), the type says {self.name}"]
        found: list[str] = []
        for index, item in enumerate(value):
            found += self.item.problems(item, f"{where}[{index}]")
            if len(found) >= 5:
                break
        return found


@dataclass(frozen=True)
class Record(Shape):
    """``Record<string, T>``: an object whose every value is a T."""

    type_name: str
    values: Shape

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.type_name

    def problems(self, value: Any, where: str = "value") -> list[str]:
        if _js_type(value) != "object":
            return [f"{where} is {_js_type(value)} ({_short(value)}), the type says {self.name}"]
        found: list[str] = []
        for key, item in value.items():
            found += self.values.problems(item, f"{where}.{key}")
            if len(found) >= 5:
                break
        return found


@dataclass(frozen=True)
class Obj(Shape):
    """An object type with declared fields; ``optional`` maps a field to why it may be absent."""

    type_name: str
    fields: Mapping[str, Shape]
    optional: Mapping[str, str] = field(default_factory=dict)
    #: the shape of the values of fields not declared here (None: not checked)
    rest: Shape | None = None

    @property
    def name(self) -> str:  # type: ignore[override]
        return self.type_name

    def problems(self, value: Any, where: str = "value") -> list[str]:
        if _js_type(value) != "object":
            return [f"{where} is {_js_type(value)} ({_short(value)}), the type says {self.name}"]
        found: list[str] = []
        for key, shape in self.fields.items():
            if key not in value:
                if key not in self.optional:
                    found.append(f"{where} lacks {key} ({self.name} declares it)")
                continue
            found += shape.problems(value[key], f"{where}.{key}")
        if self.rest is not None:
            for key, item in value.items():
                if key not in self.fields:
                    found += self.rest.problems(item, f"{where}.{key}")
        return found[:10]


@dataclass(frozen=True)
class ClientResponse(Shape):
    """``ClientResponse<T>``: the driver reports its HTTP status and its ``data``."""

    data: Shape

    @property
    def name(self) -> str:  # type: ignore[override]
        return f"ClientResponse<{self.data.name}>"

    def problems(self, value: Any, where: str = "value") -> list[str]:
        if not isinstance(value, dict) or "$client_response" not in value:
            return [f"{where} is {_js_type(value)} ({_short(value)}), the type says {self.name}"]
        return self.data.problems(value["$client_response"].get("data"), f"{where}.data")


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


#: StatusOK (types/client4)
STATUS_OK = Obj("StatusOK", {"status": Scalar("string", "OK")})

#: Client4.ping's inline result type
PING = Obj(
    "ping result",
    {
        "status": STRING,
        "ActiveSearchBackend": STRING,
        "database_status": STRING,
        "filestore_status": STRING,
        "root_status": BOOLEAN,
    },
    optional={
        "ActiveSearchBackend": "servers before 8.0 do not report it",
        "root_status": "only for callers with manage_system, from 10.1",
    },
)

#: Client4.upgradeToEnterpriseStatus's inline result type
UPGRADE_STATUS = Obj("upgrade status", {"percentage": NUMBER, "error": Nullable(STRING)})

#: Client4.logClientError's inline result type
LOG_ECHO = Obj("log echo", {"message": STRING})

#: ClientConfig (types/config): every declared key is a string; which keys a server sends
#: depends on its version and on the caller (a limited set without a session)
CLIENT_CONFIG = Record("ClientConfig", STRING)

#: ClientLicense (types/config): Record<string, string>
CLIENT_LICENSE = Record("ClientLicense", STRING)

#: Client4.getLicenseLoadMetric's inline result type
LOAD_METRIC = Obj("load metric", {"load": NUMBER})

#: string[] of Client4.getPlainLogs; an empty page is null (erratum empty-pages-null)
PLAIN_LOGS = Nullable(ListOf(STRING), "erratum empty-pages-null")

#: Audit (types/audits); an empty page is null (erratum empty-pages-null)
AUDITS = Nullable(
    ListOf(
        Obj(
            "Audit",
            {
                "id": STRING,
                "create_at": NUMBER,
                "user_id": STRING,
                "action": STRING,
                "extra_info": STRING,
                "ip_address": STRING,
                "session_id": STRING,
            },
        )
    ),
    "erratum empty-pages-null",
)

#: AdminConfig (types/config): an object of sections, each an object; which sections exist
#: depends on the server's version, ServiceSettings is in every one
SECTION = Record("a settings section", ANY)
ADMIN_CONFIG = Obj(
    "AdminConfig", {"ServiceSettings": SECTION, "TeamSettings": SECTION}, rest=SECTION
)

#: EnvironmentConfig (types/config): per section, per setting, whether the environment sets it;
#: a server sends only what the environment sets, and nothing to callers that may not read it
ENVIRONMENT_CONFIG = Record("EnvironmentConfig", Record("EnvironmentConfigSettings", ANY))

#: License (types/config), as the license upload returns it
LICENSE = Obj(
    "License",
    {
        "id": STRING,
        "issued_at": NUMBER,
        "starts_at": NUMBER,
        "expires_at": NUMBER,
        "customer": Obj(
            "LicenseCustomer", {"id": STRING, "name": STRING, "email": STRING, "company": STRING}
        ),
        "features": Record("LicenseFeatures", ANY),
        "sku_name": STRING,
        "sku_short_name": STRING,
        "is_gov_sku": BOOLEAN,
    },
    optional={"customer": "optional in the type", "is_gov_sku": "optional in the type"},
)

#: ClientResponse<ClientLicense> of Client4.requestTrialLicense (the server's StatusOK fits
#: Record<string, string>)
TRIAL_RESPONSE = ClientResponse(CLIENT_LICENSE)

#: AnalyticsRow[] (types/admin)
ANALYTICS_ROWS = ListOf(Obj("AnalyticsRow", {"name": STRING, "value": NUMBER}))

#: ProductNotices (types/product_notices)
PRODUCT_NOTICES = ListOf(
    Obj(
        "ProductNotice",
        {
            "id": STRING,
            "title": STRING,
            "description": STRING,
            "image": STRING,
            "actionText": STRING,
            "action": STRING,
            "actionParam": STRING,
            "sysAdminOnly": BOOLEAN,
            "teamAdminOnly": BOOLEAN,
        },
        optional={
            "image": "optional in the type",
            "actionText": "optional in the type",
            "action": "optional in the type",
            "actionParam": "optional in the type",
        },
    )
)
