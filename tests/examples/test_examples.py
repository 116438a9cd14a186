"""The recipe as files: examples/docker-compose.yml and examples/github-actions.yml parse, every
mmconform command and option they use exists, every variable they set is one mmconform or
Mattermost reads, and the README's real-server section runs the same commands."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from mmconform.cli import main as mmconform_main
from mmconform.provision import ENV_ADMIN_PASSWORD, ENV_ADMIN_TOKEN, build_parser
from mmconform.stub._config_defaults import default_config

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "examples" / "docker-compose.yml"
WORKFLOW = ROOT / "examples" / "github-actions.yml"
README = ROOT / "README.md"
#: Variables mmconform itself reads (provisioning, and the run's target resolution).
MMCONFORM_VARIABLES = {
    ENV_ADMIN_PASSWORD,
    ENV_ADMIN_TOKEN,
    "MMCONFORM_TARGET_URL",
    "MMCONFORM_LOCAL_SOCKET",
    "MMCONFORM_SERVER_VERSION",
    "MMCONFORM_EDITION",
    "MMCONFORM_FEATURES",
}
PINNED = re.compile(r"^mattermost/mattermost-enterprise-edition:\d+\.\d+\.\d+$")


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(document, dict), path
    return document


def readme_commands() -> list[str]:
    """The commands of the README's real-server section (its first shell block)."""
    section = README.read_text(encoding="utf-8").split("## Running against a real server", 1)[1]
    block = section.split("```bash\n", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.splitlines() if line.strip()]


def compose_commands() -> list[str]:
    """The commands the compose file's header says to run."""
    return [
        line.removeprefix("#").strip()
        for line in COMPOSE.read_text(encoding="utf-8").splitlines()
        if re.match(r"#   (docker|MMCONFORM|mmconform|pytest)", line)
    ]


def workflow_commands() -> list[str]:
    steps = load(WORKFLOW)["jobs"]["conformance"]["steps"]
    return [" ".join(str(step["run"]).split()) for step in steps if "run" in step]


def mmconform_and_pytest(commands: list[str]) -> list[list[str]]:
    """The mmconform and pytest commands, as argument lists, variable assignments dropped."""
    found = []
    for command in commands:
        words = [w for w in shlex.split(command) if not re.match(r"^[A-Z_]+=", w)]
        if words and words[0] in ("mmconform", "pytest"):
            found.append(words)
    return found


def set_variables(node: Any) -> set[str]:
    """The environment variables a compose file or workflow sets: the keys of its `env` and
    `environment` mappings, and what its commands pass with `--env`."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key in ("env", "environment") and isinstance(value, dict):
                found |= set(value)
            found |= set_variables(value)
    elif isinstance(node, list):
        for value in node:
            found |= set_variables(value)
    elif isinstance(node, str):
        found |= set(re.findall(r"--env\s+\"?([A-Z][A-Z0-9_]*)", node))
    return found


def test_both_files_parse_and_run_a_pinned_enterprise_server_without_a_health_command() -> None:
    compose = load(COMPOSE)
    mattermost = compose["services"]["mattermost"]
    assert PINNED.match(mattermost["image"]), mattermost["image"]
    assert "healthcheck" not in mattermost, "the image has no shell to run one"
    assert compose["services"]["postgres"]["image"].startswith("postgres:")
    assert mattermost["depends_on"]["postgres"]["condition"] == "service_healthy"
    workflow = load(WORKFLOW)
    job = workflow["jobs"]["conformance"]
    assert "mattermost" not in job["services"], "started in a step, once PostgreSQL is healthy"
    text = WORKFLOW.read_text(encoding="utf-8")
    images = re.findall(r"mattermost/mattermost-enterprise-edition:\S+", text)
    assert images
    assert all(PINNED.match(image) for image in images), images
    assert images[0] in mattermost["image"]
    assert "--health-cmd" not in text.split("Start Mattermost", 1)[1]
    assert "secrets.MM_LICENSE" in text
    assert '"$GITHUB_STEP_SUMMARY"' in text
    uploads = [
        s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact")
    ]
    assert uploads
    assert uploads[0]["with"]["path"] == "reports/latest/"


def test_the_readme_and_the_examples_run_the_same_commands() -> None:
    readme = readme_commands()
    assert len(readme) == 3, "start, provision, pytest --target-file"
    assert readme[0] == "docker compose -f examples/docker-compose.yml up -d"
    assert compose_commands() == readme
    assert mmconform_and_pytest(workflow_commands()) == mmconform_and_pytest(readme)
    provision, run = mmconform_and_pytest(readme)
    assert provision[:2] == ["mmconform", "provision"]
    assert run[:2] == ["pytest", "--target-file"]
    target = provision[provision.index("--target-file") + 1]
    assert run[2] == target


@pytest.mark.parametrize("source", ["README", "compose", "workflow"])
def test_every_mmconform_option_they_use_exists(
    source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    commands = {
        "README": readme_commands,
        "compose": compose_commands,
        "workflow": workflow_commands,
    }[source]()
    used = mmconform_and_pytest(commands)
    assert used
    for words in used:
        if words[0] == "mmconform":
            with pytest.raises(SystemExit) as info:
                mmconform_main([words[1], "--help"])
            assert info.value.code == 0
            shown = capsys.readouterr().out
            build_parser().parse_args(words[2:])  # every option known, every value well-formed
        else:
            assert pytest.main(["--help", "-p", "no:cacheprovider"]) == 0
            shown = capsys.readouterr().out
        for word in words[1:]:
            if word.startswith("--"):
                assert re.search(rf"(?<![\w-]){re.escape(word.split('=')[0])}\b", shown), word


def test_every_variable_they_set_is_read_by_mmconform_or_mattermost() -> None:
    readme = {
        name
        for command in readme_commands()
        for name in re.findall(r"^([A-Z][A-Z0-9_]*)=", command)
    }
    documents = {
        "README": readme,
        "compose": set_variables(load(COMPOSE)["services"]["mattermost"]),
        # the job's and its steps' (the PostgreSQL service's are PostgreSQL's business)
        "workflow": set_variables(
            {k: v for k, v in load(WORKFLOW)["jobs"]["conformance"].items() if k != "services"}
        ),
    }
    for source, names in documents.items():
        assert names, source
        for name in sorted(names):
            if name.startswith("MMCONFORM_"):
                assert name in MMCONFORM_VARIABLES, (source, name)
            elif name != "MM_LICENSE":
                # MM_<SECTION>_<SETTING> for a setting of Mattermost's config
                config = default_config()
                section, _, setting = name.removeprefix("MM_").partition("_")
                sections = {key.upper(): key for key in config}
                assert section in sections, (source, name)
                settings = {key.upper() for key in config[sections[section]]}
                assert setting in settings, (source, name)


def test_the_readme_documents_every_exit_code_of_provisioning() -> None:
    from mmconform.provision import EXIT_CODES

    text = README.read_text(encoding="utf-8")
    table = text.split("| exit | `mmconform provision` |", 1)[1].split("\n\n", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", table, re.MULTILINE)}
    assert documented == set(EXIT_CODES)
