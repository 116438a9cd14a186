"""Reproduction lines never carry a token."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from mmconform.harness import curl_command, failure_header, redact

TOKENS = {"system_admin": "adm1ntok3n", "system_user": "us3rtok3n"}


def test_known_tokens_are_named_by_role() -> None:
    line = "curl -H 'Authorization: Bearer adm1ntok3n' http://h/api/v4/config"
    assert redact(line, TOKENS) == (
        "curl -H 'Authorization: Bearer <redacted:system_admin>' http://h/api/v4/config"
    )


def test_unknown_credentials_are_redacted_too() -> None:
    text = (
        "-H 'Authorization: BEARER zzzz' -H 'Cookie: MMAUTHTOKEN=cookietok; x=1' "
        "http://h/api/v4/x?access_token=qtok&y=1"
    )
    out = redact(text, TOKENS)
    for secret in ("zzzz", "cookietok", "qtok"):
        assert secret not in out
    assert "Authorization: BEARER <redacted>" in out
    assert "MMAUTHTOKEN=<redacted>" in out
    assert "access_token=<redacted>&y=1" in out


def test_tokens_in_bodies_are_redacted() -> None:
    assert "us3rtok3n" not in redact('{"token": "us3rtok3n"}', TOKENS)


def test_curl_command_from_a_sent_request_is_redactable() -> None:
    request = SimpleNamespace(
        method="PUT",
        url="http://h/api/v4/config/patch",
        headers={"Authorization": "Bearer adm1ntok3n", "Content-Type": "application/json"},
        body=b'{"ServiceSettings": {}}',
    )
    line = redact(curl_command(SimpleNamespace(request=request)), TOKENS)
    assert line.startswith("curl -X PUT")
    assert "'Authorization: Bearer <redacted:system_admin>'" in line
    assert "adm1ntok3n" not in line
    assert line.endswith("http://h/api/v4/config/patch")


def test_failure_header_names_everything_needed_to_replay() -> None:
    header = failure_header(
        operation="GetPing", role="system_admin", seed=123, profile="gate", server_version="11.1.0"
    )
    assert "GetPing" in header
    assert "system_admin" in header
    assert "--mm-profile gate --mm-seed 123" in header
    assert "11.1.0" in header


def test_targets_and_their_tokens_print_redacted() -> None:
    from mmconform.harness import Secret, Target

    target = Target(url="http://h", tokens={"system_admin": Secret("adm1ntok3n", "system_admin")})
    for text in (repr(target), str(target), f"{target}", repr(dict(target.tokens))):
        assert "adm1ntok3n" not in text
        assert "<redacted:system_admin>" in text
    assert target.token("system_admin") == "adm1ntok3n"


def test_header_dictionaries_are_redacted_too() -> None:
    text = "{'Authorization': 'Bearer zzzz', 'Accept': 'application/json'}"
    assert "zzzz" not in redact(text, {})


def test_secret_settings_and_the_license_are_redacted() -> None:
    text = '{"SMTPPassword": "hunter2", "AtRestEncryptKey": "' + "*" * 32 + '", "SiteURL": "x"}'
    out = redact(text, {})
    assert "hunter2" not in out
    assert '"SiteURL": "x"' in out
    assert "*" * 32 in out  # the server's own mask stays as it is


def test_a_targets_secrets_include_its_license(tmp_path: Path) -> None:
    from mmconform.harness import Secret, Target

    license_text = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\nMDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3A=\n"
    path = tmp_path / "l.mattermost-license"
    path.write_text(license_text, encoding="utf-8")
    target = Target(
        url="http://h", tokens={"system_admin": Secret("t0k3n", "system_admin")}, license_file=path
    )
    truncated = "body: " + license_text[:50]
    out = redact(truncated, target.secrets)
    assert "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=" not in out


def test_secret_settings_written_as_assignments_are_redacted() -> None:
    text = "SqlSettings.DataSource = 'postgres://u:hunter2@db' ; SiteURL = 'http://x'"
    out = redact(text, {})
    assert "hunter2" not in out
    assert "SiteURL = 'http://x'" in out
