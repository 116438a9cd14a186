"""What every scenario needs: a verdict that speaks in requirements, AppError checks, the
target's own clock, small helpers for config documents, and the fixtures of the scenario
suites (``verdict``, ``admin_config``; ``conftest.py`` hands them to pytest).

The module's name ends in ``_test`` for one reason: Hypothesis mixes the literal constants of
every imported non-test module into the data it generates, so a helper module under any other
name would change what the contract suite generates. It holds no test.

A scenario proves the requirements it cites (``@pytest.mark.mm_requirement``). When a check
fails, :class:`Verdict` says which requirement, what was expected, what came back and how to
reproduce it (a curl line per request, credentials redacted), in one message without a Python
traceback.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any, NoReturn

import httpx
import pytest

from mmconform.contract import (
    CONFIG_MASK,
    Contract,
    Expectation,
    Operation,
    Requirement,
    setting_patch,
)
from mmconform.harness import Secret, Target, curl_command, redact

#: What Mattermost puts in place of a secret it will not show (model.FakeSetting).
#: The requirement every provoked error is held to.
ERROR_SHAPE = "errors.app-error-shape"
#: the ``format`` query cases of the client config and client license, by the erratum case
#: each is judged by, with their test ids
FORMAT_CASES = pytest.mark.parametrize(
    ("case", "params"),
    [
        ("format_missing", {}),
        ("format_invalid", {"format": "junk"}),
        ("format_old", {"format": "old"}),
    ],
    ids=["missing", "junk", "old"],
)
_BODY_LIMIT = 600


#: Parts of setting names whose values are secrets; a failure never prints such a value.
_SECRET_NAME_PARTS = ("password", "secret", "datasource", "salt", "encryptkey", "splitkey")


def is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(part in lowered for part in _SECRET_NAME_PARTS)


def hide_secrets(document: Any, name: str = "") -> Any:
    """A copy of a JSON document with the values of secret settings replaced by their length,
    so that a failure can show a server's answer without repeating a secret it leaked."""
    if isinstance(document, Mapping):
        return {key: hide_secrets(value, str(key)) for key, value in document.items()}
    if isinstance(document, list):
        return [hide_secrets(value, name) for value in document]
    if isinstance(document, str) and document not in ("", CONFIG_MASK) and is_secret_name(name):
        return f"<{len(document)} characters not shown>"
    return document


def shown(path: Sequence[str], value: Any) -> str:
    """``Section.Setting = value`` for a failure message, secrets hidden."""
    name = path[-1] if path else ""
    return f"{'.'.join(path)} = {hide_secrets(value, name)!r}"


def describe(response: httpx.Response) -> str:
    """One line for an answer: status, content type and the start of the body (the values of
    secret settings left out)."""
    response.read()
    body = response.text
    try:
        parsed = json.loads(body) if body else None
    except ValueError:
        parsed = None
    if isinstance(parsed, dict | list):
        body = json.dumps(hide_secrets(parsed), separators=(",", ":"))
    if len(body) > _BODY_LIMIT:
        body = body[:_BODY_LIMIT] + f"... ({len(response.content)} bytes)"
    kind = response.headers.get("content-type", "no content type")
    return f"{response.status_code} ({kind}) {body}"


def error_id_of(response: httpx.Response) -> str | None:
    """The AppError id of a JSON error answer, or None."""
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("id") if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


class Verdict:
    """Judges one scenario against the requirements its test cites."""

    def __init__(
        self,
        requirements: Sequence[Requirement],
        contract: Contract,
        tokens: Mapping[str, Secret],
    ) -> None:
        self.requirements = {requirement.id: requirement for requirement in requirements}
        self.contract = contract
        self._tokens = tokens
        #: Requests of this scenario so far, for the reproduction of a multi-step failure.
        self.steps: list[httpx.Response] = []

    def _requirement(self, requirement: str | None) -> Requirement:
        if requirement is None:
            if len(self.requirements) != 1:
                raise pytest.UsageError(
                    f"a scenario citing {sorted(self.requirements)} must name the requirement "
                    "each check proves"
                )
            return next(iter(self.requirements.values()))
        if requirement not in self.requirements:
            raise pytest.UsageError(
                f"the check names {requirement!r}, which the test does not cite "
                f"(it cites {sorted(self.requirements)})"
            )
        return self.requirements[requirement]

    def record(self, response: httpx.Response) -> httpx.Response:
        """Remember a request as a step of the scenario (its curl line goes into a failure)."""
        self.steps.append(response)
        return response

    def fail(
        self,
        expected: str,
        *,
        received: str | None = None,
        response: httpx.Response | None = None,
        requirement: str | None = None,
    ) -> NoReturn:
        __tracebackhide__ = True
        req = self._requirement(requirement)
        if received is None:
            received = describe(response) if response is not None else "(nothing)"
        lines = [
            f"requirement {req.id}: {req.must}",
            f"expected: {expected}",
            f"received: {received}",
        ]
        steps = [s for s in self.steps if s is not response]
        if response is not None:
            steps.append(response)
        if steps:
            lines.append("reproduce (credentials redacted):")
            lines += [f"    {curl_command(step)}" for step in steps[-6:]]
        pytest.fail(redact("\n".join(lines), self._tokens), pytrace=False)

    def check(
        self,
        condition: bool,
        expected: str,
        *,
        received: str | None = None,
        response: httpx.Response | None = None,
        requirement: str | None = None,
    ) -> None:
        """Fail with the requirement's words unless ``condition`` holds."""
        __tracebackhide__ = True
        if not condition:
            self.fail(expected, received=received, response=response, requirement=requirement)

    def status(
        self,
        response: httpx.Response,
        expected: int | Collection[int],
        *,
        requirement: str | None = None,
        what: str = "",
    ) -> None:
        """The answer has one of the ``expected`` statuses."""
        __tracebackhide__ = True
        wanted = {expected} if isinstance(expected, int) else set(expected)
        self.check(
            response.status_code in wanted,
            f"{what + ': ' if what else ''}status {' or '.join(map(str, sorted(wanted)))}",
            response=response,
            requirement=requirement,
        )

    def json_object(
        self, response: httpx.Response, *, requirement: str | None = None
    ) -> dict[str, Any]:
        """The answer's body, which must be a JSON object."""
        __tracebackhide__ = True
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self.fail("a JSON object", response=response, requirement=requirement)
        return body

    def app_error(
        self,
        response: httpx.Response,
        *,
        expect: Expectation | None = None,
        status: int | Collection[int] | None = None,
        error_id: str | Collection[str] | None = None,
        requirement: str | None = None,
    ) -> dict[str, Any]:
        """An error answer: first the scenario's own expectation (status and AppError id, from
        an erratum's :class:`Expectation` or given directly), then the AppError shape every
        error must have (requirement ``errors.app-error-shape``, which the test must cite)."""
        __tracebackhide__ = True
        if ERROR_SHAPE not in self.requirements:
            raise pytest.UsageError(
                f"a scenario that checks an error answer must cite {ERROR_SHAPE!r}"
            )
        found_id = error_id_of(response)
        if expect is not None:
            options = [expect, *expect.also]
            wanted = " or ".join(
                f"{o.status}" + (f" {o.error_id}" if o.error_id else "") for o in options
            )
            self.check(
                expect.allows(response.status_code, found_id),
                f"an error answer: {wanted}",
                response=response,
                requirement=requirement,
            )
        else:
            if status is not None:
                self.status(response, status, requirement=requirement, what="an error answer")
            if error_id is not None:
                ids = {error_id} if isinstance(error_id, str) else set(error_id)
                self.check(
                    found_id in ids,
                    f"the AppError id {' or '.join(sorted(ids))}",
                    response=response,
                    requirement=requirement,
                )
        return self.error_shape(response)

    def error_shape(self, response: httpx.Response) -> dict[str, Any]:
        """``errors.app-error-shape``: a JSON AppError whose ``id`` is not empty, whose
        ``status_code`` is the HTTP status and, where the contract declares ``X-Request-Id``
        for the answer, whose ``request_id`` is that header."""
        __tracebackhide__ = True
        body = self.json_object(response, requirement=ERROR_SHAPE)
        status = response.status_code
        hardened = status >= 500 and body.get("message") == "Internal Server Error"
        self.check(
            isinstance(body.get("id"), str) and (bool(body["id"]) or hardened),
            "an AppError with a non-empty id",
            response=response,
            requirement=ERROR_SHAPE,
        )
        self.check(
            isinstance(body.get("message"), str),
            "an AppError with a message",
            response=response,
            requirement=ERROR_SHAPE,
        )
        self.check(
            body.get("status_code") == status,
            f"status_code {status}, the HTTP status of the answer",
            received=f"status_code {body.get('status_code')!r} in a {status} answer: "
            + describe(response),
            response=response,
            requirement=ERROR_SHAPE,
        )
        operation = operation_of(self.contract, response)
        if operation is not None and declares_request_id(self.contract, operation, status):
            header = response.headers.get("x-request-id")
            self.check(
                bool(header) and body.get("request_id") == header,
                "an X-Request-Id header, repeated as request_id in the body",
                received=f"X-Request-Id {header!r}, request_id {body.get('request_id')!r}",
                response=response,
                requirement=ERROR_SHAPE,
            )
        return body


# --- the contract, asked what the suite needs ---------------------------------------------------


def operation_of(contract: Contract, response: httpx.Response) -> Operation | None:
    """The contract operation a request was for (None for a path the contract lacks)."""
    method = response.request.method.upper()
    path = response.request.url.path
    for op in contract.operations:
        if op.method != method:
            continue
        pattern = op.path.split("/")
        parts = path.split("/")
        if len(pattern) == len(parts) and all(
            p == q or (p.startswith("{") and p.endswith("}") and q)
            for p, q in zip(pattern, parts, strict=True)
        ):
            return op
    return None


def declares_request_id(contract: Contract, operation: Operation, status: int) -> bool:
    """Whether the contract declares a required ``X-Request-Id`` header for this answer (the
    router's catch-all 404 and the URL-length 414 declare none)."""
    document = contract.document
    raw = document["paths"][operation.path][operation.method.lower()].get("responses", {})
    entry = raw.get(str(status)) or raw.get(f"{str(status)[0]}XX") or raw.get("default")
    entry = _resolve(document, entry)
    headers = entry.get("headers", {}) if isinstance(entry, dict) else {}
    header = _resolve(document, headers.get("X-Request-Id"))
    return isinstance(header, dict) and bool(header.get("required", False))


def _resolve(document: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in str(node["$ref"])[2:].split("/"):
            target = target[part]
        node = target
    return node


def erratum_case(contract: Contract, erratum_id: str, case: str, version: Any) -> Expectation:
    """What a server of ``version`` answers for ``case`` of an erratum (it must say)."""
    expectation = contract.erratum(erratum_id).expectation(case, version)
    if expectation is None:
        raise pytest.UsageError(f"erratum {erratum_id} has no case {case!r} for {version}")
    return expectation


# --- the target's clock ----------------------------------------------------------------------


def server_time(response: httpx.Response) -> float:
    """The target's clock when it answered (its ``Date`` header), in Unix seconds."""
    date = response.headers.get("date")
    if not date:
        pytest.skip(
            f"{response.request.method} {response.request.url.path} carries no Date header: "
            "times cannot be judged against the target's own clock"
        )
    return parsedate_to_datetime(date).timestamp()


def poll(
    probe: Callable[[], httpx.Response],
    done: Callable[[httpx.Response], bool],
    *,
    deadline: float,
    interval: float = 0.2,
) -> httpx.Response:
    """Call ``probe`` until ``done`` holds for its answer or the monotonic ``deadline``
    passes; the last answer either way."""
    while True:
        response = probe()
        if done(response) or time.monotonic() >= deadline:
            return response
        time.sleep(interval)


# --- config documents --------------------------------------------------------------------------

Path_ = tuple[str, ...]


def has_path(document: Mapping[str, Any], path: Path_) -> bool:
    node: Any = document
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return False
        node = node[key]
    return True


def nested(path: Path_, value: Any) -> dict[str, Any]:
    """``("A", "B")``, 1 -> ``{"A": {"B": 1}}``: a patch that names one setting."""
    return setting_patch(path, value)


def leaves(document: Any, prefix: Path_ = ()) -> Iterator[tuple[Path_, Any]]:
    """Every setting of a config document with its path (lists count as one value)."""
    if isinstance(document, Mapping) and document:
        for key, value in document.items():
            yield from leaves(value, (*prefix, str(key)))
    elif prefix:
        yield prefix, document


def dotted(path: Path_) -> str:
    return ".".join(path)


def compact(value: Any, name: str = "") -> str:
    return json.dumps(hide_secrets(value, name), separators=(",", ":"), sort_keys=True)[:300]


# --- hooks and fixtures (registered by conftest.py) -----------------------------------------


@pytest.fixture
def verdict(request: pytest.FixtureRequest, contract: Contract, target: Target) -> Verdict:
    """Judges the scenario against the requirements its test cites (``mm_requirement``)."""
    cited = [str(r) for mark in request.node.iter_markers("mm_requirement") for r in mark.args]
    if not cited:
        raise pytest.UsageError(f"{request.node.nodeid} cites no requirement (mm_requirement)")
    return Verdict([contract.requirement(r) for r in cited], contract, target.tokens)


@pytest.fixture
def admin_config(admin_client: httpx.Client) -> dict[str, Any]:
    """GET /config as system_admin, now (for scenarios whose expectation depends on a setting;
    such tests carry ``mm_global_state("config")`` so no config change runs beside them)."""
    response = admin_client.get("/config")
    response.raise_for_status()
    body = response.json()
    assert isinstance(body, dict)
    return body
