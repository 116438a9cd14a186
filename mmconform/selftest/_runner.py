"""Running the suites against one mutant, and against many in parallel.

Each mutant gets a fresh target: the stub started as a user would start it (a child process with
``--fault``/``--variant``), with the fault proxy in front of it for proxy mutants. The suites then
run in a child pytest, as a user would run them, with destructive operations allowed (the target
is disposable) and ``-x``: the first failure is the kill, and the child's wall time is the time
to detection. A fault runs only the tests of the operations it changes (all of them when it
changes every operation); a benign mutant runs the whole gate.

The children are forks of one preloaded interpreter where the platform allows it (``_preload``):
the same command lines, without paying the imports for each.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from mmconform._wire import ChildProcess, ChildServerError, child_server, stop_process
from mmconform.selftest._catalogue import Mutant
from mmconform.selftest._preload import Launcher, fresh, launcher
from mmconform.selftest._shards import expected_seconds

#: the test license a licensed target starts with (in the project's fixtures/licenses)
LICENSE_NAME: Final = "valid.mattermost-license"

__all__ = ["MutantRunOptions", "Outcome", "child_environment", "run_mutant", "run_mutants"]

Verdict = Literal["killed", "survived", "passed", "false alarm", "error"]

#: pytest's own exit codes that mean the run itself went wrong, not the target.
_RUN_BROKEN: Final = {2: "interrupted", 3: "internal error", 4: "usage error", 5: "no tests ran"}
#: mmconform's exit codes: what the run found wrong with the target before or after the tests.
_TARGET_REFUSED: Final = {
    10: "the run stopped: the target does not answer",
    11: "the preflight refused the target",
    12: "the state guard: the run could not put the server back as it found it",
}
#: the one line in which the run says why it stopped or refused the target
_EXIT_MESSAGE: Final = re.compile(r"Exit: mmconform: (.+?) !$", re.MULTILINE)
_RUN_MESSAGE: Final = re.compile(r"^mmconform: (.+)$", re.MULTILINE)
_MESSAGE_WORDS: Final = ("refus", "does not", "lacks", "unreachable", "stopped", "differs", "still")


@dataclass(frozen=True)
class MutantRunOptions:
    """How each mutant's run is made."""

    project_dir: Path
    #: what the child pytest collects (relative to project_dir)
    suites: tuple[str, ...] = ("suites",)
    #: seconds a single mutant's pytest may take before it counts as an error
    timeout: float = 1200.0
    #: None: every operation for benign mutants; else only these operations' tests
    benign_operations: tuple[str, ...] | None = None
    #: fork the children from one preloaded interpreter where the platform allows it
    preload: bool = True


@dataclass(frozen=True)
class Outcome:
    """What one mutant's run showed."""

    mutant: Mutant
    verdict: Verdict
    #: the test that failed first (or the preflight / state guard), "" when nothing failed
    caught_by: str
    #: wall time of the child pytest, seconds (for a kill: the time to detection)
    seconds: float
    returncode: int
    #: the last lines of the child's output when the verdict needs explaining
    detail: str = ""

    @property
    def ok(self) -> bool:
        """Killed fault or passing benign mutant."""
        return self.verdict in ("killed", "passed")


def run_mutants(
    mutants: Sequence[Mutant],
    options: MutantRunOptions,
    *,
    jobs: int,
    on_outcome: Callable[[Outcome], None] | None = None,
    start: Launcher | None = None,
) -> list[Outcome]:
    """Run every mutant, ``jobs`` at a time, the longest expected first (a whole-gate benign
    run started last would run on alone long after the rest); results in catalogue order.
    A mutant whose run mostly waits (``Mutant.mostly_waits``: the latency variant) runs beside
    the ``jobs``, not in one of their places. The children are started by ``start`` when
    given, else by a preloaded interpreter of this run's own (``options.preload``)."""
    lock = threading.Lock()
    with ExitStack() as stack:
        launch = start or stack.enter_context(
            launcher(
                options.project_dir, child_environment(), options.suites, preload=options.preload
            )
        )

        def one(mutant: Mutant) -> Outcome:
            outcome = run_mutant(mutant, options, start=launch)
            if on_outcome is not None:
                with lock:
                    on_outcome(outcome)
            return outcome

        longest_first = sorted(range(len(mutants)), key=lambda i: -expected_seconds(mutants[i]))
        waiting = [i for i in longest_first if mutants[i].mostly_waits]
        working = [i for i in longest_first if not mutants[i].mostly_waits]
        with (
            ThreadPoolExecutor(max_workers=max(1, jobs)) as pool,
            ThreadPoolExecutor(max_workers=max(1, len(waiting))) as beside,
        ):
            running = {i: beside.submit(one, mutants[i]) for i in waiting}
            running |= {i: pool.submit(one, mutants[i]) for i in working}
            return [running[i].result() for i in range(len(mutants))]


def run_mutant(mutant: Mutant, options: MutantRunOptions, *, start: Launcher = fresh) -> Outcome:
    """Start the mutant's target, run the suites against it, and judge the run. ``start``
    launches the children (default: a fresh interpreter each)."""
    with tempfile.TemporaryDirectory(prefix="mmconform-selftest-") as tmp:
        work = Path(tmp)
        try:
            license_file = options.project_dir / "fixtures" / "licenses" / LICENSE_NAME
            with _target_for(mutant, work, license_file, options, start) as target_file:
                return _judge(mutant, *_run_pytest(mutant, target_file, work, options, start))
        except ChildServerError as exc:
            return Outcome(mutant, "error", "", 0.0, -1, str(exc))


def _judge(
    mutant: Mutant, returncode: int, seconds: float, first_failure: str, output: str
) -> Outcome:
    tail = "\n".join(output.strip().splitlines()[-12:])
    if returncode in _RUN_BROKEN:
        reason = f"the run itself failed ({_RUN_BROKEN[returncode]})"
        return Outcome(mutant, "error", "", seconds, returncode, f"{reason}\n{tail}")
    if returncode == 0:
        verdict: Verdict = "passed" if mutant.kind == "benign" else "survived"
        return Outcome(mutant, verdict, "", seconds, returncode)
    if returncode == 1:
        caught_by = first_failure or "a failed test"
    elif returncode in _TARGET_REFUSED:
        caught_by = _TARGET_REFUSED[returncode]
        said = _run_message(output)
        if said:
            caught_by += f" ({said})"
    else:
        return Outcome(
            mutant, "error", "", seconds, returncode, f"unexpected exit code {returncode}\n{tail}"
        )
    if mutant.kind == "benign":
        return Outcome(mutant, "false alarm", caught_by, seconds, returncode, tail)
    return Outcome(mutant, "killed", caught_by, seconds, returncode)


def _run_pytest(
    mutant: Mutant, target_file: Path, work: Path, options: MutantRunOptions, start: Launcher
) -> tuple[int, float, str, str]:
    junit = work / "junit.xml"
    args = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--mm-target-file",
        str(target_file),
        "--mm-allow-destructive",
        "--mm-no-reports",
        "-x",
        "-q",
        "--junitxml",
        str(junit),
    ]
    for operation in _operations_to_run(mutant, options):
        args += ["--mm-operation", operation]
    args += list(options.suites)
    log = work / "pytest.log"
    started = time.monotonic()
    process = start(args, log, child_environment(), options.project_dir)
    try:
        returncode = process.wait(timeout=options.timeout)
    except subprocess.TimeoutExpired:
        stop_process(process)
        message = f"timed out after {options.timeout:.0f} s\n{_read(log)}"
        return 2, time.monotonic() - started, "", message
    seconds = time.monotonic() - started
    return returncode, seconds, _first_failure(junit), _read(log)


def _read(log: Path) -> str:
    try:
        return log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _run_message(output: str) -> str:
    """What the run said about the target when it refused or stopped it, shortened."""
    said = [m.group(1).strip() for m in _EXIT_MESSAGE.finditer(output)]
    said += [
        m.group(1).strip()
        for m in _RUN_MESSAGE.finditer(output)
        if any(word in m.group(1) for word in _MESSAGE_WORDS)
    ]
    if not said:
        return ""
    return said[0] if len(said[0]) <= 160 else said[0][:159] + "…"


def _operations_to_run(mutant: Mutant, options: MutantRunOptions) -> tuple[str, ...]:
    if mutant.kind == "benign":
        return options.benign_operations or ()
    return mutant.operations


def _first_failure(junit: Path) -> str:
    """The node id of the first failed or erroring test of a JUnit file ("" when none)."""
    try:
        root = ElementTree.parse(junit).getroot()
    except (OSError, ElementTree.ParseError):
        return ""
    for case in root.iter("testcase"):
        if case.find("failure") is not None or case.find("error") is not None:
            module = (case.get("classname") or "").replace(".", "/")
            return f"{module}.py::{case.get('name', '')}"
    return ""


def child_environment() -> dict[str, str]:
    """This process's environment without mmconform and pytest settings (and CI, which changes
    the default Hypothesis profile): the child sees only what its arguments say."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MMCONFORM_", "PYTEST_")) and key != "CI"
    }


@contextmanager
def _target_for(
    mutant: Mutant, work: Path, license_file: Path, options: MutantRunOptions, start: Launcher
) -> Iterator[Path]:
    """A running target with the mutant switched on; yields its target file."""
    stub_args: list[str] = []
    if mutant.source in ("stub", "cell"):
        stub_args = ["--fault", mutant.name]
    elif mutant.source == "variant":
        stub_args = ["--variant", mutant.name]
    if mutant.server_version is not None:
        stub_args += ["--server-version", mutant.server_version]
    if mutant.edition == "team":
        stub_args.append("--team-edition")
    if mutant.licensed:
        stub_args += ["--license-file", str(license_file)]
    environment = child_environment()

    def launch(command: Sequence[str], log: Path) -> ChildProcess:
        return start(command, log, environment, options.project_dir)

    with ExitStack() as stack:
        stub_target = work / "stub.toml"
        stack.enter_context(
            child_server(
                [
                    sys.executable,
                    "-m",
                    "mmconform.stub",
                    "--port",
                    "0",
                    *stub_args,
                    "--write-target",
                    str(stub_target),
                ],
                stub_target,
                log=work / "stub.log",
                launch=launch,
            )
        )
        if mutant.source != "proxy":
            yield stub_target
            return
        proxy_target = work / "proxy.toml"
        stack.enter_context(
            child_server(
                [
                    sys.executable,
                    "-m",
                    "mmconform.proxy",
                    "--target-file",
                    str(stub_target),
                    "--port",
                    "0",
                    "--mutation",
                    mutant.name,
                    "--write-target",
                    str(proxy_target),
                ],
                proxy_target,
                log=work / "proxy.log",
                launch=launch,
            )
        )
        yield proxy_target
