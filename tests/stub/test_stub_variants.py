"""Variants: correct servers stricter than upstream. Each refuses, with a 400 AppError, input the
default stub (like upstream) accepts, still accepts what the seed calls valid, and counts its
refusals."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from mmconform.stub import StubOptions, Variant
from mmconform.stub._config_defaults import default_config
from tests.stub._helpers import Api, error_id, stub_caller

TEAM = "abcdefghijklmnopqrstuvwxyz"
# complete file settings naming a bucket: tried (and, off loopback, failing with 500)
_FILE_SETTINGS = {**default_config()["FileSettings"], "AmazonS3Bucket": "bucket"}
Request = Callable[[Api], httpx.Response]

# variant -> (a request upstream accepts but the variant refuses, the id of that refusal,
#             a request the seed calls valid, which the variant still accepts)
CASES: dict[Variant, tuple[Request, str, Request]] = {
    Variant.STRICT_POSTLOG: (
        lambda api: api("POST", "/api/v4/logs", json={"level": 5, "message": "m"}),
        "api.context.invalid_body_param.app_error",
        lambda api: api("POST", "/api/v4/logs", json={"level": "DEBUG", "message": "m", "x": 1}),
    ),
    Variant.STRICT_NOTICES_QUERY: (
        lambda api: api("GET", f"/api/v4/system/notices/{TEAM}", params={"client": "web"}),
        "api.context.invalid_url_param.app_error",
        lambda api: api(
            "GET",
            f"/api/v4/system/notices/{TEAM}",
            params={"client": "web", "clientVersion": ""},
        ),
    ),
    Variant.STRICT_AUDITS_PAGING: (
        lambda api: api("GET", "/api/v4/audits", params={"page": "x"}),
        "api.context.invalid_url_param.app_error",
        lambda api: api("GET", "/api/v4/audits", params={"page": "-1", "per_page": "99999"}),
    ),
    Variant.STRICT_CONNECTION_TESTS: (
        # upstream tests the stored settings (a default install: 500, no SMTP server listens)
        lambda api: api("POST", "/api/v4/email/test", content=b"{not json"),
        "api.context.invalid_body_param.app_error",
        lambda api: api("POST", "/api/v4/file/s3_test", json={"FileSettings": _FILE_SETTINGS}),
    ),
}


def test_every_variant_has_a_case_a_description_and_operations() -> None:
    assert set(CASES) == set(Variant)
    for variant in Variant:
        assert variant.description
        assert variant.operations
        assert Variant.parse(variant.value.upper().replace("-", "_")) is variant
    with pytest.raises(ValueError, match="unknown variant"):
        Variant.parse("lenient")


def test_readme_variant_table_is_the_catalogue() -> None:
    readme = (Path(__file__).resolve().parents[2] / "mmconform" / "stub" / "README.md").read_text(
        encoding="utf-8"
    )
    table = readme.split("## Variants", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([a-z-]+)` \| (.+?) \|$", table, re.MULTILINE)
    assert rows == [(variant.value, variant.description) for variant in Variant]


@pytest.mark.parametrize("variant", list(Variant), ids=lambda v: v.value)
def test_variant_refuses_what_upstream_accepts(variant: Variant) -> None:
    stricter, refusal, valid = CASES[variant]
    with stub_caller(StubOptions(local_mode=False)) as upstream_like:
        assert stricter(upstream_like).status_code != 400
    with stub_caller(StubOptions(variants=frozenset({variant}), local_mode=False)) as api:
        refused = stricter(api)
        assert refused.status_code == 400
        assert error_id(refused) == refusal
        assert refused.headers["X-Request-Id"] == refused.json()["request_id"]
        assert valid(api).status_code != 400
        assert api.stub.state.variant_refusals[variant] == 1


def test_connection_test_variant_refuses_a_mistyped_config_before_the_permission() -> None:
    options = StubOptions(variants=frozenset({Variant.STRICT_CONNECTION_TESTS}), local_mode=False)
    with stub_caller(options) as api:
        body: dict[str, Any] = {"EmailSettings": {"SMTPPort": 25}}
        response = api("POST", "/api/v4/email/test", "system_user", json=body)
        assert (response.status_code, error_id(response)) == (
            400,
            "api.context.invalid_body_param.app_error",
        )


def test_variants_combine() -> None:
    options = StubOptions(variants=frozenset(Variant), local_mode=False)
    with stub_caller(options) as api:
        for variant, (stricter, refusal, _) in CASES.items():
            assert error_id(stricter(api)) == refusal, variant
        assert sum(api.stub.state.variant_refusals.values()) == len(CASES)
