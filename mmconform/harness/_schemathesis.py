"""The contract run: schemathesis over the contract as this target should honour it.

:func:`build_contract_run` gives a suite everything it needs in one object: the schema (base
URL, the most privileged role's token, version-specific expectations), the Hypothesis settings
of the chosen profile, and a :class:`CaseRunner` that sends each case, holds the answer to every
applicable check, counts the requests and words failures.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import schemathesis
from hypothesis import settings as hypothesis_settings_type
from schemathesis.checks import CHECKS, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.transport import BaseTransport

from mmconform._version import Version
from mmconform._wire import redact
from mmconform.contract import ANONYMOUS, Contract
from mmconform.harness._clients import (
    HealthAdapter,
    Transport,
    describe_transport_error,
    is_loopback_host,
)
from mmconform.harness._failures import (
    curl_command,
    errata_note,
    failure_header,
    redirect_note,
)
from mmconform.harness._health import TargetHealth
from mmconform.harness._lazy_coverage import install as install_lazy_coverage
from mmconform.harness._profiles import Profile, hypothesis_settings
from mmconform.harness._target import Target

__all__ = [
    "LARGE_BODY_PROPERTIES",
    "CaseRunner",
    "ContractRun",
    "SharedSessionTransport",
    "build_contract_run",
    "checks_by_name",
    "coverage_target",
    "version_adjusted_document",
]

#: Answers that count as refusing invalid input: schemathesis' own list, and 413 and 414, which
#: servers give input too large to read (documented on the operations that can receive it).
NEGATIVE_DATA_REFUSALS = (
    "400", "401", "403", "404", "405", "406", "409", "413",
    "414", "415", "422", "428", "429", "5xx",
)  # fmt: skip
#: A request body schema with more properties than this (at every depth) is a large body: the
#: coverage phase sends one case per coverage target there (see :mod:`._profiles`).
LARGE_BODY_PROPERTIES = 50
_THEIR_CURL = re.compile(r"\n*Reproduce with:\s*\n\s*\n?\s*curl .*?(?=\n\n|\Z)", re.DOTALL)


def version_adjusted_document(contract: Contract, version: Version | None) -> dict[str, Any]:
    """The contract's document as a server of ``version`` should honour it.

    * parameters whose ``x-mm-min-version`` is above the target's version are removed (the
      server does not know them, so generating them tests nothing);
    * statuses that errata accept for this version (``extra_status``) are added to the
      operation's responses, with the body of the documented response of the same class.
    """
    document = contract.document
    for operation in contract.operations:
        raw = document["paths"][operation.path][operation.method.lower()]
        dropped = set(operation.unsupported_parameters(version))
        if dropped:
            raw["parameters"] = [p for p in raw.get("parameters", []) if p["name"] not in dropped]
        responses = raw.setdefault("responses", {})
        for status in sorted(contract.extra_statuses(operation.operation_id, version)):
            if status in responses or status.upper() in responses:
                continue
            responses[status] = _accepted_response(responses, status)
    return document


def _accepted_response(responses: dict[str, Any], status: str) -> dict[str, Any]:
    """A response for an errata-accepted ``status``, shaped like a documented one of its class."""
    same_class = [value for key, value in responses.items() if str(key)[:1] == status[:1]]
    added: dict[str, Any] = {"description": "Accepted by spec/errata.yaml for this version"}
    if same_class and isinstance(same_class[0], dict):
        model = same_class[0]
        if "$ref" in model:
            return copy.deepcopy(model)
        if "content" in model:
            added["content"] = copy.deepcopy(model["content"])
    return added


def coverage_target(case: Any) -> tuple[str, str, str] | None:
    """What a coverage-phase case covers: its generation mode, scenario and description (the
    location and what is done there), or None for a case of another phase."""
    meta = getattr(case, "meta", None)
    phase = getattr(meta, "phase", None)
    if phase is None or str(phase.name) != "coverage":
        return None
    data = phase.data
    generation = getattr(meta, "generation", None)
    mode = str(getattr(getattr(generation, "mode", None), "value", ""))
    return mode, str(getattr(data, "scenario", "")), str(getattr(data, "description", ""))


def checks_by_name(names: frozenset[str]) -> list[Any]:
    """The schemathesis check functions of these names (ValueError for unknown ones)."""
    load_all_checks()
    known = {getattr(check, "__name__", str(check)): check for check in CHECKS.get_all()}
    unknown = sorted(names - set(known))
    if unknown:
        raise ValueError(f"spec/errata.yaml exempts unknown schemathesis check(s): {unknown}")
    return [known[name] for name in sorted(names)]


@functools.cache
def _ignored_auth_check() -> tuple[Any, ...]:
    return tuple(checks_by_name(frozenset({"ignored_auth"})))


def _schemathesis_config(
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
        "seed": seed,
        "base-url": target.url,
        "request-timeout": transport.timeout,
        "tls-verify": transport.requests_verify,
        "generation": {
            "max-examples": profile.max_examples,
            "deterministic": profile.deterministic,
            "database": "none",
        },
        "checks": {
            # Invalid input a server refuses for its size before reading it (a URL or a body
            # too large) is refused all the same.
            "negative_data_rejection": {"expected-statuses": NEGATIVE_DATA_REFUSALS},
        },
    }
    if role and role in target.tokens and scheme:
        project["auth"] = {"openapi": {scheme: {"bearer": target.token(role)}}}
    return SchemathesisConfig.from_dict(project)


@dataclass
class CaseRunner:
    """Runs one generated case and validates the answer with every applicable check."""

    contract: Contract
    target: Target
    role: str
    profile: Profile
    seed: int
    server_version: Version | None
    #: the run's breaker and budget (None: unbounded)
    health: TargetHealth | None = None
    #: requests sent so far (generated cases and stateful steps)
    requests_sent: int = 0
    #: coverage-phase variants not sent: their target was covered already (large bodies only)
    variants_skipped: int = 0
    _exempt: dict[str, list[Any]] = field(default_factory=dict)
    _large_body: dict[str, bool] = field(default_factory=dict)
    _covered: set[tuple[str, str, str, str]] = field(default_factory=set)
    _auth_probes: dict[tuple[str, str], int] = field(default_factory=dict)
    _session: requests.Session | None = None

    @property
    def session(self) -> requests.Session:
        """One keep-alive session for the whole run (a new TCP connection per generated request
        costs more than many of the requests themselves)."""
        if self._session is None:
            self._session = requests.Session()
            adapter = HealthAdapter(self.health)
            self._session.mount("http://", adapter)
            self._session.mount("https://", adapter)
            # Proxy and netrc settings come from the environment on every request (a tenth of
            # the run's time); no proxy stands between the suite and a loopback target.
            self._session.trust_env = not is_loopback_host(urlsplit(self.target.url).hostname or "")
        return self._session

    def operation_id(self, case: Any) -> str:
        return self.contract.find(case.operation.method, case.operation.path).operation_id

    def excluded_checks(self, operation_id: str) -> list[Any]:
        if operation_id not in self._exempt:
            names = self.contract.exempt_checks(operation_id, self.server_version)
            self._exempt[operation_id] = checks_by_name(names)
        return self._exempt[operation_id]

    def checks_to_skip(self, case: Any, operation_id: str) -> list[Any]:
        """The checks not to run on this case: the errata's exemptions, and ``ignored_auth``
        once the operation's auth probes for the case's generation mode are used up (see
        ``Profile.auth_probes``)."""
        excluded = self.excluded_checks(operation_id)
        quota = self.profile.auth_probes
        if quota is None:
            return excluded
        meta = getattr(case, "meta", None)
        mode = str(meta.generation.mode.value) if meta is not None else "stateful"
        key = (operation_id, mode)
        done = self._auth_probes.get(key, 0)
        if done >= quota:
            return [*excluded, *_ignored_auth_check()]
        self._auth_probes[key] = done + 1
        return excluded

    def is_repeated_variant(self, case: Any, operation_id: str) -> bool:
        """Whether ``case`` is a coverage-phase variant of a target this run already sent a
        case for, on an operation with a large request body (never with a profile that wants
        every variant). The first case of each target is remembered."""
        if self.profile.coverage_variants:
            return False
        target = coverage_target(case)
        if target is None:
            return False
        if operation_id not in self._large_body:
            self._large_body[operation_id] = (
                self.contract.request_body_property_count(operation_id) > LARGE_BODY_PROPERTIES
            )
        if not self._large_body[operation_id]:
            return False
        key = (operation_id, *target)
        if key in self._covered:
            return True
        self._covered.add(key)
        return False

    def prepare(self, case: Any) -> None:
        """Make a generated case one the API itself answers (see ``FRAMING_HEADERS``)."""
        _drop_framing_headers(case)

    def run(self, case: Any) -> Any:
        """Send ``case`` and check the answer (None, sending nothing, for a repeated coverage
        variant: see :meth:`is_repeated_variant`)."""
        __tracebackhide__ = True
        operation_id = self.operation_id(case)
        if self.is_repeated_variant(case, operation_id):
            self.variants_skipped += 1
            return None
        self.prepare(case)
        session = self.session
        try:
            # A redirect is an answer to check, never a request to follow.
            response = case.call(session=session, allow_redirects=False)
        except requests.RequestException as exc:
            raise self.transport_failure(case, exc, operation_id) from None
        finally:
            session.cookies.clear()
        self.check(
            case,
            response,
            operation_id=operation_id,
            run_checks=lambda excluded: case.validate_response(
                response,
                excluded_checks=excluded,
                transport_kwargs={
                    "base_url": self.target.url,
                    "session": session,
                    "allow_redirects": False,
                },
            ),
        )
        return response

    def check(
        self,
        case: Any,
        response: Any,
        *,
        run_checks: Callable[[list[Any]], None],
        operation_id: str | None = None,
    ) -> None:
        """Count the answer and call ``run_checks(excluded_checks)``; reword a failure so that it
        says what, who, why and how to replay."""
        __tracebackhide__ = True
        operation_id = operation_id or self.operation_id(case)
        self.requests_sent += 1
        try:
            run_checks(self.checks_to_skip(case, operation_id))
        except FailureGroup as exc:
            raise FailureGroup(
                list(exc.exceptions), self.message(case, response, operation_id, exc)
            ) from None
        except requests.RequestException as exc:  # a check's own request got no answer
            raise self.transport_failure(case, exc, operation_id) from None

    def transport_failure(
        self, case: Any, exc: requests.RequestException, operation_id: str
    ) -> AssertionError:
        """A request that got no usable answer, worded like every other failure."""
        header = self._header(case, operation_id, self.role)
        request = getattr(exc, "request", None)
        curl = curl_command(request) if request is not None else "(not sent)"
        text = (
            f"{header}\nthe request got {describe_transport_error(exc)}\n\n"
            f"Reproduce (credentials redacted):\n    {curl}\n"
        )
        return AssertionError(redact(text, self.target.secrets))

    def _header(self, case: Any, operation_id: str, role: str) -> str:
        return failure_header(
            operation=f"{operation_id} ({case.operation.method.upper()} {case.operation.path})",
            role=role,
            seed=self.seed,
            profile=self.profile.name,
            server_version=self.server_version,
        )

    def message(self, case: Any, response: Any, operation_id: str, exc: FailureGroup) -> str:
        checks = sorted(
            {
                name
                for failure in exc.exceptions
                for name in (getattr(failure, "checks", ()) or (type(failure).__name__,))
            }
        )
        sent_as = self.role_of(response)
        role = (
            self.role if sent_as == self.role else f"{self.role} (this request sent as {sent_as})"
        )
        header = self._header(case, operation_id, role)
        body = _THEIR_CURL.sub("", str(exc.message)).strip()
        rules = errata_note(self.contract, operation_id, self.server_version)
        text = (
            f"{header}\nfailed check(s): {', '.join(checks)}\n\n{body}\n\n"
            f"Reproduce (credentials redacted):\n    {curl_command(response)}\n"
            f"{redirect_note(response)}{rules}"
        )
        return redact(text, self.target.secrets)

    def role_of(self, response: Any) -> str:
        """Which role the failing request really carried (none for negative-auth cases)."""
        request = getattr(response, "request", None)
        headers = getattr(request, "headers", {}) or {}
        value = str(headers.get("Authorization", "") or "")
        for role, token in self.target.tokens.items():
            if token.reveal() in value:
                return role
        return ANONYMOUS if not value else "unknown credentials"


#: Headers that frame the HTTP message itself. A generated value for one of them tests the HTTP
#: library of the server (which refuses a broken message before any API code runs, in its own
#: plain words), not the API, so generated cases never carry them.
FRAMING_HEADERS = frozenset(
    {
        "content-length",
        "transfer-encoding",
        "host",
        "connection",
        "expect",
        "te",
        "trailer",
        "upgrade",
    }
)


def _drop_framing_headers(case: Any) -> None:
    headers = getattr(case, "headers", None)
    if isinstance(headers, dict):
        for name in [name for name in headers if name.lower() in FRAMING_HEADERS]:
            del headers[name]


class SharedSessionTransport:
    """The schema's transport, except that a request sent without a session goes out on the
    run's keep-alive session.

    Some checks send follow-up requests of their own (``ignored_auth`` sends each successful
    request again without credentials and with invalid ones), and schemathesis sends those
    without a session: each would otherwise open, and close, a new connection (with a new
    ``requests`` session reading proxy settings from the environment). Credentials never ride
    on the session (they are part of each case's headers), and its cookies are cleared after
    every such request, so a follow-up request carries exactly what it did before.
    """

    def __init__(self, inner: BaseTransport[Any], session: Callable[[], requests.Session]):
        self._inner = inner
        self._session = session

    def send(self, case: Any, *, session: requests.Session | None = None, **kwargs: Any) -> Any:
        if session is not None:
            return self._inner.send(case, session=session, **kwargs)
        shared = self._session()
        try:
            return self._inner.send(case, session=shared, **kwargs)
        finally:
            shared.cookies.clear()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _sending_on(schema: Any, transport: SharedSessionTransport) -> Any:
    """``schema``, whose operations (and clones: ``include``, ``parametrize``) send through
    ``transport``."""
    base = type(schema)
    schema.__class__ = type(
        base.__name__,
        (base,),
        {"__module__": base.__module__, "transport": property(lambda _: transport)},
    )
    return schema


@dataclass(frozen=True)
class ContractRun:
    """What the contract suite is built from, for one target."""

    #: the schemathesis schema of every operation (``include`` narrows it)
    schema: Any
    runner: CaseRunner
    settings: hypothesis_settings_type
    contract: Contract
    target: Target
    profile: Profile

    @property
    def link_families(self) -> tuple[tuple[str, ...], ...]:
        return self.contract.link_families()


def build_contract_run(
    *,
    contract: Contract,
    target: Target,
    profile: Profile,
    seed: int,
    transport: Transport,
    server_version: Version | None,
    health: TargetHealth | None = None,
) -> ContractRun:
    """The schema, runner and settings for this target, as the most privileged role given."""
    role = target.most_privileged_role
    install_lazy_coverage()
    config = _schemathesis_config(
        target=target,
        role=role,
        profile=profile,
        seed=seed,
        transport=transport,
        scheme=contract.bearer_scheme(),
    )
    runner = CaseRunner(
        contract=contract,
        target=target,
        role=role or ANONYMOUS,
        profile=profile,
        seed=seed,
        server_version=server_version,
        health=health,
    )
    schema = schemathesis.openapi.from_dict(
        version_adjusted_document(contract, server_version), config=config
    )
    schema = _sending_on(schema, SharedSessionTransport(schema.transport, lambda: runner.session))
    return ContractRun(
        schema=schema,
        runner=runner,
        settings=hypothesis_settings(profile),
        contract=contract,
        target=target,
        profile=profile,
    )
