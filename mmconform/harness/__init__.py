"""The harness: what ``fixtures/`` and ``suites/`` build on.

Everything a suite or fixture needs is exported here, and only here; the ``_``-modules behind
it are private (an import-linter contract in ``pyproject.toml`` holds ``fixtures`` and
``suites`` to this face). ``docs/architecture.md`` ("Adding a suite") shows how the pieces fit.
"""

from mmconform._wire import (
    Secret,
    SmtpSink,
    closed_port,
    loopback_mail_settings,
    on_this_machine,
    redact,
)
from mmconform.harness._clients import Transport, make_client
from mmconform.harness._exitcodes import (
    EXIT_INCOMPLETE,
    EXIT_STATE_NOT_RESTORED,
    EXIT_TARGET_MISCONFIGURED,
    EXIT_TARGET_UNREACHABLE,
)
from mmconform.harness._failures import curl_command, failure_header
from mmconform.harness._profiles import hypothesis_settings
from mmconform.harness._responses import ContractViolation, ResponseChecker, ResponseRecorder
from mmconform.harness._results import record_cell
from mmconform.harness._run import SUITES_DECLARATION
from mmconform.harness._schemathesis import CaseRunner, ContractRun
from mmconform.harness._selection import (
    CONFORMANCE_MARK,
    item_operation_label,
    missing_role_reason,
)
from mmconform.harness._server_facts import ServerFacts
from mmconform.harness._server_state import (
    GUARDED_STATES,
    ServerState,
    StateNotRestored,
    config_differences,
)
from mmconform.harness._session import ConformanceSession, session_of
from mmconform.harness._target import Target
from mmconform.report import CellResult

__all__ = [
    # the session and how to reach it
    "CONFORMANCE_MARK",
    # exit codes
    "EXIT_INCOMPLETE",
    "EXIT_STATE_NOT_RESTORED",
    "EXIT_TARGET_MISCONFIGURED",
    "EXIT_TARGET_UNREACHABLE",
    # server-wide state
    "GUARDED_STATES",
    "SUITES_DECLARATION",
    # the contract suite
    "CaseRunner",
    "CellResult",
    "ConformanceSession",
    "ContractRun",
    # checking answers
    "ContractViolation",
    "ResponseChecker",
    "ResponseRecorder",
    "Secret",
    "ServerFacts",
    "ServerState",
    "SmtpSink",
    "StateNotRestored",
    # the target and clients
    "Target",
    "Transport",
    "closed_port",
    "config_differences",
    "curl_command",
    "failure_header",
    "hypothesis_settings",
    "item_operation_label",
    "loopback_mail_settings",
    "make_client",
    "missing_role_reason",
    "on_this_machine",
    "record_cell",
    "redact",
    "session_of",
]
