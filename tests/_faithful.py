"""One run of the whole gate against a faithful server, shared by the validations that need one.

The stub imitates the newest version as a licensed Enterprise build (every operation, every
role, a license to install and remove), with known tokens and secrets in its config, and the
suites run against it once as a vendor certifies a server (``pytest --target-file``, destructive
operations allowed, ``--certify``, every outcome listed with ``-rA``). The version validation
reads the run for that version, the scenario validation its scenarios, the permission validation
its matrix, the catalogue validation its catching tests, the report tests its reports and
certification bundle (and search them for the secrets): proofs from one run instead of one run
each. The tests that read it share one xdist group, so under ``-n`` one worker makes the run.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import pytest

from mmconform.contract import ROLES
from mmconform.stub import DEFAULT_SERVER_VERSION, StubOptions, start_stub
from tests._pytest_run import run_pytest

ROOT = Path(__file__).resolve().parents[1]
LICENSE = ROOT / "fixtures" / "licenses" / "valid.mattermost-license"
#: the xdist group of every test reading the shared run
GROUP = "faithful-gate"
VERSION = DEFAULT_SERVER_VERSION
EDITION: Final = "enterprise"

_OUTCOME = re.compile(r"^(PASSED|FAILED|ERROR|SKIPPED|XFAIL|XPASS) (\S.*?)(?: - .*)?$", re.M)


#: the stub's fixed tokens and config secrets: no output or report may show them
TOKENS: Final = {role: f"secret-token-{role.replace('_', '')}-91c3e7" for role in ROLES}
SMTP_PASSWORD: Final = "secret-smtp-password-5b2f80"
DATA_SOURCE: Final = "postgres://mmuser:secret-db-password-e4a1c6@db:5432/mattermost"


@dataclass(frozen=True)
class GateRun:
    returncode: int
    output: str
    #: node id -> PASSED, FAILED, ERROR, SKIPPED...
    outcomes: dict[str, str]
    #: the run's own reports directory
    reports: Path
    #: the license file the target accepts, as text
    license_text: str
    #: (operation, caller) -> the cell's verdict, from permission-matrix.json
    cells: dict[tuple[str, str], str] = field(default_factory=dict)
    #: the stub's tokens and config secrets, none of which the output may show
    secrets: tuple[str, ...] = ()

    def of(self, prefix: str) -> dict[str, str]:
        """The outcomes of the tests whose node ids start with ``prefix``."""
        return {node: word for node, word in self.outcomes.items() if node.startswith(prefix)}


def run_faithful_gate(folder: Path) -> GateRun:
    options = StubOptions(
        server_version=VERSION,
        edition=EDITION,
        license_file=LICENSE,
        tokens=TOKENS,
        config_overrides={
            "EmailSettings": {"SMTPPassword": SMTP_PASSWORD},
            "SqlSettings": {"DataSource": DATA_SOURCE},
        },
    )
    reports = folder / "reports"
    with start_stub(options) as stub:
        target = stub.write_target(folder / "target.toml")
        secrets = (
            *stub.tokens.values(),
            SMTP_PASSWORD,
            DATA_SOURCE,
            "secret-db-password-e4a1c6",
            stub.state.config["SqlSettings"]["AtRestEncryptKey"],
        )
        result = run_pytest(
            ROOT,
            "-p",
            "no:randomly",
            "-q",
            "-rA",
            "--no-header",
            "--tb=short",
            f"--target-file={target}",
            "--allow-destructive",
            "--certify",
            f"--reports-dir={reports}",
            timeout=900,
        )
    output = result.stdout + result.stderr
    cells: dict[tuple[str, str], str] = {}
    matrix = reports / "latest" / "permission-matrix.json"
    if matrix.is_file():
        for cell in json.loads(matrix.read_text(encoding="utf-8"))["cells"]:
            cells[(cell["operation"], cell["role"])] = cell["verdict"]
    outcomes = {match.group(2): match.group(1) for match in _OUTCOME.finditer(result.stdout)}
    return GateRun(
        result.returncode,
        output,
        outcomes,
        (reports / "latest").resolve(),
        LICENSE.read_text(encoding="utf-8").strip(),
        cells,
        secrets,
    )


@pytest.fixture(scope="session")
def faithful_gate(tmp_path_factory: pytest.TempPathFactory) -> GateRun:
    """The whole gate against the faithful licensed Enterprise stub of the newest version."""
    return run_faithful_gate(tmp_path_factory.mktemp("faithful-gate"))
