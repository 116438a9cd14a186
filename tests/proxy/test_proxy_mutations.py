"""Every mutation of the catalogue changes what it says on the wire, and only there.

One check per catalogue entry: it sends the request the mutation is about straight to the stub
and through a proxy running that mutation alone, and compares. A new entry without a check
fails ``test_every_mutation_has_a_check``.
"""

from __future__ import annotations

import gzip
import io
import json
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import available_timezones

import pytest

from mmconform._wire import CONFIG_MASK, PERMISSION_ERROR_ID
from mmconform.proxy import MUTATIONS
from mmconform.proxy._effects import (
    EXTRA_FIELD,
    LATENCY_SECONDS,
    MADE_UP_SECRET,
    NOT_A_ZONE,
)
from mmconform.stub import RunningStub
from tests.proxy._helpers import Pair, a_license, proxied, raw_get, raw_header_names

NOTICES = "/api/v4/system/notices/stubteam000000000000000000"
NOTICE_QUERY = {"client": "web", "clientVersion": "11.1.0", "locale": "en"}
BAD_IMAGE = {"url": "mailto:someone@example.com"}


@contextmanager
def licensed(stub: RunningStub) -> Iterator[None]:
    stub.state.set_license(a_license())
    try:
        yield
    finally:
        stub.state.set_license(None)


@contextmanager
def busy(stub: RunningStub) -> Iterator[None]:
    stub.state.set_busy(600)
    try:
        yield
    finally:
        stub.state.clear_busy()


def _without(data: dict[str, object], *keys: str) -> dict[str, object]:
    return {k: v for k, v in data.items() if k not in keys}


# ---------------------------------------------------------------------------------------------
# schema


def check_ping_status_dropped(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/system/ping")
    assert direct.json()["status"] == "OK"
    assert "status" not in proxied.json()
    assert proxied.json() == _without(direct.json(), "status")


def check_busy_flag_dropped(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/server_busy")
    assert "busy" in direct.json()
    assert proxied.json() == _without(direct.json(), "busy")


def check_analytics_row_name_dropped(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/analytics/old")
    assert all("name" in row for row in direct.json())
    assert proxied.json() == [_without(row, "name") for row in direct.json()]


def check_audit_create_at_dropped(p: Pair) -> None:
    p.direct("GET", "/api/v4/system/ping")  # at least one audit
    proxied = p.proxied("GET", "/api/v4/audits", params={"per_page": 5})
    audits = proxied.json()
    assert audits
    assert all("create_at" not in audit and "id" in audit for audit in audits)


def check_upgrade_percentage_dropped(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/upgrade_to_enterprise/status")
    assert "percentage" in direct.json()
    assert proxied.json() == _without(direct.json(), "percentage")


def check_load_metric_dropped(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/license/load_metric")
    assert "load" in direct.json()
    assert proxied.json() == {}


def check_busy_expires_as_string(p: Pair) -> None:
    with busy(p.stub):
        direct, proxied = p.both("GET", "/api/v4/server_busy")
    assert isinstance(direct.json()["expires"], int)
    assert proxied.json()["expires"] == str(direct.json()["expires"])


def check_analytics_value_as_string(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/analytics/old")
    assert [row["value"] for row in proxied.json()] == [str(row["value"]) for row in direct.json()]


def check_timezones_as_object(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/system/timezones")
    assert isinstance(direct.json(), list)
    assert proxied.json() == {str(i): zone for i, zone in enumerate(direct.json())}


def check_timezones_as_html(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/system/timezones")
    assert direct.headers["content-type"] == "application/json"
    assert proxied.headers["content-type"].startswith("text/html")
    assert proxied.content == direct.content


def check_notices_empty_body(p: Pair) -> None:
    direct, proxied = p.both("GET", NOTICES, "system_user", params=NOTICE_QUERY)
    assert direct.status_code == proxied.status_code == 200
    assert direct.content
    assert proxied.content == b""
    assert proxied.headers["content-length"] == "0"


# ---------------------------------------------------------------------------------------------
# auth, permissions


def check_auth_ignored(p: Pair) -> None:
    for path in ("/api/v4/logs", "/api/v4/config", "/api/v4/server_busy"):
        direct, proxied = p.both("GET", path, None)
        assert direct.status_code == 401
        assert proxied.status_code == 200, path
    # operations that need no session are left alone
    direct, proxied = p.both("GET", "/api/v4/system/ping", None, params={"get_server_status": 1})
    assert "root_status" not in proxied.json()


def check_auth_ignored_for_logs(p: Pair) -> None:
    for path in ("/api/v4/logs", "/api/v4/audits"):
        assert p.direct("GET", path, None).status_code == 401
        assert p.proxied("GET", path, None).status_code == 200
    assert p.proxied("GET", "/api/v4/config", None).status_code == 401


def check_logs_for_every_user(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/logs", "system_user")
    assert direct.status_code == 403
    assert proxied.status_code == 200
    assert p.proxied("GET", "/api/v4/logs", None).status_code == 401
    assert p.proxied("GET", "/api/v4/audits", "system_user").status_code == 403


# ---------------------------------------------------------------------------------------------
# errors, headers


def check_errors_plain_text(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/logs", "system_user")
    assert direct.json()["id"] == PERMISSION_ERROR_ID
    assert proxied.status_code == 403
    assert proxied.headers["content-type"].startswith("text/plain")
    assert proxied.text == direct.json()["message"]


def check_bad_request_as_500(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/image", params=BAD_IMAGE)
    assert direct.status_code == 400
    assert proxied.status_code == 500
    assert proxied.json()["status_code"] == 500
    assert proxied.json()["id"] == direct.json()["id"]
    assert p.proxied("GET", "/api/v4/logs", "system_user").status_code == 403


def check_error_status_code_mismatch(p: Pair) -> None:
    proxied = p.proxied("GET", "/api/v4/logs", "system_user")
    assert proxied.status_code == 403
    assert proxied.json()["status_code"] != 403
    assert proxied.json()["id"] == PERMISSION_ERROR_ID


def check_error_id_emptied(p: Pair) -> None:
    proxied = p.proxied("GET", "/api/v4/logs", "system_user")
    assert proxied.status_code == 403
    assert proxied.json()["id"] == ""
    assert proxied.json()["status_code"] == 403


def check_error_request_id_mismatch(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/logs", "system_user")
    assert direct.json()["request_id"] == direct.headers["x-request-id"]
    assert proxied.json()["request_id"] != proxied.headers["x-request-id"]
    assert len(proxied.json()["request_id"]) == 26


def check_version_header_wrong(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/system/ping")
    major, rest = direct.headers["x-version-id"].split(".", 1)
    assert proxied.headers["x-version-id"] == f"{int(major) + 1}.{rest}"


def check_request_id_header_removed(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/system/ping")
    assert "x-request-id" in direct.headers
    assert "x-request-id" not in proxied.headers
    assert proxied.json() == direct.json()


# ---------------------------------------------------------------------------------------------
# ping, busy, config, paging


def check_ping_root_status_leaked(p: Pair) -> None:
    query = {"get_server_status": "true"}
    direct, proxied = p.both("GET", "/api/v4/system/ping", "system_user", params=query)
    assert "root_status" not in direct.json()
    assert "root_status" in proxied.json()


def check_busy_expires_in_milliseconds(p: Pair) -> None:
    with busy(p.stub):
        direct, proxied = p.both("GET", "/api/v4/server_busy")
    assert proxied.json()["expires"] == direct.json()["expires"] * 1000
    assert proxied.json()["expires"] > time.time() * 100


def check_config_secret_unmasked(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/config")
    assert CONFIG_MASK in direct.text
    assert CONFIG_MASK not in proxied.text
    assert MADE_UP_SECRET in proxied.text
    assert direct.json().keys() == proxied.json().keys()


def check_logs_per_page_exceeded(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/logs", params={"logs_per_page": 2})
    assert len(direct.json()) <= 2
    assert len(proxied.json()) == 3
    assert proxied.json()[: len(direct.json())] == direct.json()


def check_audits_per_page_exceeded(p: Pair) -> None:
    p.direct("GET", "/api/v4/system/ping")
    proxied = p.proxied("GET", "/api/v4/audits", params={"per_page": 2})
    assert len(proxied.json()) == 3
    assert len({audit["id"] for audit in proxied.json()}) == 3


# ---------------------------------------------------------------------------------------------
# timezones, license, notices, analytics


def check_timezone_not_iana(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/system/timezones")
    assert proxied.json() == [*direct.json(), NOT_A_ZONE]
    assert NOT_A_ZONE not in available_timezones()


def check_client_license_untrimmed(p: Pair) -> None:
    query = {"format": "old"}
    with licensed(p.stub):
        admin = p.direct("GET", "/api/v4/license/client", params=query).json()
        direct, proxied = p.both("GET", "/api/v4/license/client", "system_user", params=query)
        anonymous = p.proxied("GET", "/api/v4/license/client", None, params=query)
    assert len(direct.json()) < len(admin)
    assert proxied.json() == admin
    assert anonymous.json() == admin


def check_notice_views_ignored(p: Pair) -> None:
    role = "system_manager"
    shown = p.direct("GET", NOTICES, role, params=NOTICE_QUERY).json()
    once = [n["id"] for n in shown if n.get("repeatable") is not True][:1]
    assert once, shown
    answer = p.proxied("PUT", "/api/v4/system/notices/view", role, json=once)
    assert answer.status_code == 200
    assert answer.json() == {"status": "OK"}
    still = [n["id"] for n in p.direct("GET", NOTICES, role, params=NOTICE_QUERY).json()]
    assert once[0] in still
    # the same request straight to the stub does mark it
    p.direct("PUT", "/api/v4/system/notices/view", role, json=once)
    after = [n["id"] for n in p.direct("GET", NOTICES, role, params=NOTICE_QUERY).json()]
    assert once[0] not in after


def check_analytics_rows_out_of_order(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/analytics/old")
    assert len(direct.json()) > 1
    assert proxied.json() == list(reversed(direct.json()))


# ---------------------------------------------------------------------------------------------
# integrity, image, upgrade, support packet, email, notifications, clients, logs


def check_integrity_served_over_tcp(p: Pair) -> None:
    direct, proxied = p.both("POST", "/api/v4/integrity")
    assert direct.status_code == 404
    assert proxied.status_code == 200
    assert proxied.json() == []
    assert len(proxied.headers["x-request-id"]) == 26
    assert proxied.headers["x-version-id"].startswith(p.stub.server_version)


def check_image_bad_url_accepted(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/image", params=BAD_IMAGE)
    assert direct.status_code == 400
    assert proxied.status_code == 200
    assert proxied.headers["content-type"] == "image/png"
    assert proxied.content.startswith(b"\x89PNG")


def check_upgrade_allowed_on_enterprise(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/upgrade_to_enterprise/allowed")
    assert direct.status_code == 403
    assert direct.json()["id"] != PERMISSION_ERROR_ID
    assert proxied.status_code == 200
    assert proxied.json() == {"status": "OK"}
    denied = p.proxied("GET", "/api/v4/upgrade_to_enterprise/allowed", "system_user")
    assert denied.status_code == 403


def check_support_packet_truncated(p: Pair) -> None:
    with licensed(p.stub):
        direct, proxied = p.both("GET", "/api/v4/system/support_packet")
    assert direct.status_code == proxied.status_code == 200
    assert zipfile.ZipFile(io.BytesIO(direct.content)).namelist()
    assert abs(len(proxied.content) - len(direct.content) // 2) < len(direct.content) // 4
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(proxied.content))


def check_email_test_always_ok(p: Pair) -> None:
    direct, proxied = p.both("POST", "/api/v4/email/test", json={})
    assert direct.status_code == 400
    assert proxied.status_code == 200
    assert proxied.json() == {"status": "OK"}
    assert p.proxied("POST", "/api/v4/email/test", None, json={}).status_code == 401


def check_push_ack_errors_hidden(p: Pair) -> None:
    body = b"this is no acknowledgement"
    direct, proxied = p.both("POST", "/api/v4/notifications/ack", "system_user", content=body)
    assert direct.status_code == 400
    assert proxied.status_code == 200
    assert proxied.json() == {"status": "OK"}


def check_json_content_type_with_charset(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/system/ping")
    assert direct.headers["content-type"] == "application/json"
    assert proxied.headers["content-type"] == "application/json; charset=utf-8"


def check_posted_log_never_appears(p: Pair) -> None:
    marker = f"proxy-check-{uuid.uuid4().hex}"
    answer = p.proxied("POST", "/api/v4/logs", json={"level": "ERROR", "message": marker})
    assert answer.status_code == 200
    assert answer.json()["level"] == "ERROR"
    assert marker not in p.direct("GET", "/api/v4/logs").text
    control = f"proxy-control-{uuid.uuid4().hex}"
    p.direct("POST", "/api/v4/logs", json={"level": "ERROR", "message": control})
    assert control in p.direct("GET", "/api/v4/logs").text


# ---------------------------------------------------------------------------------------------
# benign


def check_reorder_keys(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/system/ping")
    assert list(proxied.json()) == list(reversed(list(direct.json())))
    assert proxied.json() == direct.json()
    assert proxied.content != direct.content
    error = p.proxied("GET", "/api/v4/logs", "system_user").json()
    assert list(error)[-1] == "id"


def check_extra_fields(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/analytics/old")
    assert all(row[EXTRA_FIELD] == "benign" for row in proxied.json())
    assert [_without(row, EXTRA_FIELD) for row in proxied.json()] == direct.json()
    ping = p.proxied("GET", "/api/v4/system/ping").json()
    assert EXTRA_FIELD in ping
    # key sets that are themselves the promise stay as they are
    for path, params in (
        ("/api/v4/license/client", {"format": "old"}),
        ("/api/v4/config/client", {"format": "old"}),
        ("/api/v4/config", {}),
    ):
        d, x = p.both("GET", path, "system_user_manager", params=params)
        assert d.json() == x.json(), path


def check_extra_headers(p: Pair) -> None:
    direct, proxied = p.both("GET", "/api/v4/system/ping")
    assert proxied.headers["x-mmconform-proxy"] == "benign"
    assert "x-mmconform-proxy" not in direct.headers
    assert proxied.json() == direct.json()


def check_header_case(p: Pair) -> None:
    proxied = raw_header_names(raw_get(p.proxy.url, "/api/v4/system/ping"))
    direct = raw_header_names(raw_get(p.stub.url, "/api/v4/system/ping"))
    assert b"x-request-id" in direct
    assert b"X-REQUEST-ID" in proxied
    assert b"CONTENT-LENGTH" in proxied
    # Connection: close is h11's own answer to the request's Connection: close.
    assert all(name == name.upper() for name in proxied if name != b"Connection")


def test_header_case_with_chunked(stub: RunningStub, stub_target: Path) -> None:
    """h11 writes the framing headers itself, in its own spelling; every other name is the
    proxy's."""
    with proxied(stub, stub_target, ["header-case", "chunked"]) as pair:
        names = raw_header_names(raw_get(pair.proxy.url, "/api/v4/system/ping"))
    assert b"Transfer-Encoding" in names
    assert b"X-REQUEST-ID" in names
    framing = {b"Transfer-Encoding", b"Connection"}
    assert all(name == name.upper() for name in names if name not in framing)


def check_chunked(p: Pair) -> None:
    raw = raw_get(p.proxy.url, "/api/v4/system/ping")
    names = [name.lower() for name in raw_header_names(raw)]
    assert b"transfer-encoding" in names
    assert b"content-length" not in names
    assert b"chunked" in raw.split(b"\r\n\r\n", 1)[0].lower()
    direct, proxied = p.both("GET", "/api/v4/system/ping")
    assert proxied.json() == direct.json()


def check_gzip(p: Pair) -> None:
    raw = raw_get(p.proxy.url, "/api/v4/system/timezones", {"Accept-Encoding": "gzip"})
    head, body = raw.split(b"\r\n\r\n", 1)
    assert b"content-encoding: gzip" in head.lower()
    direct = p.direct("GET", "/api/v4/system/timezones", None)
    assert json.loads(gzip.decompress(body)) == direct.json() or direct.status_code == 401
    plain = raw_get(p.proxy.url, "/api/v4/system/timezones", {"Accept-Encoding": "identity"})
    assert b"content-encoding" not in plain.split(b"\r\n\r\n", 1)[0].lower()
    proxied = p.proxied("GET", "/api/v4/system/timezones", headers={"Accept-Encoding": "gzip"})
    assert proxied.headers["content-encoding"] == "gzip"
    assert proxied.json() == p.direct("GET", "/api/v4/system/timezones").json()


def check_latency(p: Pair) -> None:
    # A lower bound only: the proxy waits at least this long before it answers.
    started = time.monotonic()
    proxied = p.proxied("GET", "/api/v4/system/ping")
    assert time.monotonic() - started >= LATENCY_SECONDS * 0.9
    assert proxied.json() == p.direct("GET", "/api/v4/system/ping").json()


CHECKS: dict[str, Callable[[Pair], None]] = {
    "PING_STATUS_DROPPED": check_ping_status_dropped,
    "BUSY_FLAG_DROPPED": check_busy_flag_dropped,
    "ANALYTICS_ROW_NAME_DROPPED": check_analytics_row_name_dropped,
    "AUDIT_CREATE_AT_DROPPED": check_audit_create_at_dropped,
    "UPGRADE_PERCENTAGE_DROPPED": check_upgrade_percentage_dropped,
    "LOAD_METRIC_DROPPED": check_load_metric_dropped,
    "BUSY_EXPIRES_AS_STRING": check_busy_expires_as_string,
    "ANALYTICS_VALUE_AS_STRING": check_analytics_value_as_string,
    "TIMEZONES_AS_OBJECT": check_timezones_as_object,
    "TIMEZONES_AS_HTML": check_timezones_as_html,
    "NOTICES_EMPTY_BODY": check_notices_empty_body,
    "AUTH_IGNORED": check_auth_ignored,
    "AUTH_IGNORED_FOR_LOGS": check_auth_ignored_for_logs,
    "LOGS_FOR_EVERY_USER": check_logs_for_every_user,
    "ERRORS_PLAIN_TEXT": check_errors_plain_text,
    "BAD_REQUEST_AS_500": check_bad_request_as_500,
    "ERROR_STATUS_CODE_MISMATCH": check_error_status_code_mismatch,
    "ERROR_ID_EMPTIED": check_error_id_emptied,
    "ERROR_REQUEST_ID_MISMATCH": check_error_request_id_mismatch,
    "VERSION_HEADER_WRONG": check_version_header_wrong,
    "REQUEST_ID_HEADER_REMOVED": check_request_id_header_removed,
    "PING_ROOT_STATUS_LEAKED": check_ping_root_status_leaked,
    "BUSY_EXPIRES_IN_MILLISECONDS": check_busy_expires_in_milliseconds,
    "CONFIG_SECRET_UNMASKED": check_config_secret_unmasked,
    "LOGS_PER_PAGE_EXCEEDED": check_logs_per_page_exceeded,
    "AUDITS_PER_PAGE_EXCEEDED": check_audits_per_page_exceeded,
    "TIMEZONE_NOT_IANA": check_timezone_not_iana,
    "CLIENT_LICENSE_UNTRIMMED": check_client_license_untrimmed,
    "NOTICE_VIEWS_IGNORED": check_notice_views_ignored,
    "ANALYTICS_ROWS_OUT_OF_ORDER": check_analytics_rows_out_of_order,
    "INTEGRITY_SERVED_OVER_TCP": check_integrity_served_over_tcp,
    "IMAGE_BAD_URL_ACCEPTED": check_image_bad_url_accepted,
    "UPGRADE_ALLOWED_ON_ENTERPRISE": check_upgrade_allowed_on_enterprise,
    "SUPPORT_PACKET_TRUNCATED": check_support_packet_truncated,
    "EMAIL_TEST_ALWAYS_OK": check_email_test_always_ok,
    "PUSH_ACK_ERRORS_HIDDEN": check_push_ack_errors_hidden,
    "JSON_CONTENT_TYPE_WITH_CHARSET": check_json_content_type_with_charset,
    "POSTED_LOG_NEVER_APPEARS": check_posted_log_never_appears,
    "reorder-keys": check_reorder_keys,
    "extra-fields": check_extra_fields,
    "extra-headers": check_extra_headers,
    "header-case": check_header_case,
    "chunked": check_chunked,
    "gzip": check_gzip,
    "latency": check_latency,
}


def test_every_mutation_has_a_check() -> None:
    assert set(CHECKS) == set(MUTATIONS), (
        f"without a check: {sorted(set(MUTATIONS) - set(CHECKS))}; "
        f"checks of nothing: {sorted(set(CHECKS) - set(MUTATIONS))}"
    )


def test_catalogue_size_and_spread() -> None:
    faults = [m for m in MUTATIONS.values() if m.kind == "fault"]
    assert len(faults) >= 30
    assert len({m.area for m in faults}) >= 15
    touched = {op for m in faults for op in m.operations}
    assert len(touched) >= 18


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_mutation_changes_the_wire(name: str, stub: RunningStub, stub_target: Path) -> None:
    check = CHECKS.get(name)
    if check is None:
        pytest.fail(f"{name} has no check in CHECKS")
    with proxied(stub, stub_target, [name]) as pair:
        check(pair)
