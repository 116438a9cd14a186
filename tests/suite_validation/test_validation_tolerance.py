"""The tolerance policy holds in practice: a correct server stricter than upstream passes.

spec/README.md ("Tolerance policy") says a server that rejects, with a 400 AppError, input the
seed's schema calls invalid is conformant even where upstream accepts it. Each case starts the
stub as such a server (a named variant, ``--variant``), runs every suite over the operations the
variant changes in a separate pytest process (as a user would: ``pytest --target-file``), and
checks that they pass while the stub really refused some of the suite's requests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mmconform.contract import load_contract
from mmconform.stub import StubOptions, Variant, start_stub
from tests._pytest_run import run_pytest

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = "suites/contract/test_contract.py"


@pytest.mark.parametrize("variant", list(Variant), ids=lambda v: v.value)
def test_every_suite_passes_a_stricter_server_on_the_operations_it_changes(
    tmp_path: Path, variant: Variant
) -> None:
    """The contract suite passes it while the stub really refused some of its requests; the
    scenarios, the permission matrix and the official clients pass it as well (a client method
    that must send input the seed calls invalid may meet the stricter refusal too). One run of
    every suite, narrowed to the operations the variant changes."""
    with start_stub(StubOptions(variants=frozenset({variant}))) as stub:
        target = tmp_path / "target.toml"
        stub.write_target(target)
        result = run_pytest(
            ROOT,
            "-rA",
            "--no-header",
            f"--target-file={target}",
            "--allow-destructive",
            *[f"--operation={op}" for op in variant.operations],
            "suites",
            timeout=300,
        )
        refusals = stub.state.variant_refusals[variant]
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-8000:]
    contract = load_contract()
    for op_id in variant.operations:
        op = contract.operation(op_id)
        generated = f"PASSED {CONTRACT}::test_operation[{op.method} {op.path}]"
        assert generated in output, output[-4000:]
        if op.auth == "session":
            assert f"PASSED {CONTRACT}::test_session_required[{op_id}]" in output, output[-4000:]
    # the suite did send input the variant refuses, and accepted the 400s it got
    assert refusals > 0, f"{variant.value} refused no request\n{output[-3000:]}"


def test_the_variants_cover_at_least_three_operations() -> None:
    covered = {op for variant in Variant for op in variant.operations}
    assert len(covered) >= 3
