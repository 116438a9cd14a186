from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mmconform.stub import RunningStub, StubOptions, start_stub


@pytest.fixture(scope="module")
def stub() -> Iterator[RunningStub]:
    with start_stub(StubOptions()) as running:
        yield running


@pytest.fixture(scope="module")
def stub_target(stub: RunningStub, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return stub.write_target(tmp_path_factory.mktemp("stub") / "target.toml")
