"""The requests a comparison sends: the contract's generated cases, made with schemathesis'
Python API outside pytest.

For each operation: the schema's examples, the coverage phase (positive and negative, with the
undeclared methods of its path) and a fuzzing phase of ``max_examples`` cases drawn in both
modes, deterministically (a fixed seed, derandomised, no example database), as the contract
suite's ``gate`` profile does. On a large request body (the configuration: hundreds of
settings, each a coverage target) the coverage phase is thinned by ``large_bodies``:
``scenario`` keeps the first case of each scenario (wrong type, valid object...: about 10),
``section`` the first of each scenario for each top-level member (each config section: about
90 instead of 1,500), ``target`` the first of each coverage target (as the gate profile, about
680), ``every`` all of them. Every case is turned into a
:class:`RequestSpec` without credentials or test-case id, and equal requests are sent once.
"""

from __future__ import annotations

import contextlib
import re
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from hypothesis.internal.conjecture import providers as _providers
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.drivers import CoverageGenerator, ExamplesGenerator
from schemathesis.generation.feedback import NO_FEEDBACK
from schemathesis.generation.overrides import Override

from mmconform import __version__
from mmconform.contract import Contract
from mmconform.diff._model import RequestSpec

__all__ = [
    "DEFAULT_MAX_EXAMPLES",
    "DEFAULT_SEED",
    "LARGE_BODY_MODES",
    "LARGE_BODY_PROPERTIES",
    "STRIPPED_HEADERS",
    "USER_AGENT",
    "Generation",
    "generate_requests",
    "iter_requests",
    "to_request",
]

#: The contract suite's gate seed and example count.
DEFAULT_SEED = 20_260_401
DEFAULT_MAX_EXAMPLES = 25
#: More declared properties than this (at every depth) make a request body large.
LARGE_BODY_PROPERTIES = 50
USER_AGENT = f"mmconform-diff/{__version__}"
#: Headers a generated case never keeps: credentials (each side adds its own), the test-case
#: id, the HTTP library's defaults, and headers that frame the message itself.
STRIPPED_HEADERS = frozenset(
    {
        "authorization",
        "cookie",
        "x-schemathesis-testcaseid",
        "user-agent",
        "accept",
        "accept-encoding",
        "connection",
        "content-length",
        "transfer-encoding",
        "host",
        "expect",
        "te",
        "trailer",
        "upgrade",
    }
)
_BASE = "http://mmconform-diff.invalid"
_LEADING_BOUNDARY = re.compile(rb"--([0-9a-f]{32})(?:\r\n|--)")


#: How the coverage phase of a large request body is thinned (see the module's text).
LARGE_BODY_MODES = ("scenario", "section", "target", "every")
_QUOTED = re.compile(r"'([^']+)'")


@dataclass(frozen=True)
class Generation:
    """How the cases are generated."""

    seed: int = DEFAULT_SEED
    max_examples: int = DEFAULT_MAX_EXAMPLES
    #: one of LARGE_BODY_MODES
    large_bodies: str = "section"

    def __post_init__(self) -> None:
        if self.large_bodies not in LARGE_BODY_MODES:
            raise ValueError(f"large_bodies must be one of {LARGE_BODY_MODES}")


def _schema(contract: Contract, generation: Generation) -> Any:
    config = SchemathesisConfig.from_dict(
        {
            "seed": generation.seed,
            "generation": {
                "max-examples": generation.max_examples,
                "deterministic": True,
                "database": "none",
            },
        }
    )
    return schemathesis.openapi.from_dict(contract.document, config=config)


def to_request(case: Any, operation_id: str, origin: str) -> RequestSpec:
    """A generated case as the neutral request every caller sends."""
    kwargs = case.as_transport_kwargs(base_url=_BASE)
    prepared = requests.Request(
        method=kwargs["method"],
        url=kwargs["url"],
        headers=dict(kwargs.get("headers") or {}),
        params=kwargs.get("params"),
        cookies=kwargs.get("cookies"),
        json=kwargs.get("json"),
        data=kwargs.get("data"),
        files=kwargs.get("files"),
    ).prepare()
    raw = prepared.body
    body = raw.encode("utf-8") if isinstance(raw, str) else raw if isinstance(raw, bytes) else None
    headers = {
        name: str(value)
        for name, value in prepared.headers.items()
        if name.lower() not in STRIPPED_HEADERS
    }
    if body:
        body, headers = _fixed_boundary(body, headers)
    url = str(prepared.url)
    return RequestSpec(
        operation=operation_id,
        method=str(prepared.method),
        target=url[len(_BASE) :] if url.startswith(_BASE) else url,
        headers=tuple(sorted(headers.items(), key=lambda item: item[0].lower())),
        body=body if body else None,
        origin=origin,
    )


def _fixed_boundary(body: bytes, headers: dict[str, str]) -> tuple[bytes, dict[str, str]]:
    """The multipart encoder picks a random boundary; a fixed one keeps equal requests equal
    (also where a case sends a multipart body under another content type)."""
    match = _LEADING_BOUNDARY.match(body)
    if match is None:
        return body, headers
    old = match.group(1)
    new = b"mmconform-diff-boundary"
    fixed = {
        name: value.replace(old.decode("ascii"), new.decode("ascii"))
        for name, value in headers.items()
    }
    return body.replace(old, new), fixed


def _coverage_key(case: Any, thinning: str) -> tuple[str, str, str] | None:
    """What a coverage-phase case covers, as finely as ``thinning`` tells apart: (mode,
    scenario, the coverage target or the top-level member it is in); None for other cases."""
    meta = getattr(case, "meta", None)
    phase = getattr(meta, "phase", None)
    if phase is None or str(phase.name) != "coverage":
        return None
    data = phase.data
    mode = str(getattr(getattr(getattr(meta, "generation", None), "mode", None), "value", ""))
    scenario = str(getattr(getattr(data, "scenario", ""), "value", getattr(data, "scenario", "")))
    description = str(getattr(data, "description", ""))
    if thinning == "scenario":
        return mode, scenario, ""
    if thinning == "section":
        return mode, scenario, _member(str(getattr(data, "location", "") or ""), description)
    return mode, scenario, description


def _member(location: str, description: str) -> str:
    """The top-level body member a coverage target is in (its description when none is)."""
    parts = location.split("/")
    if len(parts) > 2 and parts[1] == "properties":
        return parts[2]
    quoted = _QUOTED.search(description)
    if quoted is not None:
        return quoted.group(1)
    return description.split(" -> ", 1)[0] if " -> " in description else description


def _origin(case: Any, default: str) -> str:
    meta = getattr(case, "meta", None)
    mode = str(getattr(getattr(getattr(meta, "generation", None), "mode", None), "value", ""))
    return f"{default}:{mode}" if mode else default


def _coverage_cases(operation: Any, thinning: str | None) -> Iterator[Any]:
    schema = operation.schema
    generation = schema.config.generation_for(operation=operation, phase="coverage")
    generator = CoverageGenerator(
        operation=operation,
        generation_modes=list(generation.modes),
        generation_config=generation,
        auth_storage=None,
        override=Override(),
        feedback=NO_FEEDBACK,
    )
    seen: set[tuple[str, str, str]] = set()
    for case in generator:
        key = None if thinning in (None, "every") else _coverage_key(case, thinning)
        if key is not None:
            if key in seen:
                continue
            seen.add(key)
        yield case


def _example_cases(operation: Any) -> list[Any]:
    return list(
        ExamplesGenerator(
            operation=operation, override=Override(), feedback=NO_FEEDBACK, fill_missing=False
        )
    )


@contextlib.contextmanager
def _global_constants_only() -> Iterator[None]:
    """Hypothesis sometimes draws a constant found in the source of the local modules that are
    loaded (which ones depends on the program that runs it): while generating, it sees only
    its own fixed constants, so that the same seed gives the same cases in any program. Does
    nothing where a Hypothesis release lacks what it replaces."""
    original = getattr(_providers, "_get_local_constants", None)
    cache = getattr(getattr(_providers, "CONSTANTS_CACHE", None), "cache", None)
    empty = getattr(_providers, "_local_constants", None)
    if original is None or cache is None or empty is None:
        yield
        return
    nothing = type(empty)(
        integers=type(empty.integers)(),
        floats=type(empty.floats)(key=empty.floats.key),
        bytes=type(empty.bytes)(),
        strings=type(empty.strings)(),
    )
    cache.clear()
    _providers._get_local_constants = lambda: nothing
    try:
        yield
    finally:
        _providers._get_local_constants = original
        cache.clear()


def _fuzzing_cases(operation: Any, generation: Generation) -> list[Any]:
    if generation.max_examples < 1:
        return []
    modes = operation.schema.config.generation_for(operation=operation, phase="fuzzing").modes
    strategy = st.one_of(
        [operation.as_strategy(generation_mode=mode, feedback=NO_FEEDBACK) for mode in modes]
    )
    drawn: list[Any] = []

    @seed(generation.seed)
    @settings(
        max_examples=generation.max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def collect(case: Any) -> None:
        drawn.append(case)

    # An operation no negative case can be drawn for (nothing to break) yields what it drew.
    with contextlib.suppress(Unsatisfiable):
        collect()
    return drawn


def _operation_cases(
    contract: Contract, operation: Any, operation_id: str, generation: Generation
) -> list[RequestSpec]:
    large = contract.request_body_property_count(operation_id) > LARGE_BODY_PROPERTIES
    with _global_constants_only():
        phases: Iterable[tuple[str, Iterable[Any]]] = (
            ("examples", _example_cases(operation)),
            ("coverage", _coverage_cases(operation, generation.large_bodies if large else None)),
            ("fuzzing", _fuzzing_cases(operation, generation)),
        )
        return [
            to_request(case, operation_id, _origin(case, phase))
            for phase, cases in phases
            for case in cases
        ]


def iter_requests(
    contract: Contract,
    operation_ids: Sequence[str],
    generation: Generation = Generation(),
) -> Iterator[tuple[str, list[RequestSpec]]]:
    """(operationId, its distinct requests) for each operation asked for, in the order asked,
    each as soon as it is generated (so that sending can start before generation ends)."""
    schema = _schema(contract, generation)
    seen: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for operation_id in operation_ids:
            described = contract.operation(operation_id)
            operation = schema[described.path][described.method.upper()]
            fresh = []
            for request in _operation_cases(contract, operation, operation_id, generation):
                if request.key not in seen:
                    seen.add(request.key)
                    fresh.append(request)
            yield operation_id, fresh


def generate_requests(
    contract: Contract,
    operation_ids: Sequence[str],
    generation: Generation = Generation(),
) -> dict[str, list[RequestSpec]]:
    """operationId -> its distinct requests, in generation order (the operations asked for)."""
    return dict(iter_requests(contract, operation_ids, generation))
