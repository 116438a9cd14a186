"""From provisioning to a verdict, as the README goes: a fresh, unlicensed server (no user
yet), `mmconform provision --first-admin`, then the suites with its target file (narrowed to the
permission suite and one operation, to stay fast). The three roles nobody can hold there are
unsupported, with the license rule, not missing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmconform.contract import load_contract
from mmconform.provision import ENV_ADMIN_PASSWORD, EXIT_OK, main
from mmconform.report import CONFORMANT_WITH_UNSUPPORTED, verdict_of
from mmconform.stub import StubOptions, start_stub
from tests._pytest_run import run_pytest

ROOT = Path(__file__).resolve().parents[2]
NEW_ROLES = ("system_manager", "system_user_manager", "system_read_only_admin")


def test_an_unlicensed_server_is_conformant_with_the_three_roles_unsupported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "target.toml"
    reports = tmp_path / "reports"
    with start_stub(StubOptions(built_in_users=False)) as stub:
        code = main(
            ["--target-url", stub.url, "--first-admin", "admin", "--target-file", str(target)],
            environ={ENV_ADMIN_PASSWORD: "First-admin-password-1"},
        )
        assert code == EXIT_OK, capsys.readouterr()
        result = run_pytest(
            ROOT,
            "-p",
            "no:randomly",
            "suites/permissions",
            f"--target-file={target}",
            "--allow-destructive",
            "--operation=GetLogs",
            f"--reports-dir={reports}",
            timeout=300,
        )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    report = json.loads((reports / "latest" / "conformance.json").read_text(encoding="utf-8"))
    assert report["target"]["missing_roles"] == []
    assert sorted(report["target"]["unavailable_roles"]) == sorted(NEW_ROLES)
    assert all(
        "CustomPermissionsSchemes" in why for why in report["target"]["unavailable_roles"].values()
    )
    tests = report["tests"]
    needing = [t for t in tests if set(t["roles"]) & set(NEW_ROLES)]
    assert needing, "the matrix has cells of those roles"
    assert {t["outcome"] for t in needing} == {"unsupported"}
    assert not [t for t in tests if t["outcome"] in ("skipped", "failed", "error")]
    # Held to the requirements its own tests prove (a narrowed run proves no others), the run
    # is conformant with the three roles unsupported, and the verdict says why.
    cited = {req for t in tests for req in t["requirements"]}
    contract = load_contract()
    requirements = {req: contract.requirement(req).features for req in cited}
    verdict = verdict_of(
        tests,
        requirements=requirements,
        claimed_features=report["target"]["features"],
        missing_roles=report["target"]["missing_roles"],
    )
    assert verdict.status == CONFORMANT_WITH_UNSUPPORTED, verdict.reasons
    reason = verdict.reasons[0]
    assert "need roles this target cannot hold (" + ", ".join(NEW_ROLES) + ")" in reason
    assert "CustomPermissionsSchemes" in reason
    assert "api.user.update_user_roles.license.app_error" in reason
    assert "this target holds no license" in reason
