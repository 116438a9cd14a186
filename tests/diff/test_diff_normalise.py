"""The normalisation rules of docs/diff.md, one test (or a few) per rule, on answers built by
hand: what is compared, what is ignored, and how a difference is worded."""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

import pytest

from mmconform._version import Version
from mmconform._wire import Secret
from mmconform.diff._compare import ComparisonRules, Difference, compare_views, pattern_of
from mmconform.diff._model import Answer, RequestSpec
from mmconform.diff._normalise import ECHOED, View, view_of, volatile_text
from mmconform.diff._pipeline import scrub

VERSION = Version(11, 1, 0)
REQUEST = RequestSpec("GetPing", "GET", "/api/v4/system/ping")
JSON = "application/json"


def answer(
    status: int = 200,
    body: Any = None,
    *,
    raw: bytes | None = None,
    content_type: str | None = JSON,
    headers: dict[str, str] | None = None,
    error: str | None = None,
) -> Answer:
    all_headers = {"x-request-id": "abcdefghijklmnopqrstuvwxyz", **(headers or {})}
    if content_type is not None:
        all_headers["content-type"] = content_type
    data = raw if raw is not None else (b"" if body is None else json.dumps(body).encode())
    return Answer(status, MappingProxyType(all_headers), data, error=error)


def view(item: Answer, request: RequestSpec = REQUEST, *, free_map: bool = False) -> View:
    return view_of(item, request, version=VERSION, free_map=free_map)


def diff(
    before: Answer,
    after: Answer,
    rules: ComparisonRules | None = None,
    *,
    request: RequestSpec = REQUEST,
    free_map: bool = False,
) -> list[Difference]:
    return compare_views(
        view(before, request, free_map=free_map),
        view(after, request, free_map=free_map),
        rules or ComparisonRules(),
        request.operation,
    )


def kinds(differences: list[Difference]) -> list[str]:
    return [d.kind for d in differences]


def app_error(error_id: str, status: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": error_id,
        "message": "text",
        "detailed_error": "",
        "request_id": "abcdefghijklmnopqrstuvwxyz",
        "status_code": status,
        **extra,
    }


# -- status, and the cascade ----------------------------------------------------------------------


def test_a_status_difference_is_reported_once_and_bodies_are_not_compared_again() -> None:
    found = diff(
        answer(400, app_error("api.context.invalid_param.app_error", 400)),
        answer(403, {"completely": ["other", "body"]}, content_type="text/plain"),
    )
    assert kinds(found) == ["status"]
    assert found[0].signature == "400 → 403"
    assert found[0].baseline == "400 api.context.invalid_param.app_error"


def test_a_side_that_gave_no_answer_differs_from_one_that_answered() -> None:
    found = diff(answer(200, {"a": 1}), answer(0, error="no answer in time (ReadTimeout)"))
    assert kinds(found) == ["no-answer"]
    assert "no answer in time" in found[0].candidate


def test_equal_answers_do_not_differ() -> None:
    body = {"status": "OK", "list": [1, 2], "nested": {"a": None}}
    assert diff(answer(200, body), answer(200, body)) == []


# -- content type and body kind -------------------------------------------------------------------


def test_content_type_is_compared_with_its_parameters_but_not_its_spacing_or_case() -> None:
    assert (
        diff(
            answer(200, {"a": 1}, content_type="Application/JSON"),
            answer(200, {"a": 1}, content_type="application/json"),
        )
        == []
    )
    found = diff(
        answer(200, {"a": 1}, content_type="application/json"),
        answer(200, {"a": 1}, content_type="application/json; charset=utf-8"),
    )
    assert kinds(found) == ["content-type"]
    assert found[0].candidate == "application/json;charset=utf-8"


def test_a_different_kind_of_body_stops_the_comparison_of_what_is_inside() -> None:
    found = diff(
        answer(500, app_error("app.x", 500)),
        answer(500, raw=b"Internal error", content_type="text/plain"),
    )
    assert kinds(found) == ["content-type", "body-kind", "header"] or kinds(found) == [
        "content-type",
        "body-kind",
    ]
    assert found[1].signature == "json-object → text"


def test_a_zip_that_is_not_a_zip_is_another_kind_of_body() -> None:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "x")
    whole = buffer.getvalue()
    found = diff(
        answer(200, raw=whole, content_type="application/zip"),
        answer(200, raw=whole[:-22], content_type="application/zip"),
    )
    assert [d.signature for d in found] == ["zip → not-zip"]


def test_a_json_content_type_with_a_body_that_is_not_json_is_its_own_kind() -> None:
    found = diff(answer(200, {"a": 1}), answer(200, raw=b"{broken", content_type=JSON))
    assert [d.signature for d in found] == ["json-object → not-json"]


# -- AppError id ----------------------------------------------------------------------------------


def test_the_app_error_id_is_compared() -> None:
    found = diff(
        answer(403, app_error("api.context.permissions.app_error", 403)),
        answer(403, app_error("api.restricted_system_admin", 403)),
    )
    assert kinds(found) == ["error-id"]
    assert found[0].signature == "api.context.permissions.app_error → api.restricted_system_admin"


def test_app_error_status_code_and_request_id_are_compared_by_their_relation_to_the_answer() -> (
    None
):
    same = diff(
        answer(400, app_error("a.b", 400)),
        answer(
            400,
            app_error("a.b", 400, request_id="zyxwvutsrqponmlkjihgfedcba"),
            headers={"x-request-id": "zyxwvutsrqponmlkjihgfedcba"},
        ),
    )
    assert same == []
    found = diff(answer(400, app_error("a.b", 400)), answer(400, app_error("a.b", 500)))
    assert [d.signature for d in found] == ["/status_code: equals the HTTP status → number"]
    found = diff(
        answer(400, app_error("a.b", 400)),
        answer(400, app_error("a.b", 400, request_id="another0request0id00000000")),
    )
    assert [d.signature for d in found] == ["/request_id: equals X-Request-Id → string"]


# -- headers --------------------------------------------------------------------------------------


def test_api_headers_are_compared_by_presence_not_by_their_volatile_value() -> None:
    assert (
        diff(
            answer(200, {"a": 1}, headers={"x-request-id": "a" * 26}),
            answer(200, {"a": 1}, headers={"x-request-id": "b" * 26}),
        )
        == []
    )
    missing = Answer(200, MappingProxyType({"content-type": JSON}), b'{"a": 1}')
    found = diff(answer(200, {"a": 1}), missing)
    assert [d.signature for d in found] == ["x-request-id: present → absent"]


def test_x_version_id_is_compared_by_its_form() -> None:
    good = {"x-version-id": "11.1.0.12345.abcdef0123.false"}
    other_build = {"x-version-id": "11.1.0.99999.fedcba9876.false"}
    assert diff(answer(200, {}, headers=good), answer(200, {}, headers=other_build)) == []
    found = diff(answer(200, {}, headers=good), answer(200, {}, headers={"x-version-id": "11.1"}))
    assert kinds(found) == ["header"]
    assert "malformed" in found[0].candidate


def test_x_version_id_licensed_flag_is_a_value() -> None:
    licensed = {"x-version-id": "11.1.0.1.abc.true"}
    unlicensed = {"x-version-id": "11.1.0.1.abc.false"}
    assert diff(answer(200, {}, headers=licensed), answer(200, {}, headers=unlicensed)) == []
    found = diff(
        answer(200, {}, headers=licensed),
        answer(200, {}, headers=unlicensed),
        ComparisonRules(values=True),
    )
    assert [d.location for d in found] == ["header:x-version-id#licensed"]


# -- shape: keys and types ------------------------------------------------------------------------


def test_key_sets_are_compared_at_every_depth() -> None:
    found = diff(
        answer(200, {"busy": True, "expires": 1, "inner": {"a": 1, "b": 2}}),
        answer(200, {"busy": True, "inner": {"a": 1, "c": 2}}),
    )
    assert [d.signature for d in found] == ["/: -expires", "/inner: -b +c"]


def test_json_value_types_are_compared_and_every_number_is_one_type() -> None:
    assert diff(answer(200, {"n": 1}), answer(200, {"n": 1.5})) == []
    found = diff(answer(200, {"n": 1}), answer(200, {"n": "1"}))
    assert [d.signature for d in found] == ["/n: number → string"]
    found = diff(answer(200, {"n": None}), answer(200, {"n": 0}))
    assert [d.signature for d in found] == ["/n: null → number"]


def test_an_empty_list_is_data_not_shape() -> None:
    assert diff(answer(200, {"rows": []}), answer(200, {"rows": [{"name": "x"}]})) == []
    assert diff(answer(200, []), answer(200, ["a", "b"])) == []
    found = diff(answer(200, {"rows": [{"name": "x"}]}), answer(200, {"rows": [{"name": 1}]}))
    assert [d.signature for d in found] == ["/rows/[]/name: string → number"]


def test_the_elements_of_a_list_are_compared_as_one_merged_shape() -> None:
    before = answer(200, [{"a": 1}, {"b": "x"}])
    assert diff(before, answer(200, [{"b": "y"}, {"a": 2}, {"a": 3}])) == []
    found = diff(before, answer(200, [{"a": 1}, {"b": "x", "c": True}]))
    assert [d.signature for d in found] == ["/[]: +c"]


def test_key_order_is_not_compared_by_default() -> None:
    before = answer(200, {"a": 1, "b": 2})
    after = answer(200, {"b": 2, "a": 1})
    assert diff(before, after) == []
    found = diff(before, after, ComparisonRules(key_order=True))
    assert kinds(found) == ["key-order"]


# -- echo endpoints -------------------------------------------------------------------------------


def test_keys_the_request_body_sent_are_folded_in_an_echoed_free_map() -> None:
    request = RequestSpec(
        "PostLog",
        "POST",
        "/api/v4/logs",
        (("Content-Type", JSON),),
        json.dumps({"level": "ERROR", "xQ9": "a"}).encode(),
    )
    echoed = answer(200, {"level": "ERROR", "xQ9": "a"})
    assert view(echoed, request, free_map=True).shape == ("object", ((ECHOED, "string"),))
    dropped = answer(200, {"level": "ERROR"})
    assert diff(echoed, dropped, request=request, free_map=True) == []
    typed = answer(200, {"level": "ERROR", "xQ9": 1})
    found = diff(echoed, typed, request=request, free_map=True)
    assert [d.signature for d in found] == [f"/{ECHOED}: string → number|string"]


def test_keys_are_not_folded_where_the_answer_is_not_a_free_map() -> None:
    request = RequestSpec(
        "PatchConfig", "PUT", "/api/v4/config/patch", (), json.dumps({"A": {}}).encode()
    )
    found = diff(answer(200, {"A": {}, "B": {}}), answer(200, {"B": {}}), request=request)
    assert [d.signature for d in found] == ["/: -A"]


# -- values ---------------------------------------------------------------------------------------


def test_values_are_compared_only_at_the_values_level() -> None:
    before, after = answer(200, {"name": "a", "n": 1}), answer(200, {"name": "b", "n": 1.0})
    assert diff(before, after) == []
    found = diff(before, after, ComparisonRules(values=True))
    assert [(d.kind, d.location, d.baseline, d.candidate) for d in found] == [
        ("value", "/name", "a", "b")
    ]


def test_list_lengths_are_values() -> None:
    found = diff(answer(200, [1, 2]), answer(200, [1, 2, 3]), ComparisonRules(values=True))
    assert [d.location for d in found] == ["#length"]


@pytest.mark.parametrize(
    ("key", "before", "after"),
    [
        ("request_id", "abcdefghijklmnopqrstuvwxyz", "zyxwvutsrqponmlkjihgfedcba"),
        ("create_at", 1700000000000, 1700000009999),
        ("expires", 1700000000, 1700000100),
        ("expires_ts", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"),
        ("BuildNumber", "12345", "67890"),
        ("BuildHash", "abc", "def"),
        ("DiagnosticId", "x", "y"),
        ("TelemetryId", "x", "y"),
        ("id", "abcdefghijklmnopqrstuvwxyz", "zyxwvutsrqponmlkjihgfedcba"),
    ],
)
def test_volatile_values_are_ignored_by_their_key(key: str, before: Any, after: Any) -> None:
    found = diff(
        answer(200, {key: before}), answer(200, {key: after}), ComparisonRules(values=True)
    )
    assert found == []
    assert f"/{key}" in view(answer(200, {key: before})).volatile


@pytest.mark.parametrize(
    ("before", "after", "placeholder"),
    [
        ("at 2026-05-01T10:11:12.123Z ok", "at 2027-01-02T00:00:00Z ok", "<time>"),
        ("Mon, 02 Jan 2026 10:00:00 GMT", "Tue, 03 Jan 2026 11:00:00 GMT", "<time>"),
        (
            "id 9b2f0c4e-1d2a-4c3b-8e7f-0a1b2c3d4e5f",
            "id 00000000-1111-2222-3333-444444444444",
            "<uuid>",
        ),
        ("user abcdefghijklmnopqrstuvwxyz", "user zyxwvutsrqponmlkjihgfedcba", "<id>"),
        ("build " + "a" * 40, "build " + "b" * 40, "<hash>"),
        ("at 1700000000000", "at 1800000000000", "<epoch-ms>"),
    ],
)
def test_volatile_values_are_ignored_by_their_form(
    before: str, after: str, placeholder: str
) -> None:
    assert placeholder in volatile_text(before)
    found = diff(
        answer(200, {"line": before}),
        answer(200, {"line": after}),
        ComparisonRules(values=True),
    )
    assert found == []


def test_a_volatile_value_that_changes_its_form_is_still_a_difference() -> None:
    seconds, milliseconds = (
        answer(200, {"expires": 1700000000}),
        answer(200, {"expires": 1700000000123}),
    )
    found = diff(seconds, milliseconds, ComparisonRules(values=True))
    assert [(d.location, d.baseline, d.candidate) for d in found] == [
        ("/expires", "<epoch-s>", "<epoch-ms>")
    ]
    timestamp = answer(200, {"expires_ts": "2026-01-01T00:00:00Z"})
    assert kinds(diff(timestamp, answer(200, {"expires_ts": 0}), ComparisonRules(values=True))) == [
        "type"
    ]


def test_where_a_server_runs_is_not_compared() -> None:
    def server(port: int, folder: str) -> Answer:
        return answer(
            200,
            {
                "ServiceSettings": {
                    "ListenAddress": f":{port}",
                    "LocalModeSocketLocation": f"/tmp/{folder}/mattermost_local.socket",
                },
                "logs": [
                    f'{{"msg":"Server is listening","address":"http://127.0.0.1:{port}",'
                    f'"local_socket":"/var/tmp/{folder}/mattermost_local.socket"}}',
                    f'{{"msg":"Configuration saved","path":"/tmp/mmconform-stub-{folder}.json"}}',
                ],
            },
        )

    assert diff(server(8065, "a1b2"), server(39241, "zz99"), ComparisonRules(values=True)) == []
    other_message = answer(200, {"logs": ['{"msg":"Server is stopping"}']})
    assert kinds(
        diff(
            answer(200, {"logs": ['{"msg":"Server is listening"}']}),
            other_message,
            ComparisonRules(values=True),
        )
    ) == ["value"]


def test_an_allowed_field_may_differ_in_value() -> None:
    before, after = answer(200, {"Version": "11.0.0"}), answer(200, {"Version": "11.1.0"})
    rules = ComparisonRules(values=True, allowed=("GetPing:/Version",))
    assert diff(before, after, rules) == []
    other_operation = ComparisonRules(values=True, allowed=("GetConfig:/Version",))
    assert kinds(diff(before, after, other_operation)) == ["value"]
    anywhere = ComparisonRules(values=True, allowed=("/rows/[]/name",))
    assert (
        diff(
            answer(200, {"rows": [{"name": "a"}]}),
            answer(200, {"rows": [{"name": "b"}]}),
            anywhere,
        )
        == []
    )


def test_array_indices_are_folded_in_locations() -> None:
    assert pattern_of("/rows/3/name") == "/rows/[]/name"
    assert pattern_of("/rows/3#length") == "/rows/[]#length"
    assert pattern_of("/a1/b") == "/a1/b"


# -- credentials ----------------------------------------------------------------------------------


def test_a_token_in_an_answer_is_redacted_before_anything_is_compared_or_written() -> None:
    token = "s3cr3ttokenvalue0000000000"
    leaked = answer(200, {"echo": f"Bearer {token}", "note": token})
    secrets = {"system_admin": Secret(token, "system_admin")}
    for thorough in (False, True):
        cleaned = scrub(leaked, secrets, thorough=thorough)
        assert token.encode() not in cleaned.body
        assert b"<redacted:system_admin>" in cleaned.body
    setting = answer(200, {"SMTPPassword": "hunter2", "Other": "hunter2"})
    assert b"hunter2" in scrub(setting, secrets).body
    assert scrub(setting, secrets, thorough=True).body.count(b"hunter2") == 1
