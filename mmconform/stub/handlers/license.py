"""License upload/removal, client license, load metric, renewal, trial licenses."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import UploadFile
from starlette.responses import Response

from mmconform.stub import _godecode as go
from mmconform.stub._context import BodyTooLarge, Ctx, Op
from mmconform.stub._errors import AppError, invalid_param, new_id
from mmconform.stub._license import (
    DAY_MS,
    License,
    LicenseError,
    build_license,
    client_license_map,
    make_trial_license,
    verify_license,
)
from mmconform.stub.faults import Fault
from mmconform.stub.handlers._util import qfirst

#: model.TrialLicenseRequest (``json.Unmarshal`` into a pointer: the whole body must be JSON).
TRIAL_LICENSE_REQUEST = go.Pointer(
    go.Struct(
        "TrialLicenseRequest",
        {
            "server_id": go.STRING,
            "email": go.STRING,
            "name": go.STRING,
            "site_url": go.STRING,
            "site_name": go.STRING,
            "users": go.INT64,
            "terms_accepted": go.BOOL,
            "receive_emails_accepted": go.BOOL,
            "contact_name": go.STRING,
            "contact_email": go.STRING,
            "company_name": go.STRING,
            "company_country": go.STRING,
            "company_size": go.STRING,
        },
    )
)
#: Any of these set makes a request extended (``TrialLicenseRequest.IsLegacy`` is false)...
EXTENDED_TRIAL_MARKERS = ("company_country", "company_name", "company_size", "contact_name")
#: ... and an extended request is valid (``IsValid``) only with all of them set, the terms
#: accepted and a positive user count. The email ``IsValid`` also wants is the requester's own,
#: which the server fills in, so it is always set.
EXTENDED_TRIAL_REQUIRED = EXTENDED_TRIAL_MARKERS


def _upgrade_needed(status: int) -> AppError:
    return AppError(status, "api.license.upgrade_needed.app_error")


def _check_users(ctx: Ctx, users: int) -> None:
    count = ctx.state.user_count()
    if users < count:
        raise AppError(
            400,
            "api.license.add_license.unique_users.app_error",
            params={"Users": users, "Count": count},
        )


# --------------------------------------------------------------------------------------------
class _FormError(Exception):
    """The body is not a multipart form the server can parse (Go's ParseMultipartForm error)."""


async def _license_form(ctx: Ctx) -> Any:
    content_type = ctx.request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise _FormError("request Content-Type isn't multipart/form-data")
    ctx.request._body = await ctx.body()  # the form parser replays the bounded body
    try:
        return await ctx.request.form(max_files=10, max_fields=100)
    except Exception as exc:  # any parser failure is a malformed form, never a 500
        raise _FormError(f"multipart: {exc}") from None


async def upload_license(ctx: Ctx) -> Response:
    if not ctx.session.local:
        ctx.require("manage_license_information", not_restricted=True)
    app_errors = ctx.behaviour.license_form_errors_are_app_errors
    parse_error = AppError(400, "api.license.parse_license.parse_form.app_error")
    try:
        form = await _license_form(ctx)
    except BodyTooLarge:
        if app_errors:
            raise ctx.too_large(parse_error) from None
        return ctx.plain_text("http: request body too large", 400)
    except _FormError as exc:
        if app_errors:
            parse_error.detailed = str(exc)
            raise parse_error from None
        # older servers answer with Go's http.Error: the parser's message as plain text
        return ctx.plain_text(str(exc), 400)
    files = [v for v in form.getlist("license") if isinstance(v, UploadFile)]
    if not files:
        raise AppError(400, "api.license.add_license.no_file.app_error")
    data = await files[0].read()
    await form.close()
    st = ctx.state
    now_ms = st.now_ms()
    try:
        lic = verify_license(data, now_ms=now_ms)
    except LicenseError as err:
        if ctx.fault(Fault.LICENSE_UPLOAD_ACCEPTS_INVALID) and err.error_id.endswith(
            "invalid.app_error"
        ):
            lic = build_license(users=1000, issued_at=now_ms, expires_at=now_ms + 365 * DAY_MS)
        else:
            raise AppError(
                err.status, err.error_id, message=err.message, detailed=err.detail
            ) from None
    span = lic.expires_at - lic.starts_at
    if not lic.is_trial and span <= 31 * DAY_MS:
        # looks like a trial license that was not sanctioned as one
        if st.edition == "team":
            raise _upgrade_needed(500)
        if not st.trial_allowed:
            raise AppError(400, "api.license.request-trial.can-start-trial.not-allowed")
    _check_users(ctx, lic.features.users)
    st.set_license(lic)
    if lic.is_trial:
        with st.lock:
            st.prev_trial = lic
    return ctx.json(lic.to_json())


async def remove_license(ctx: Ctx) -> Response:
    if not ctx.session.local:
        ctx.require("manage_license_information", not_restricted=True)
    if not ctx.fault(Fault.LICENSE_REMOVAL_KEEPS_LICENSE):
        ctx.state.set_license(None)
    return ctx.ok()


def _license_map(ctx: Ctx, lic: License | None, *, untrimmed: bool = False) -> dict[str, str]:
    full = untrimmed or ctx.has_permission("read_license_information")
    return client_license_map(lic, full=full)


async def get_client_license(ctx: Ctx) -> Response:
    b = ctx.behaviour
    if not b.client_license_ignores_format:
        fmt = qfirst(ctx, "format") or ""
        if fmt == "":
            raise AppError(
                b.client_license_missing_format_status, "api.license.client.old_format.app_error"
            )
        if fmt != "old":
            raise invalid_param("format")
    untrimmed = ctx.fault(Fault.CLIENT_LICENSE_UNTRIMMED)
    return ctx.json(_license_map(ctx, ctx.state.license, untrimmed=untrimmed), sort_keys=True)


async def get_load_metric(ctx: Ctx) -> Response:
    st = ctx.state
    lic = st.license
    load = 0
    if lic is not None and lic.features.users > 0:
        ratio = st.active_users() / lic.features.users * 1000
        load = int(ratio + 0.5)
    if ctx.fault(Fault.LOAD_METRIC_AS_STRING):
        return ctx.json({"load": str(load)})
    return ctx.json({"load": load})


async def request_renewal_link(ctx: Ctx) -> Response:
    if not ctx.fault(Fault.RENEWAL_LINK_WITHOUT_PERMISSION) or ctx.is_restricted():
        ctx.require("manage_license_information", not_restricted=True)
    st = ctx.state
    if st.edition == "team" or not st.cws_available:
        raise _upgrade_needed(403)
    if st.license is None:
        raise AppError(400, "api.license.request_renewal_link.cannot_renew_on_cws")
    base = str(st.setting("CloudSettings", "CWSURL") or "").rstrip("/")
    return ctx.json({"renewal_link": f"{base}/subscribe/renew?token={new_id()}"})


# --------------------------------------------------------------------------------------------
async def request_trial_license(ctx: Ctx) -> Response:
    ctx.require("manage_license_information", not_restricted=True)
    st = ctx.state
    if st.edition == "team":
        raise _upgrade_needed(403)
    if not st.trial_allowed:
        raise AppError(400, "api.license.request-trial.can-start-trial.not-allowed")
    bad = AppError(400, "api.license.request-trial.bad-request")
    try:
        decoded = go.decode_body(await ctx.body(), TRIAL_LICENSE_REQUEST, whole=True)
    except (BodyTooLarge, go.GoSyntaxError):
        raise bad from None
    if not decoded.ok or decoded.value is None:
        raise bad
    request: dict[str, Any] = decoded.value
    users = int(request.get("users") or 0)
    terms_accepted = request.get("terms_accepted") is True
    if ctx.behaviour.trial_request_extended_form and not _is_legacy_trial(request):
        # RequestTrialLicenseWithExtraFields: the business-email check is the licensing
        # service's, which the stub does not call; then IsValid.
        if not (terms_accepted and users > 0 and _has_all(request, EXTENDED_TRIAL_REQUIRED)):
            raise bad
    else:
        # RequestTrialLicense (the legacy form).
        if not terms_accepted:
            raise AppError(400, "api.license.request-trial.bad-request.terms-not-accepted")
        if users == 0:
            raise bad
    _check_users(ctx, users)
    lic = make_trial_license(users, now_ms=st.now_ms())
    st.set_license(lic)
    with st.lock:
        st.prev_trial = lic
        st.trial_allowed = ctx.fault(Fault.TRIAL_LICENSE_GRANTED_TWICE)
    return ctx.ok()


def _has_all(request: dict[str, Any], fields: tuple[str, ...]) -> bool:
    return all(request.get(name) for name in fields)


def _is_legacy_trial(request: dict[str, Any]) -> bool:
    """``TrialLicenseRequest.IsLegacy``: none of the company or contact-name fields is set."""
    return not any(request.get(name) for name in EXTENDED_TRIAL_MARKERS)


async def get_prev_trial_license(ctx: Ctx) -> Response:
    st = ctx.state
    if st.edition == "team":
        raise _upgrade_needed(403)
    if st.prev_trial is None and ctx.fault(Fault.PREV_TRIAL_LICENSE_NULL):
        return ctx.json(None)
    return ctx.json(_license_map(ctx, st.prev_trial), sort_keys=True)


OPERATIONS: list[Op] = [
    Op("UploadLicenseFile", "POST", "/api/v4/license", upload_license, local=True, file_api=True),
    Op("RemoveLicenseFile", "DELETE", "/api/v4/license", remove_license, local=True),
    Op(
        "GetClientLicense",
        "GET",
        "/api/v4/license/client",
        get_client_license,
        auth="none",
        local=True,
        local_since="11.5",
    ),
    Op("GetLicenseLoadMetric", "GET", "/api/v4/license/load_metric", get_load_metric, since="10.8"),
    Op(
        "RequestLicenseRenewalLink",
        "GET",
        "/api/v4/license/renewal",
        request_renewal_link,
        since="5.32",
        until="9.8",
    ),
    Op("RequestTrialLicense", "POST", "/api/v4/trial-license", request_trial_license, since="5.25"),
    Op(
        "GetPrevTrialLicense",
        "GET",
        "/api/v4/trial-license/prev",
        get_prev_trial_license,
        since="5.37",
    ),
]
