"""The schemathesis side of the contract suite: the schema as this target should see it, the
checks each operation is held to, and failure messages that say what, who, why and how to replay.
"""

from __future__ import annotations

import copy
import ipaddress
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import schemathesis
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup

from mmconform._version import Version
from mmconform.harness._clients import Transport
from mmconform.harness._preflight import parse_version
from mmconform.harness._profiles import Profile
from mmconform.harness._reproduce import failure_header, redact
from mmconform.harness._safety import HTTP_METHODS, iter_operations, unsupported_parameters
from mmconform.harness._target import Target

ANONYMOUS_ROLE = "anonymous"
_THEIR_CURL = re.compile(r"\n*Reproduce with:\s*\n\s*\n?\s*curl .*?(?=\n\n|\Z)", re.DOTALL)


def bearer_scheme_name(document: Mapping[str, Any]) -> str | None:
    schemes = document.get("components", {}).get("securitySchemes", {})
    for name, scheme in schemes.items():
        if scheme.get("type") == "http" and str(scheme.get("scheme", "")).lower() == "bearer":
            return str(name)
    return None


def version_adjusted_document(contract: Any, server_version: str | None) -> dict[str, Any]:
    """The contract's document as a server of ``server_version`` should honour it.

    * parameters whose ``x-mm-min-version`` is above the target's version are removed (the
      server does not know them, so generating them tests nothing);
    * statuses that errata accept for this version (``extra_status``) are added to the
      operation's responses, with the body of the documented response of the same class.
    """
    document: dict[str, Any] = copy.deepcopy(contract.document)
    version = parse_version(server_version)
    for info in iter_operations(document):
        operation = document["paths"][info.path][info.method]
        dropped = set(unsupported_parameters(info, server_version))
        if dropped:
            operation["parameters"] = [
                p for p in operation.get("parameters", []) if p.get("name") not in dropped
            ]
        extra = _extra_statuses(contract, info.operation_id, version)
        responses = operation.setdefault("responses", {})
        for status in sorted(extra):
            if status in responses or status.upper() in responses:
                continue
            same_class = [value for key, value in responses.items() if str(key)[:1] == status[:1]]
            added: dict[str, Any] = {"description": "Accepted by spec/errata.yaml for this version"}
            if same_class and isinstance(same_class[0], dict):
                resolved = same_class[0]
                if "$ref" not in resolved and "content" in resolved:
                    added["content"] = copy.deepcopy(resolved["content"])
                elif "$ref" in resolved:
                    added = copy.deepcopy(resolved)
            responses[status] = added
    return document


def _extra_statuses(contract: Any, operation_id: str, version: Version | None) -> frozenset[str]:
    getter = getattr(contract, "extra_statuses", None)
    if getter is None:
        return frozenset()
    return frozenset(str(status) for status in getter(operation_id, version))


def exempt_check_names(
    contract: Any, operation_id: str, server_version: str | None
) -> frozenset[str]:
    """Checks spec/errata.yaml exempts this operation from on this version (never a blanket)."""
    return frozenset(contract.exempt_checks(operation_id, parse_version(server_version)))


def checks_by_name(names: frozenset[str]) -> list[Any]:
    load_all_checks()
    known = {getattr(check, "__name__", str(check)): check for check in CHECKS.get_all()}
    unknown = sorted(names - set(known))
    if unknown:
        raise ValueError(f"spec/errata.yaml exempts unknown schemathesis check(s): {unknown}")
    return [known[name] for name in sorted(names)]


def schemathesis_config(
    *,
    target: Target,
    role: str | None,
    profile: Profile,
    seed: int,
    transport: Transport,
    scheme: str | None,
) -> SchemathesisConfig:
    """Generation, transport and authentication settings for one role.

    Authentication is part of the configuration (OpenAPI-aware, per security scheme), so the
    cases schemathesis deliberately sends without credentials stay without them.
    """
    project: dict[str, Any] = {
        "base-url": target.url,
        "request-timeout": transport.timeout,
        "tls-verify": transport.requests_verify,
        "generation": {
            "max-examples": profile.max_examples,
            "deterministic": profile.deterministic,
            "database": "none",
        },
    }
    token = target.tokens.get(role) if role else None
    if token and scheme:
        project["auth"] = {"openapi": {scheme: {"bearer": token}}}
    data: dict[str, Any] = {"seed": seed, **project}
    return SchemathesisConfig.from_dict(data)


def load_schema(
    contract: Any,
    *,
    target: Target,
    role: str | None,
    profile: Profile,
    seed: int,
    transport: Transport,
    server_version: str | None,
) -> Any:
    document = version_adjusted_document(contract, server_version)
    config = schemathesis_config(
        target=target,
        role=role,
        profile=profile,
        seed=seed,
        transport=transport,
        scheme=bearer_scheme_name(document),
    )
    return schemathesis.openapi.from_dict(document, config=config)


@dataclass
class CaseRunner:
    """Runs one generated case and validates the answer with every applicable check."""

    contract: Any
    target: Target
    role: str
    profile: Profile
    seed: int
    server_version: str | None
    _exempt: dict[str, list[Any]] = field(default_factory=dict)
    _session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        """One keep-alive session for the whole run (a new TCP connection per generated request
        costs more than many of the requests themselves)."""
        if self._session is None:
            self._session = requests.Session()
            # Proxy and netrc settings come from the environment on every request (a tenth of
            # the run's time); no proxy stands between the suite and a loopback target.
            self._session.trust_env = not _is_loopback_url(self.target.url)
        return self._session

    def operation_id(self, case: Any) -> str:
        op = self.contract.find(case.operation.method.upper(), case.operation.path)
        return str(op.operation_id)

    def excluded_checks(self, operation_id: str) -> list[Any]:
        if operation_id not in self._exempt:
            names = exempt_check_names(self.contract, operation_id, self.server_version)
            self._exempt[operation_id] = checks_by_name(names)
        return self._exempt[operation_id]

    def run(self, case: Any) -> Any:
        __tracebackhide__ = True
        operation_id = self.operation_id(case)
        session = self.session
        try:
            response = case.call(session=session)
        finally:
            session.cookies.clear()
        self.validate(case, response, operation_id=operation_id, session=session)
        return response

    def validate(
        self,
        case: Any,
        response: Any,
        *,
        operation_id: str | None = None,
        validate: Callable[..., None] | None = None,
        **kwargs: Any,
    ) -> None:
        __tracebackhide__ = True
        operation_id = operation_id or self.operation_id(case)
        excluded = self.excluded_checks(operation_id)
        try:
            if validate is not None:
                validate(excluded)
            else:
                case.validate_response(
                    response,
                    excluded_checks=excluded,
                    transport_kwargs={"base_url": self.target.url, **kwargs},
                )
        except FailureGroup as exc:
            raise FailureGroup(
                list(exc.exceptions), self.message(case, response, operation_id, exc)
            ) from None

    def message(self, case: Any, response: Any, operation_id: str, exc: FailureGroup) -> str:
        checks = sorted(
            {
                name
                for f in exc.exceptions
                for name in (getattr(f, "checks", ()) or (type(f).__name__,))
            }
        )
        sent_as = self.role_of(response)
        role = (
            self.role if sent_as == self.role else f"{self.role} (this request sent as {sent_as})"
        )
        header = failure_header(
            operation=f"{operation_id} ({case.operation.method.upper()} {case.operation.path})",
            role=role,
            seed=self.seed,
            profile=self.profile.name,
            server_version=self.server_version,
        )
        body = _THEIR_CURL.sub("", str(exc.message)).strip()
        curl = curl_command(response)
        rules = errata_note(self.contract, operation_id, self.server_version)
        text = (
            f"{header}\nfailed check(s): {', '.join(checks)}\n\n{body}\n\n"
            f"Reproduce (credentials redacted):\n    {curl}\n{rules}"
        )
        return redact(text, self.target.tokens)

    def role_of(self, response: Any) -> str:
        """Which role the failing request really carried (none for negative-auth cases)."""
        request = getattr(response, "request", None)
        headers = getattr(request, "headers", {}) or {}
        value = str(headers.get("Authorization", "") or "")
        for role, token in self.target.tokens.items():
            if token and token in value:
                return role
        return ANONYMOUS_ROLE if not value else "unknown credentials"


def _is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def errata_note(contract: Any, operation_id: str, server_version: str | None) -> str:
    """Which spec/errata.yaml rules shaped the checks of this operation on this version, so a
    failure says what was expected and why."""
    version = parse_version(server_version)
    lines = []
    for erratum in contract.errata_for(operation_id):
        effects = erratum.effects_for(version)
        parts = []
        if effects.skip_checks:
            parts.append("skips " + ", ".join(sorted(effects.skip_checks)))
        if effects.extra_status:
            parts.append("also accepts " + ", ".join(sorted(effects.extra_status)))
        if parts:
            lines.append(f"    {erratum.id} ({erratum.decision}): {'; '.join(parts)}")
    if not lines:
        return ""
    return "\nErrata applied to this operation (spec/errata.yaml):\n" + "\n".join(lines) + "\n"


def curl_command(response: Any) -> str:
    """A curl line for exactly the request that was sent (tokens are redacted by the caller)."""
    request = getattr(response, "request", None)
    if request is None:
        return "(request not available)"
    parts = ["curl", "-X", str(request.method)]
    skip = {"content-length", "accept-encoding", "connection", "user-agent"}
    for name, value in request.headers.items():
        if name.lower() in skip:
            continue
        parts += ["-H", f"{name}: {value}"]
    raw: Any = getattr(request, "body", None)
    if raw:
        text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else str(raw)
        parts += ["--data-raw", text[:4000]]
    parts.append(str(request.url))
    return " ".join(shlex.quote(part) for part in parts)


def link_edges(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(source, target) operationIds of every OpenAPI link in the document."""
    edges: list[tuple[str, str]] = []
    for item in document.get("paths", {}).values():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            for response in operation.get("responses", {}).values():
                links = response.get("links", {}) if isinstance(response, dict) else {}
                for link in (links or {}).values():
                    if isinstance(link, dict) and link.get("operationId"):
                        edges.append((str(operation.get("operationId")), str(link["operationId"])))
    return edges


def linked_operation_ids(document: Mapping[str, Any]) -> tuple[str, ...]:
    """Operations that take part in an OpenAPI link (as source or target)."""
    return tuple(sorted({op for edge in link_edges(document) for op in edge}))


def link_families(document: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """Groups of operations connected by links (each becomes one stateful test), sorted."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for source, target in link_edges(document):
        a, b = find(source), find(target)
        if a != b:
            parent[max(a, b)] = min(a, b)
    families: dict[str, set[str]] = {}
    for op in list(parent):
        families.setdefault(find(op), set()).add(op)
    return sorted(tuple(sorted(members)) for members in families.values())
