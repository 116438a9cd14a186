"""Robustness: fuzzed query strings and bodies never produce a 5xx (or a crash)."""

from __future__ import annotations

import json
from urllib.parse import quote

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.stub._helpers import Api

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

text = st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
query_value = st.one_of(
    text,
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(["", "true", "false", "+1", "-0", "1e9", "0x10", "NaN", "%", "%zz", "\x00"]),
)
json_value = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | text,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4),
    max_leaves=12,
)

GET_PATHS = [
    ("/api/v4/system/ping", ["get_server_status", "device_id", "use_rest_semantics"]),
    ("/api/v4/audits", ["page", "per_page", "pageSize"]),
    ("/api/v4/logs", ["page", "logs_per_page"]),
    ("/api/v4/analytics/old", ["name", "team_id"]),
    ("/api/v4/config", ["remove_masked", "remove_defaults"]),
    ("/api/v4/config/client", ["format"]),
    ("/api/v4/license/client", ["format"]),
    ("/api/v4/image", ["url"]),
    ("/api/v4/system/notices/abcdefghijklmnopqrstuvwxyz", ["client", "clientVersion", "locale"]),
]
BODY_PATHS = [
    ("PUT", "/api/v4/config/patch"),
    ("PUT", "/api/v4/config"),
    ("PUT", "/api/v4/system/notices/view"),
    ("POST", "/api/v4/logs"),
    ("POST", "/api/v4/notifications/ack"),
    ("POST", "/api/v4/trial-license"),
    ("POST", "/api/v4/site_url/test"),
    ("POST", "/api/v4/email/test"),
    ("POST", "/api/v4/file/s3_test"),
]


@FUZZ
@given(
    index=st.integers(0, len(GET_PATHS) - 1),
    values=st.lists(query_value, min_size=1, max_size=3),
    role=st.sampled_from(["system_admin", "system_user", "anonymous"]),
)
def test_fuzzed_query_strings(api: Api, index: int, values: list[str], role: str) -> None:
    path, names = GET_PATHS[index]
    query = "&".join(
        f"{quote(names[i % len(names)])}={quote(v, safe='')}" for i, v in enumerate(values)
    )
    response = api("GET", f"{path}?{query}", role)
    assert response.status_code < 500 or (
        path.endswith("/ping")
        and response.status_code == 500
        and response.json()["status"] == "UNHEALTHY"
    )
    if response.status_code >= 400:
        assert "id" in response.json()


@FUZZ
@given(index=st.integers(0, len(BODY_PATHS) - 1), body=json_value)
def test_fuzzed_json_bodies(api: Api, index: int, body: object) -> None:
    method, path = BODY_PATHS[index]
    saved = api.stub.state.store.file_config
    try:
        response = api(method, path, content=json.dumps(body).encode())
        assert response.status_code < 500 or path.endswith(("/email/test", "/s3_test"))
        if response.status_code >= 400:
            assert response.json()["id"]
    finally:
        api.stub.state.save_config(saved)


@FUZZ
@given(
    index=st.integers(0, len(BODY_PATHS) - 1),
    raw=st.binary(max_size=200),
    content_type=st.sampled_from(
        [
            "application/json",
            "text/plain",
            "multipart/form-data",
            "application/x-www-form-urlencoded",
            "",
        ]
    ),
)
def test_fuzzed_raw_bodies(api: Api, index: int, raw: bytes, content_type: str) -> None:
    method, path = BODY_PATHS[index]
    saved = api.stub.state.store.file_config
    try:
        response = api(method, path, content=raw, headers={"Content-Type": content_type})
        assert response.status_code < 500 or path.endswith(("/email/test", "/s3_test"))
    finally:
        api.stub.state.save_config(saved)


@FUZZ
@given(raw=st.binary(max_size=300), boundary=st.sampled_from(["b", "zzz", ""]))
def test_fuzzed_license_uploads(api: Api, raw: bytes, boundary: str) -> None:
    response = api(
        "POST",
        "/api/v4/license",
        content=raw,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert 400 <= response.status_code < 500


def test_odd_unicode_in_config(api: Api) -> None:
    saved = api.stub.state.store.file_config
    try:
        weird = "\ud800 ☃ \u0000 \U0001f600 \u202e"
        body = json.dumps({"TeamSettings": {"SiteName": weird[:30]}}).encode()
        response = api("PUT", "/api/v4/config/patch", content=body)
        assert response.status_code in (200, 400)
        assert api("GET", "/api/v4/config").status_code == 200
        bad_utf8 = b'{"TeamSettings": {"SiteName": "\xff\xfe"}}'
        assert api("PUT", "/api/v4/config/patch", content=bad_utf8).status_code == 200
    finally:
        api.stub.state.save_config(saved)
