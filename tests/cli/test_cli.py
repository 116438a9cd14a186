"""The `mmconform` command: one table of subcommands, each handing its arguments to a
program's main(argv)."""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

import pytest

from mmconform.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[2]


def test_the_console_script_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["scripts"] == {"mmconform": "mmconform.cli:main"}


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for name, (_, about) in COMMANDS.items():
        assert f"  {name}" in out
        assert about in out


def test_the_programs_of_python_dash_m_are_all_commands() -> None:
    programs = sorted(path.parent.name for path in (ROOT / "mmconform").glob("*/__main__.py"))
    assert sorted(COMMANDS) == programs
    for module, _ in COMMANDS.values():
        assert callable(importlib.import_module(module).main), module


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_each_command_hands_its_arguments_to_its_program(
    name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main([name, "--help"])
    assert info.value.code == 0
    assert "usage:" in capsys.readouterr().out


def test_a_command_returns_its_programs_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["contract", "requirements"]) == 0
    assert capsys.readouterr().out.startswith("# Requirements")


@pytest.mark.parametrize("argv", [[], ["nope"]])
def test_no_command_or_an_unknown_one_is_a_usage_error(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert "usage: mmconform" in captured.out + captured.err


def test_provision_names_itself_as_the_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["provision", "--help"])
    assert capsys.readouterr().out.startswith("usage: mmconform provision")
