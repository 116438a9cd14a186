"""The catalogue of mutants: every deliberate fault the suites must catch, and every benign
variant they must accept.

Four sources feed it:

* ``stub`` - the stub's named faults (``mmconform.stub.Fault``), each breaking one promise;
* ``cell`` - one cell of the permission matrix answered wrongly by the stub: ``deny`` where the
  contract lets the caller through, ``grant`` where it refuses it (computed from the contract,
  so an operation added to the spec adds its cells here);
* ``proxy`` - the fault proxy's mutations (``mmconform.proxy``), applied in front of a faithful
  stub: faults, and benign changes of form (key order, gzip, chunked transfer, latency...);
* ``variant`` - the stub's stricter-than-upstream variants: correct servers, hence benign;
* ``version`` - the version matrix: the faithful stub imitating each version the suite claims
  (``SUPPORTED_VERSIONS``) as a Team Edition build and as a licensed Enterprise build, each a
  correct server the whole gate must pass. They run only when asked for (``--source
  version``): one per runner is the way to spread the matrix over CI machines.

A fault is *killed* when a run of the suites against it fails; a benign mutant *passes* when the
run passes. Faults that no black-box test can catch are listed in ``KNOWN_SURVIVORS`` with the
reason; they still count against the score.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Literal

from mmconform._version import Version
from mmconform._wire import MUTANT_AREAS
from mmconform.contract import (
    ALLOWED,
    LOCAL,
    MATRIX_COLUMNS,
    REFUSED,
    SUPPORTED_VERSIONS,
    Contract,
    MatrixConditions,
    load_contract,
    permission_matrix,
)
from mmconform.proxy import MUTATIONS
from mmconform.stub import DEFAULT_SERVER_VERSION, Fault, Variant

__all__ = [
    "AREAS",
    "KNOWN_SURVIVORS",
    "ON_REQUEST",
    "SAMPLE_BENIGN_OPERATIONS",
    "Mutant",
    "build_catalogue",
    "sample",
]

Kind = Literal["fault", "benign"]
Source = Literal["stub", "cell", "proxy", "variant", "version"]
#: sources the default selection leaves out (asked for by name)
ON_REQUEST: Final = ("version",)

#: The areas a mutant belongs to (the table groups and the sample picks by area): the fault
#: areas, then the benign changes.
AREAS: Final = MUTANT_AREAS

#: Faults the suites cannot catch from the outside, with the reason (they count as survived).
KNOWN_SURVIVORS: Final[dict[str, str]] = {}

#: In a sample run, benign mutants run the tests of these operations only (a full run runs all).
SAMPLE_BENIGN_OPERATIONS: Final = (
    "GetPing",
    "GetConfig",
    "PatchConfig",
    "GetClientLicense",
    "GetLogs",
    "GetServerBusyExpires",
    "SetServerBusy",
    "GetSupportedTimezone",
)


@dataclass(frozen=True)
class Mutant:
    """One way of being wrong (a fault) or differently right (benign)."""

    #: unique, ``source:name`` (``stub:BUSY_NEVER_EXPIRES``, ``cell:grant:GetLogs:system_user``)
    key: str
    kind: Kind
    source: Source
    #: the name the stub's ``--fault``/``--variant`` or the proxy's ``--mutation`` takes
    name: str
    area: str
    #: operationIds whose answers change; () = every operation (the whole gate runs)
    operations: tuple[str, ...]
    description: str
    #: the Mattermost version the stub imitates for this mutant (None: the stub's default)
    server_version: str | None = None
    #: "team" for a Team Edition build (None: the stub's default, Enterprise)
    edition: str | None = None
    #: whether the stub starts with the project's test license installed
    licensed: bool = False
    #: its run mostly waits on held-back answers (the latency variant), so it does not take
    #: one of the selftest's ``--jobs`` places
    mostly_waits: bool = False

    @property
    def survivor_reason(self) -> str | None:
        """Why no test can catch this fault, when it is a known survivor."""
        return KNOWN_SURVIVORS.get(self.key)


def build_catalogue(contract: Contract | None = None) -> list[Mutant]:
    """Every mutant, faults first (stub, cells, proxy), then the benign ones."""
    contract = contract or load_contract()
    mutants = [*_stub_faults(), *_cell_faults(contract), *_proxy("fault"), *_variants()]
    mutants += [*_proxy("benign"), *_versions()]
    keys = [m.key for m in mutants]
    duplicates = sorted({k for k in keys if keys.count(k) > 1})
    if duplicates:
        raise ValueError(f"mutant keys are not unique: {', '.join(duplicates)}")
    unknown = sorted({m.area for m in mutants} - set(AREAS))
    if unknown:
        raise ValueError(f"mutants name unknown areas: {', '.join(unknown)}")
    return mutants


def sample(mutants: Sequence[Mutant]) -> list[Mutant]:
    """A small run that still touches every area: the first fault of each area and of each
    source, one cell granted and one denied, and the first benign mutant of each source."""
    picked: dict[str, Mutant] = {}

    def pick(candidates: Iterable[Mutant]) -> None:
        for mutant in candidates:
            picked.setdefault(mutant.key, mutant)
            return

    faults = [m for m in mutants if m.kind == "fault" and m.survivor_reason is None]
    for area in AREAS:
        pick(m for m in faults if m.area == area and m.source != "cell")
    for source in ("stub", "proxy"):
        pick(m for m in faults if m.source == source)
    for verb in ("grant:", "deny:"):
        pick(m for m in faults if m.source == "cell" and m.name.startswith(verb))
    benign = [m for m in mutants if m.kind == "benign"]
    for source in ("variant", "proxy"):
        pick(m for m in benign if m.source == source)
    return [m for m in mutants if m.key in picked]


def _stub_faults() -> list[Mutant]:
    return [
        Mutant(
            key=f"stub:{fault.name}",
            kind="fault",
            source="stub",
            name=fault.name,
            area=fault.area,
            operations=tuple(fault.operations),
            description=fault.description,
            server_version=fault.server_version,
        )
        for fault in Fault
    ]


def _cell_faults(contract: Contract) -> list[Mutant]:
    """Every cell of the matrix the newest stub serves, flipped: ``deny`` what the contract lets
    through (or refuses only after the permission check), ``grant`` what it refuses before."""
    conditions = MatrixConditions.default_install(
        contract,
        version=Version.parse(DEFAULT_SERVER_VERSION),
        edition="enterprise",
        licensed=False,
    )
    columns = (*MATRIX_COLUMNS, LOCAL)
    mutants: list[Mutant] = []
    for (operation, caller), cell in permission_matrix(contract, conditions, columns).items():
        verb = "deny" if cell.access in (ALLOWED, REFUSED) else "grant"
        name = f"{verb}:{operation}:{caller}"
        effect = "refuses" if verb == "deny" else "lets through"
        mutants.append(
            Mutant(
                key=f"cell:{name}",
                kind="fault",
                source="cell",
                name=name,
                area="permissions",
                operations=(operation,),
                description=f"{operation} {effect} {caller}, against the contract",
            )
        )
    return mutants


def _proxy(kind: Kind) -> list[Mutant]:
    return [
        Mutant(
            key=f"proxy:{mutation.name}",
            kind=kind,
            source="proxy",
            name=mutation.name,
            area=mutation.area,
            operations=tuple(mutation.operations),
            description=mutation.description,
            mostly_waits=mutation.holds_answers,
        )
        for mutation in MUTATIONS.values()
        if mutation.kind == kind
    ]


def _versions() -> list[Mutant]:
    """The version matrix: every claimed version, as Team Edition and as licensed Enterprise."""
    mutants = []
    for version in SUPPORTED_VERSIONS:
        for edition, licensed in (("team", False), ("enterprise", True)):
            name = f"{version}-{edition}"
            build = "a Team Edition build" if edition == "team" else "a licensed Enterprise build"
            mutants.append(
                Mutant(
                    key=f"version:{name}",
                    kind="benign",
                    source="version",
                    name=name,
                    area="benign",
                    operations=(),
                    description=f"a correct server: {version}, {build}",
                    server_version=version,
                    edition=edition,
                    licensed=licensed,
                )
            )
    return mutants


def _variants() -> list[Mutant]:
    return [
        Mutant(
            key=f"variant:{variant.value}",
            kind="benign",
            source="variant",
            name=variant.value,
            area="benign",
            operations=variant.operations,
            description=f"a stricter correct server: {variant.description}",
        )
        for variant in Variant
    ]
