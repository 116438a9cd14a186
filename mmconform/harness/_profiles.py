"""Hypothesis profiles for the conformance suites.

``gate``  deterministic: fixed seed, derandomised, no example database; the default everywhere
          (CI included: Hypothesis' own ``ci`` profile is never used by the suites).
``dev``   quick local iteration: fewer examples, random seed (printed), no database.
``deep``  nightly fuzzing: many examples, random seed (printed), no database.

On operations with a large request body (the configuration: hundreds of settings), the coverage
phase gives most coverage targets (one setting with a wrong type, one section with a valid
subset of its settings...) several variants that differ only in which wrong type or which subset
(``PUT /config`` alone gets about 1,500 cases for 660 targets). ``gate`` and ``dev`` send one case
per target there; ``deep`` sends every variant.

schemathesis' ``ignored_auth`` check sends each case again without credentials (and with wrong
ones) to see it refused: a third of the contract suite's requests went to asking every operation
the same question thousands of times. ``gate`` and ``dev`` ask it of the first
``auth_probes`` cases of each operation in each generation mode (valid and invalid data);
``deep`` asks it of every case. (``test_session_required`` asks every session operation once
more, on its own.)
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import HealthCheck, settings

GATE_SEED = 20_260_401
DEFAULT_PROFILE = "gate"


@dataclass(frozen=True)
class Profile:
    name: str
    max_examples: int
    deterministic: bool
    fixed_seed: int | None
    description: str
    #: every coverage-phase variant of a target on large request bodies (False: the first one)
    coverage_variants: bool = False
    #: cases per operation and generation mode that ``ignored_auth`` re-sends without
    #: credentials (None: every case)
    auth_probes: int | None = 3


PROFILES: dict[str, Profile] = {
    "gate": Profile(
        "gate", 25, True, GATE_SEED, "deterministic release gate: fixed seed, 25 examples per phase"
    ),
    "dev": Profile("dev", 10, False, None, "quick local run: 10 examples, random seed"),
    "deep": Profile(
        "deep",
        500,
        False,
        None,
        "nightly fuzzing: 500 examples, random seed, every coverage variant and auth probe",
        coverage_variants=True,
        auth_probes=None,
    ),
}

_SUPPRESSED = [
    HealthCheck.too_slow,
    HealthCheck.filter_too_much,
    HealthCheck.data_too_large,
    HealthCheck.function_scoped_fixture,
]


def hypothesis_settings(profile: Profile) -> settings:
    """The Hypothesis settings object of one profile (network tests: no deadline)."""
    return settings(
        max_examples=profile.max_examples,
        derandomize=profile.deterministic,
        database=None,
        deadline=None,
        suppress_health_check=_SUPPRESSED,
        print_blob=True,
    )


def register_profiles() -> None:
    """Register ``gate``, ``dev`` and ``deep`` with Hypothesis (idempotent)."""
    for profile in PROFILES.values():
        settings.register_profile(profile.name, hypothesis_settings(profile))


def select_profile(mm_profile: str | None, hypothesis_profile: str | None) -> Profile:
    """Pick the profile: ``--mm-profile`` first, then ``--hypothesis-profile`` when it names ours.

    A ``--hypothesis-profile`` naming a profile that is not ours (e.g. ``ci``) is ignored by the
    suites, so that CI and a laptop run the same deterministic gate.
    """
    if mm_profile:
        if mm_profile not in PROFILES:
            raise ValueError(
                f"unknown profile {mm_profile!r}; choose one of {', '.join(sorted(PROFILES))}"
            )
        return PROFILES[mm_profile]
    if hypothesis_profile and hypothesis_profile in PROFILES:
        return PROFILES[hypothesis_profile]
    return PROFILES[DEFAULT_PROFILE]


def choose_seed(profile: Profile, explicit: int | None, rng: random.Random | None = None) -> int:
    """The seed of this run: explicit ``--mm-seed``, else the profile's, else a fresh random one."""
    if explicit is not None:
        return explicit
    if profile.fixed_seed is not None:
        return profile.fixed_seed
    return (rng or random.SystemRandom()).randrange(1, 2**32)
