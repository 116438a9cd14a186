"""A stub fault switched on one side gives at least one unexplained group that names the faulted
operation: a representative set, one fault of each kind of difference (status, content type,
body kind, AppError relation, header, keys, types, and values only with --values), compared on
the operations the fault changes and those linked to them. ``benchmarks/diff_faults.py`` runs
every fault against every operation and prints the table."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmconform.diff._compare import ComparisonRules
from mmconform.stub import Fault
from tests.diff._helpers import (
    caught,
    compare,
    describe,
    fault_operations,
    fault_stubs,
    options,
    stubs,
)

#: fault -> the kind of difference that shows it at the default (shape) level
SHAPE = {
    Fault.TIMEZONES_IGNORE_AUTH: "status",
    Fault.JSON_CONTENT_TYPE_WITH_CHARSET: "content-type",
    Fault.SUPPORT_PACKET_NOT_A_ZIP: "body-kind",
    Fault.APP_ERROR_STATUS_CODE_MISMATCH: "type",
    Fault.MISSING_REQUEST_ID_HEADER: "header",
    Fault.PING_ROOT_STATUS_LEAKED: "keys",
    Fault.BUSY_EXPIRES_AS_STRING: "type",
    Fault.CLIENT_LICENSE_UNTRIMMED: "keys",
    Fault.RESTART_ALLOWED_FOR_READ_ONLY_ADMIN: "status",
}
#: faults that only a comparison of values shows
VALUES = (
    Fault.TIMEZONES_INVALID_ZONE,
    Fault.AUDITS_OLDEST_FIRST,
    Fault.VERSION_ID_LICENSE_FLAG_WRONG,
)


@pytest.mark.parametrize("fault", list(SHAPE), ids=lambda fault: fault.name)
def test_a_fault_shows_as_an_unexplained_group_naming_its_operation(
    tmp_path: Path, fault: Fault
) -> None:
    with stubs(tmp_path, *fault_stubs(fault)):
        result = compare(
            tmp_path, options(operations=fault_operations(fault), allow_destructive=True)
        )
    found = caught(result, fault)
    assert found, f"{fault.name} did not show:\n{describe(result.groups)}"
    assert SHAPE[fault] in {group.kind for group in found}, describe(found)
    assert result.exchanges > 0


@pytest.mark.parametrize("fault", VALUES, ids=lambda fault: fault.name)
def test_a_fault_of_values_shows_only_when_values_are_compared(
    tmp_path: Path, fault: Fault
) -> None:
    with stubs(tmp_path, *fault_stubs(fault)):
        shapes = compare(tmp_path, options(operations=fault_operations(fault)))
        values = compare(
            tmp_path,
            options(operations=fault_operations(fault), rules=ComparisonRules(values=True)),
        )
    assert not caught(shapes, fault), describe(shapes.groups)
    found = caught(values, fault)
    assert found, f"{fault.name} did not show with --values:\n{describe(values.groups)}"
    assert {group.kind for group in found} == {"value"}


def test_a_faulty_group_names_every_caller_it_was_seen_for_and_how_to_reproduce_it(
    tmp_path: Path,
) -> None:
    fault = Fault.PERMISSIONS_IGNORED_FOR_LOGS
    with stubs(tmp_path, *fault_stubs(fault)):
        result = compare(tmp_path, options(operations=("GetLogs",)))
    (group,) = [g for g in result.unexplained if g.signature == "403 → 200"]
    assert group.sorted_callers() == ["system_user_manager", "system_user"]
    assert group.count > 2
    assert not group.explanations
    reproduction = group.reproduction
    assert reproduction is not None
    assert reproduction.caller in group.callers
    assert reproduction.baseline.startswith("curl ")
    assert f"Authorization: Bearer <redacted:{reproduction.caller}>" in reproduction.candidate
    assert reproduction.baseline_answer.startswith("403")
    assert reproduction.candidate_answer.startswith("200")
