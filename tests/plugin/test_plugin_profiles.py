"""Hypothesis profile selection and seeds."""

from __future__ import annotations

import random

import pytest
from hypothesis import settings

from mmconform.harness import _profiles


def test_gate_is_the_default_and_deterministic() -> None:
    profile = _profiles.select_profile(None, None)
    assert profile.name == "gate"
    assert profile.deterministic
    assert profile.max_examples >= 25
    assert _profiles.choose_seed(profile, None) == _profiles.GATE_SEED
    gate = _profiles.hypothesis_settings(profile)
    assert gate.database is None
    assert gate.derandomize
    assert gate.deadline is None


def test_explicit_choice_and_hypothesis_profile_option() -> None:
    assert _profiles.select_profile("deep", "gate").name == "deep"
    assert _profiles.select_profile(None, "dev").name == "dev"
    # A Hypothesis profile that is not ours (such as `ci`) does not change the suites' profile.
    assert _profiles.select_profile(None, "ci").name == "gate"


def test_unknown_profile() -> None:
    with pytest.raises(ValueError, match="unknown profile 'fast'"):
        _profiles.select_profile("fast", None)


def test_no_profile_is_named_ci() -> None:
    assert "ci" not in _profiles.PROFILES


def test_profiles_are_registered_with_hypothesis() -> None:
    _profiles.register_profiles()
    for name in ("gate", "dev", "deep"):
        assert settings.get_profile(name).database is None
    assert settings.get_profile("deep").max_examples > settings.get_profile("gate").max_examples


def test_seeds() -> None:
    dev = _profiles.PROFILES["dev"]
    assert _profiles.choose_seed(dev, 42) == 42
    assert _profiles.choose_seed(dev, None, random.Random(1)) == _profiles.choose_seed(
        dev, None, random.Random(1)
    )
    assert _profiles.choose_seed(_profiles.PROFILES["gate"], 7) == 7
