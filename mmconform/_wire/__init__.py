"""The neutral floor: what every part of mmconform that meets a server shares.

It holds the target file (one model, one strict reader, one writer), serving (an app in a
thread, a server in a child process announced by its target file), the words on the wire
(callers, the config mask, error ids, fault areas), the cell grammar, and credentials that
print redacted. It imports nothing from mmconform but ``_version``; the stub, the fault proxy,
the selftest, the contract and the harness stand on it (an import-linter contract keeps it so).
"""

from mmconform._wire._cells import CELL_KINDS, CellSpec, looks_like_cell
from mmconform._wire._loopback import is_loopback_host
from mmconform._wire._secrets import Secret, redact
from mmconform._wire._serving import (
    STARTUP_TIMEOUT,
    ChildProcess,
    ChildServerError,
    ServerThread,
    child_server,
    fast_protocol,
    listen_tcp,
    nodelay,
    start_child,
    stop_process,
)
from mmconform._wire._settings import SECRETS_MASKED_WHEN_SET, setting_patch, setting_value
from mmconform._wire._smtp_sink import (
    SmtpSink,
    closed_port,
    loopback_mail_settings,
    on_this_machine,
)
from mmconform._wire._target_file import (
    EDITIONS,
    TOKEN_KINDS,
    Provisioned,
    ProvisionedUser,
    TargetFile,
    TargetFileError,
    normalise_url,
    read_target_file,
)
from mmconform._wire._words import (
    ANONYMOUS,
    BENIGN,
    CALLERS,
    CONFIG_MASK,
    FAULT_AREAS,
    LOCAL,
    MUTANT_AREAS,
    PERMISSION_ERROR_ID,
    ROLE_LICENSE_ERROR_ID,
    ROLES,
    SESSION_ERROR_ID,
)

__all__ = [
    "ANONYMOUS",
    "BENIGN",
    "CALLERS",
    "CELL_KINDS",
    "CONFIG_MASK",
    "EDITIONS",
    "FAULT_AREAS",
    "LOCAL",
    "MUTANT_AREAS",
    "PERMISSION_ERROR_ID",
    "ROLES",
    "ROLE_LICENSE_ERROR_ID",
    "SECRETS_MASKED_WHEN_SET",
    "SESSION_ERROR_ID",
    "STARTUP_TIMEOUT",
    "TOKEN_KINDS",
    "CellSpec",
    "ChildProcess",
    "ChildServerError",
    "Provisioned",
    "ProvisionedUser",
    "Secret",
    "ServerThread",
    "SmtpSink",
    "TargetFile",
    "TargetFileError",
    "child_server",
    "closed_port",
    "fast_protocol",
    "is_loopback_host",
    "listen_tcp",
    "looks_like_cell",
    "loopback_mail_settings",
    "nodelay",
    "normalise_url",
    "on_this_machine",
    "read_target_file",
    "redact",
    "setting_patch",
    "setting_value",
    "start_child",
    "stop_process",
]
