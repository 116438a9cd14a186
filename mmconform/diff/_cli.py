"""``python -m mmconform.diff``: the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from mmconform._wire import Secret, redact
from mmconform.contract import ContractError, load_contract
from mmconform.diff._case_cache import cache_dir
from mmconform.diff._cases import (
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_SEED,
    LARGE_BODY_MODES,
    Generation,
)
from mmconform.diff._compare import ComparisonRules
from mmconform.diff._exitcodes import (
    EXIT_OK,
    EXIT_RECORDING_REFUSED,
    EXIT_SIDE_MISCONFIGURED,
    EXIT_SIDE_UNREACHABLE,
    EXIT_UNEXPLAINED,
    EXIT_USAGE,
    DiffProblem,
)
from mmconform.diff._groups import Group
from mmconform.diff._recording import read_recording
from mmconform.diff._report import (
    build_diff_report,
    fresh_reports_dir,
    schema_problems,
    verdict_of,
    write_diff_reports,
)
from mmconform.diff._run import (
    DiffOptions,
    DiffResult,
    compare_recording,
    compare_targets,
    record_target,
)
from mmconform.diff._send import SendOptions
from mmconform.diff._sequences import NOT_SELECTED
from mmconform.diff._sides import BASELINE, CANDIDATE, LiveTarget, environment_names, live_target

__all__ = ["main"]

_EPILOG = f"""\
targets: a target file (the TOML of `python -m mmconform.stub --write-target`, read as by
`pytest --target-file`) or an http(s) base URL whose credentials come from the environment:
{", ".join(environment_names(BASELINE).values())} for the baseline, the same with CANDIDATE
for the candidate (roles without a token are not compared).

  python -m mmconform.diff BASELINE CANDIDATE        compare two servers
  python -m mmconform.diff --record FILE TARGET      record one server's answers
  python -m mmconform.diff --against FILE CANDIDATE  compare a server with a recording
  (--record FILE with a comparison records the candidate's answers too)

exit status:
  {EXIT_OK}   every difference is explained by the contract (or there is none)
  {EXIT_UNEXPLAINED}  at least one difference is not explained
  {EXIT_USAGE}   bad arguments, or a reports folder or recording that exists already
  {EXIT_SIDE_UNREACHABLE}  a side does not answer (unreachable, stopped answering, budget used up)
  {EXIT_SIDE_MISCONFIGURED}  a side is described wrongly (bad target file, token refused, no API)
  {EXIT_RECORDING_REFUSED}  the recording cannot be used (another format version or contract)
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m mmconform.diff",
        description=(
            "Send the contract's generated requests to two Mattermost servers (or one server "
            "and a recording) as every caller, compare the answers response by response, and "
            "say which differences the contract's version and edition annotations or errata "
            "explain."
        ),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("targets", nargs="+", metavar="TARGET", help="[BASELINE] CANDIDATE")
    modes = parser.add_argument_group("recordings")
    modes.add_argument(
        "--against", type=Path, metavar="FILE", help="compare CANDIDATE with this recording"
    )
    modes.add_argument(
        "--record",
        type=Path,
        metavar="FILE",
        help="write the candidate's requests and answers here (JSON lines; .gz compresses); "
        "never replaces a file",
    )
    what = parser.add_argument_group("what is sent")
    what.add_argument(
        "--allow-destructive",
        action="store_true",
        help="also send operations marked x-mm-destructive (config writes, license, restart...)",
    )
    what.add_argument(
        "--operation",
        action="append",
        default=[],
        metavar="OPERATION_ID",
        help="compare only these operations (repeatable)",
    )
    what.add_argument("--seed", type=int, default=DEFAULT_SEED, help="generation seed")
    what.add_argument(
        "--max-examples",
        type=int,
        default=DEFAULT_MAX_EXAMPLES,
        help="fuzzing cases per operation, besides the examples and coverage cases",
    )
    what.add_argument(
        "--large-bodies",
        choices=LARGE_BODY_MODES,
        default="section",
        help="coverage cases kept on a large request body (the config): one per scenario, one "
        "per scenario and section (default), one per coverage target (as the gate profile), "
        "or every one",
    )
    what.add_argument(
        "--no-case-cache",
        action="store_true",
        help="generate the cases even when an earlier run kept the same ones "
        "($XDG_CACHE_HOME/mmconform/diff-cases)",
    )
    how = parser.add_argument_group("what is compared")
    how.add_argument("--values", action="store_true", help="compare values too, not only shapes")
    how.add_argument(
        "--allow-field",
        action="append",
        default=[],
        metavar="[OPERATION:]LOCATION",
        help="with --values: a value that may differ (glob patterns, e.g. "
        "'GetClientConfig:/Version', '*:/message'); repeatable",
    )
    how.add_argument("--key-order", action="store_true", help="compare the order of JSON keys too")
    bounds = parser.add_argument_group("bounds")
    bounds.add_argument("--request-timeout", type=float, default=10.0, metavar="SECONDS")
    bounds.add_argument(
        "--budget",
        type=float,
        default=900.0,
        metavar="SECONDS",
        help="the most the whole comparison may take (0: no limit); default 900",
    )
    bounds.add_argument(
        "--stop-after",
        type=int,
        default=3,
        metavar="FAILURES",
        help="transport failures in a row after which a side is asked whether it is alive",
    )
    bounds.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    bounds.add_argument("--ca-bundle", type=Path, metavar="FILE", help="CA bundle for TLS")
    out = parser.add_argument_group("reports")
    out.add_argument(
        "--reports-dir",
        type=Path,
        metavar="DIR",
        help="a new (or empty) folder for diff.json, diff.md, diff.html; default: a new "
        "reports/diff-<time> folder",
    )
    out.add_argument("--no-reports", action="store_true", help="write no report files")
    out.add_argument("-q", "--quiet", action="store_true", help="print the verdict line only")
    return parser


def _options(args: argparse.Namespace) -> DiffOptions:
    verify: bool | str = True
    if args.insecure:
        verify = False
    elif args.ca_bundle is not None:
        verify = str(args.ca_bundle)
    return DiffOptions(
        operations=tuple(args.operation),
        allow_destructive=args.allow_destructive,
        generation=Generation(
            seed=args.seed, max_examples=args.max_examples, large_bodies=args.large_bodies
        ),
        rules=ComparisonRules(
            values=args.values, allowed=tuple(args.allow_field), key_order=args.key_order
        ),
        send=SendOptions(
            request_timeout=args.request_timeout, stop_after=args.stop_after, verify=verify
        ),
        budget=args.budget or None,
        case_cache=None if args.no_case_cache else cache_dir(),
    )


class _Printer:
    """Everything the command prints passes the redactor first."""

    def __init__(self, stream: TextIO, quiet: bool) -> None:
        self.stream = stream
        self.quiet = quiet
        self.secrets: dict[str, Secret] = {}

    def add(self, target: LiveTarget) -> None:
        for role, secret in target.tokens.items():
            self.secrets[f"{target.name}:{role}"] = secret

    def __call__(self, text: str, *, always: bool = False) -> None:
        if self.quiet and not always:
            return
        print(redact(text, self.secrets), file=self.stream, flush=True)


def _usage_check(args: argparse.Namespace, parser: argparse.ArgumentParser) -> None:
    count = len(args.targets)
    if count > 2:
        parser.error("give at most two targets: BASELINE CANDIDATE")
    if args.against is not None and count != 1:
        parser.error("--against FILE takes one target: the candidate to compare with it")
    if count == 1 and args.against is None and args.record is None:
        parser.error("one target needs --record FILE (record it) or --against FILE (compare it)")
    if args.max_examples < 0:
        parser.error("--max-examples must be 0 or more")
    if args.allow_field and not args.values:
        parser.error("--allow-field only makes sense with --values")
    if args.no_reports and args.reports_dir is not None:
        parser.error("--no-reports and --reports-dir exclude each other")


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None) -> int:
    """Run the command; the exit status (see ``--help``)."""
    parser = _parser()
    args = parser.parse_args(argv)
    _usage_check(args, parser)
    say = _Printer(stdout or sys.stdout, args.quiet)
    try:
        return _run(args, say)
    except DiffProblem as problem:
        say(f"mmconform diff: {problem.message}", always=True)
        return problem.returncode
    except ContractError as exc:
        say(f"mmconform diff: the contract cannot be loaded: {exc}", always=True)
        return EXIT_USAGE


def _run(args: argparse.Namespace, say: _Printer) -> int:
    contract = load_contract()
    options = _options(args)
    started_at = datetime.now(UTC)
    reports: Path | None = None
    if not args.no_reports:
        reports = fresh_reports_dir(args.reports_dir, Path("reports"), started_at)
    candidate = live_target(args.targets[-1], CANDIDATE)
    say.add(candidate)
    result: DiffResult
    if args.against is not None:
        recording = read_recording(args.against, contract)
        result = compare_recording(
            contract, recording, candidate, options, record=args.record, progress=say
        )
    elif len(args.targets) == 2:
        baseline = live_target(args.targets[0], BASELINE)
        say.add(baseline)
        result = compare_targets(
            contract, baseline, candidate, options, record=args.record, progress=say
        )
    else:
        result = record_target(contract, candidate, options, record=args.record, progress=say)
        say(
            f"recorded {result.exchanges} answers ({result.requests} requests x "
            f"{len(result.callers)} callers) and {result.sequence_steps} sequence steps "
            f"({len(result.sequences)} sequences) to {args.record} in {result.seconds:.1f} s",
            always=True,
        )
        if reports is not None:
            reports.rmdir()
        return EXIT_OK
    report = build_diff_report(result, contract, started_at=started_at)
    problems = schema_problems(report)
    if problems:  # pragma: no cover - the schema and the builder are tested together
        raise AssertionError(f"diff.json does not fit its schema: {problems[:5]}")
    _print_groups(result.groups, say)
    status, code = verdict_of(result)
    totals = report["totals"]
    written = write_diff_reports(report, reports, say.secrets) if reports is not None else []
    if written:
        say(f"reports: {', '.join(str(path) for path in written[:3])}")
    if result.recorded is not None:
        say(f"recording: {result.recorded}")
    for note in result.notes:
        say(f"note: {note}")
    for name, why in sorted(result.sequences_skipped.items()):
        if not why.endswith(NOT_SELECTED):  # a narrowed run: the report lists them
            say(f"sequence {name} not played: {why}")
    say(
        f"mmconform diff: {status}: {totals['differences']} differences in {totals['groups']} "
        f"groups, {totals['unexplained']} unexplained; {result.exchanges} answers compared "
        f"({result.requests} requests x {len(result.callers)} callers) and "
        f"{result.sequence_steps} sequence steps ({len(result.sequences)} sequences) in "
        f"{result.seconds:.1f} s",
        always=True,
    )
    return code


def _print_groups(groups: Sequence[Group], say: Callable[..., None]) -> None:
    for group in groups:
        mark = "explained  " if group.explained else "UNEXPLAINED"
        callers = ", ".join(group.sorted_callers())
        say(f"{mark} {group.operation} {group.kind} {group.signature} [{callers}] x{group.count}")
        for explanation in group.explanations.values():
            say(f"    by {explanation.source}: {explanation.text}")
        if not group.explained and group.reproduction is not None:
            reproduction = group.reproduction
            say(f"    as {reproduction.caller} ({reproduction.origin})")
            say(f"    baseline:  {reproduction.baseline_answer[:160]}")
            say(f"    candidate: {reproduction.candidate_answer[:160]}")
            say(f"    reproduce: {reproduction.baseline}")
            say(f"               {reproduction.candidate}")
