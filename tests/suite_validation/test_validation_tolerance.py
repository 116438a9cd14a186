"""The tolerance policy holds in practice: a correct server stricter than upstream passes.

spec/README.md ("Tolerance policy") says a server that rejects, with a 400 AppError, input the
seed's schema calls invalid is conformant even where upstream accepts it. Each case starts the
stub as such a server (every named variant, ``--variant``, at once: each changes its own
operations), runs every suite over the operations they change in a separate pytest process (as a
user would: ``pytest --target-file``), and checks that they pass while the stub really refused
some of the suite's requests for each variant.
"""

from __future__ import annotations

from pathlib import Path

from mmconform.contract import load_contract
from mmconform.stub import StubOptions, Variant, start_stub
from tests._pytest_run import run_pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = "suites/contract/test_contract.py"


def test_every_suite_passes_a_server_stricter_in_every_way_it_may_be(tmp_path: Path) -> None:
    """The contract suite passes it while the stub really refused some of its requests for
    each variant; the scenarios, the permission matrix and the official clients pass it as
    well (a client method that must send input the seed calls invalid may meet the stricter
    refusal too). One stub with every variant (they change different operations, so none
    hides another's refusals) and one run of every suite, narrowed to those operations."""
    variants = frozenset(Variant)
    operations = [op for variant in Variant for op in variant.operations]
    assert len(operations) == len(set(operations)), "two variants change one operation"
    with start_stub(StubOptions(variants=variants)) as stub:
        target = tmp_path / "target.toml"
        stub.write_target(target)
        result = run_pytest(
            ROOT,
            "-rA",
            "--no-header",
            f"--target-file={target}",
            "--allow-destructive",
            *[f"--operation={op}" for op in operations],
            "suites",
            timeout=600,
        )
        refusals = dict(stub.state.variant_refusals)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    contract = load_contract()
    for op_id in operations:
        op = contract.operation(op_id)
        generated = f"PASSED {CONTRACT}::test_operation[{op.method} {op.path}]"
        assert generated in output, output[-4000:]
        if op.auth == "session":
            assert f"PASSED {CONTRACT}::test_session_required[{op_id}]" in output, output[-4000:]
    # the suite did send input each variant refuses, and accepted the 400s it got
    refused_none = [variant.value for variant in Variant if refusals.get(variant, 0) == 0]
    assert not refused_none, f"{refused_none} refused no request\n{output[-3000:]}"


def test_the_variants_cover_at_least_three_operations() -> None:
    covered = {op for variant in Variant for op in variant.operations}
    assert len(covered) >= 3
