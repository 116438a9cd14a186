"""``python -m mmconform.diff``: targets, recordings, reports, exit codes, bad input, and no token
in anything it prints or writes."""

from __future__ import annotations

import contextlib
import gzip
import http.server
import io
import json
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from mmconform.diff import (
    EXIT_OK,
    EXIT_RECORDING_REFUSED,
    EXIT_SIDE_MISCONFIGURED,
    EXIT_SIDE_UNREACHABLE,
    EXIT_UNEXPLAINED,
    EXIT_USAGE,
    main,
    schema_problems,
)
from mmconform.stub import Fault, RunningStub, StubOptions, start_stub
from tests.diff._helpers import ROOT

QUICK = ["--max-examples", "2", "--operation", "GetServerBusyExpires", "--operation", "GetPing"]


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(argv), stdout=out)
    return code, out.getvalue()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, Path]]:
    """A correct stub, the same stub with a fault, and a folder with both target files."""
    folder = tmp_path_factory.mktemp("pair")
    faulty = StubOptions(faults=frozenset({Fault.BUSY_EXPIRES_AS_STRING}))
    with start_stub(StubOptions()) as good, start_stub(faulty) as bad:
        good.write_target(folder / "good.toml")
        bad.write_target(folder / "bad.toml")
        yield folder / "good.toml", folder / "bad.toml", folder


def test_two_alike_servers_exit_0_and_the_reports_are_written(
    pair: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    good, _, _ = pair
    code, printed = run(str(good), str(good), *QUICK, "--reports-dir", str(tmp_path / "r"))
    assert code == EXIT_OK, printed
    assert "NO DIFFERENCES" in printed
    names = sorted(path.name for path in (tmp_path / "r").iterdir())
    assert names == ["diff.html", "diff.json", "diff.md", "diff.schema.json"]
    report = json.loads((tmp_path / "r" / "diff.json").read_text(encoding="utf-8"))
    assert schema_problems(report) == []
    assert report["verdict"] == {
        "status": "NO DIFFERENCES",
        "exit_code": 0,
        "reasons": report["verdict"]["reasons"],
    }
    assert report["run"]["callers"] == [
        "system_admin",
        "system_manager",
        "system_user_manager",
        "system_read_only_admin",
        "system_user",
        "anonymous",
        "local",
    ]
    assert "NO DIFFERENCES" in (tmp_path / "r" / "diff.md").read_text(encoding="utf-8")


def test_an_unexplained_difference_exits_20_with_its_group_and_reproduction(
    pair: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    good, bad, _ = pair
    code, printed = run(str(good), str(bad), *QUICK, "--reports-dir", str(tmp_path / "r"))
    assert code == EXIT_UNEXPLAINED, printed
    assert "UNEXPLAINED GetServerBusyExpires type /expires: number → string" in printed
    assert "reproduce: curl" in printed
    report = json.loads((tmp_path / "r" / "diff.json").read_text(encoding="utf-8"))
    assert schema_problems(report) == []
    assert report["verdict"]["exit_code"] == EXIT_UNEXPLAINED
    (group,) = [g for g in report["groups"] if not g["explained"] and g["kind"] == "type"]
    assert group["operation"] == "GetServerBusyExpires"
    assert group["kind"] == "type"
    assert set(group["callers"]) == {"system_admin", "local"}  # who may read server busy
    assert group["reproduction"]["baseline"].startswith("curl ")
    markdown = (tmp_path / "r" / "diff.md").read_text(encoding="utf-8")
    assert "| ❌ | GetServerBusyExpires | type |" in markdown
    page = (tmp_path / "r" / "diff.html").read_text(encoding="utf-8")
    assert 'id="diff-groups"' in page
    assert 'data-explained="false"' in page
    assert "http://" not in page.split("<main>", 1)[0]  # self-contained: no outside assets


def test_a_default_reports_folder_is_new_for_every_run(
    pair: tuple[Path, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    good, _, _ = pair
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert run(str(good), str(good), *QUICK, "-q")[0] == EXIT_OK
    folders = sorted(path.name for path in (tmp_path / "reports").iterdir())
    assert len(folders) == 2
    assert all(re.fullmatch(r"diff-\d{8}-\d{6}(-\d+)?", name) for name in folders)


def test_a_reports_folder_holding_another_runs_files_is_refused(
    pair: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    good, _, _ = pair
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "diff.json").write_text("earlier run", encoding="utf-8")
    code, printed = run(str(good), str(good), *QUICK, "--reports-dir", str(tmp_path / "r"))
    assert code == EXIT_USAGE
    assert "never writes over another run's files" in printed
    assert (tmp_path / "r" / "diff.json").read_text(encoding="utf-8") == "earlier run"


def test_record_then_compare_with_the_recording(
    pair: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    good, bad, _ = pair
    recording = tmp_path / "good.jsonl"
    code, printed = run("--record", str(recording), str(good), *QUICK, "--no-reports")
    assert code == EXIT_OK, printed
    assert f"to {recording}" in printed
    assert run("--against", str(recording), str(good), *QUICK, "--no-reports")[0] == EXIT_OK
    code, printed = run("--against", str(recording), str(bad), *QUICK, "--no-reports")
    assert code == EXIT_UNEXPLAINED, printed
    assert "(recorded answer:" in printed
    header, *rest = recording.read_text(encoding="utf-8").splitlines()
    other = json.loads(header)
    other["contract"]["errata.yaml"] = "f" * 64
    changed = tmp_path / "other-contract.jsonl"
    changed.write_text("\n".join([json.dumps(other), *rest]) + "\n", encoding="utf-8")
    code, printed = run("--against", str(changed), str(good), *QUICK, "--no-reports")
    assert code == EXIT_RECORDING_REFUSED
    assert "recorded with another contract (errata.yaml" in printed


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_an_unreachable_side_exits_10(pair: tuple[Path, Path, Path]) -> None:
    good, _, _ = pair
    code, printed = run(str(good), f"http://127.0.0.1:{_closed_port()}", *QUICK, "--no-reports")
    assert code == EXIT_SIDE_UNREACHABLE
    assert "the candidate (http://127.0.0.1:" in printed
    assert "is unreachable: no connection (refused)" in printed


def test_a_refused_token_exits_11(pair: tuple[Path, Path, Path], tmp_path: Path) -> None:
    good, _, _ = pair
    text = good.read_text(encoding="utf-8")
    wrong = re.sub(r'(system_user = ")[^"]+"', r"\1" + "n" * 26 + '"', text)
    (tmp_path / "wrong.toml").write_text(wrong, encoding="utf-8")
    code, printed = run(str(good), str(tmp_path / "wrong.toml"), *QUICK, "--no-reports")
    assert code == EXIT_SIDE_MISCONFIGURED
    assert "the token for system_user" in printed
    assert "is not accepted" in printed


class _NotMattermost(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"<html>a web site</html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        """Quiet."""


def test_a_server_that_is_no_mattermost_api_exits_11(pair: tuple[Path, Path, Path]) -> None:
    good, _, _ = pair
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _NotMattermost)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        code, printed = run(str(good), url, *QUICK, "--no-reports")
    finally:
        server.shutdown()
        server.server_close()
    assert code == EXIT_SIDE_MISCONFIGURED
    assert "does not look like a Mattermost server" in printed


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["one.toml"], "one target needs --record FILE"),
        (["a.toml", "b.toml", "c.toml"], "at most two targets"),
        (["--against", "r.jsonl", "a.toml", "b.toml"], "--against FILE takes one target"),
        (["a.toml", "b.toml", "--allow-field", "/x"], "--allow-field only makes sense"),
    ],
)
def test_bad_arguments_exit_2(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == EXIT_USAGE
    assert says in capsys.readouterr().err


def test_a_bad_target_file_exits_11(tmp_path: Path) -> None:
    (tmp_path / "bad.toml").write_text("[target]\nurl = 'ftp://x'\n", encoding="utf-8")
    code, printed = run(str(tmp_path / "bad.toml"), str(tmp_path / "bad.toml"), "--no-reports")
    assert code == EXIT_SIDE_MISCONFIGURED
    assert "is not an http(s) base URL" in printed


def test_a_url_target_takes_its_tokens_from_the_environment(
    pair: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    good, _, _ = pair
    text = good.read_text(encoding="utf-8")
    url = re.search(r'url = "([^"]+)"', text)
    admin = re.search(r'system_admin = "([^"]+)"', text)
    assert url is not None
    assert admin is not None
    monkeypatch.setenv("MMCONFORM_CANDIDATE_TOKEN_SYSTEM_ADMIN", admin.group(1))
    code, printed = run(str(good), url.group(1), *QUICK, "--no-reports")
    assert code == EXIT_OK, printed
    assert "as 2 callers" in printed  # system_admin and anonymous: what both sides have


def test_the_exit_codes_are_documented_where_users_look() -> None:
    help_text = io.StringIO()
    with pytest.raises(SystemExit), contextlib.redirect_stdout(help_text):
        main(["--help"])
    text = help_text.getvalue()
    docs = (ROOT / "docs" / "diff.md").read_text(encoding="utf-8")
    for code in (EXIT_OK, EXIT_USAGE, EXIT_SIDE_UNREACHABLE, EXIT_SIDE_MISCONFIGURED):
        assert f"\n  {code} " in text
        assert f"| {code} |" in docs
    for code in (EXIT_UNEXPLAINED, EXIT_RECORDING_REFUSED):
        assert f"\n  {code}  " in text
        assert f"| {code} |" in docs


def _tokens(*stubs: RunningStub) -> list[str]:
    return [token for stub in stubs for token in stub.tokens.values() if token]


def test_no_token_appears_in_anything_printed_or_written(tmp_path: Path) -> None:
    """Both sides' tokens, searched for in the terminal output, the reports, the recordings
    and every other file a comparison writes, over runs that find differences (curl lines,
    answers quoted) and runs that record and replay."""
    faulty = StubOptions(
        faults=frozenset({Fault.BUSY_EXPIRES_AS_STRING, Fault.CONFIG_LEAKS_SECRETS})
    )
    operations = [
        "--operation",
        "GetServerBusyExpires",
        "--operation",
        "GetConfig",
        "--operation",
        "SetServerBusy",
        "--max-examples",
        "2",
    ]
    printed = []
    with start_stub(StubOptions()) as good, start_stub(faulty) as bad:
        good.write_target(tmp_path / "good.toml")
        bad.write_target(tmp_path / "bad.toml")
        tokens = _tokens(good, bad)
        runs = [
            [str(tmp_path / "good.toml"), str(tmp_path / "bad.toml"), "--values"],
            ["--record", str(tmp_path / "rec.jsonl"), str(tmp_path / "good.toml")],
            [
                "--against",
                str(tmp_path / "rec.jsonl"),
                str(tmp_path / "bad.toml"),
                "--record",
                str(tmp_path / "rec2.jsonl.gz"),
            ],
        ]
        for number, argv in enumerate(runs):
            code, text = run(*argv, *operations, "--reports-dir", str(tmp_path / f"r{number}"))
            assert code in (EXIT_OK, EXIT_UNEXPLAINED), text
            printed.append(text)
    assert len(tokens) == 10
    assert "curl" in printed[0]
    assert "<redacted:system_admin>" in printed[0]
    written = {
        path: gzip.decompress(path.read_bytes()).decode()
        if path.suffix == ".gz"
        else path.read_text(encoding="utf-8")
        for path in tmp_path.rglob("*")
        if path.is_file() and not path.name.endswith(".toml")
    }
    assert len(written) >= 10
    for token in tokens:
        for text in printed:
            assert token not in text
        for path, text in written.items():
            assert token not in text, path
