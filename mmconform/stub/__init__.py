"""mmconform.stub: a standalone Starlette implementation of the 39 system operations.

>>> from mmconform.stub import StubOptions, start_stub
>>> with start_stub(StubOptions()) as stub:          # doctest: +SKIP
...     stub.url, stub.tokens["system_admin"]

See ``mmconform/stub/README.md`` for options, roles, faults (named ones and single permission
cells), variants and what is simulated.
"""

from __future__ import annotations

from mmconform._wire import CellSpec
from mmconform.stub._options import DEFAULT_SERVER_VERSION, StubOptions
from mmconform.stub._server import RunningStub, start_stub
from mmconform.stub._state import FakeClock, StubState
from mmconform.stub.app import create_app
from mmconform.stub.cell_faults import parse_cell_fault
from mmconform.stub.faults import Fault
from mmconform.stub.variants import Variant

__all__ = [
    "DEFAULT_SERVER_VERSION",
    "CellSpec",
    "FakeClock",
    "Fault",
    "RunningStub",
    "StubOptions",
    "StubState",
    "Variant",
    "create_app",
    "parse_cell_fault",
    "start_stub",
]
