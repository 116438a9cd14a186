"""GET/PUT /config, PUT /config/patch, POST /config/reload, /config/client, /config/environment."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from starlette.responses import Response

from mmconform.stub import _config as cfgmod
from mmconform.stub import _config_access as access
from mmconform.stub import _godecode as go
from mmconform.stub._config_store import environment_tree
from mmconform.stub._context import NO_CACHE, BodyTooLarge, Ctx, Op, go_parse_bool
from mmconform.stub._errors import AppError, invalid_param, permission_error
from mmconform.stub.faults import Fault
from mmconform.stub.handlers._util import qfirst

Path_ = tuple[str, ...]


# --------------------------------------------------------------------------------------------
# access helpers
# --------------------------------------------------------------------------------------------
def _acting_as_admin(ctx: Ctx) -> bool:
    return (
        ctx.fault(Fault.READ_ONLY_ADMIN_CAN_WRITE_CONFIG)
        and ctx.session.user is not None
        and ctx.session.user.role == "system_read_only_admin"
    )


def _readable(ctx: Ctx) -> Callable[[Path_], bool]:
    if ctx.session.local:
        return lambda _path: True
    any_read = ctx.session.has_any("sysconsole_read_")
    return access.read_checker(ctx.has_permission, any_read)


def _writable(ctx: Ctx) -> Callable[[Path_], bool]:
    if ctx.session.local or _acting_as_admin(ctx):
        return lambda _path: True
    restricted = ctx.is_restricted()
    return access.write_checker(ctx.has_permission, restricted)


def _require_write(ctx: Ctx) -> None:
    if ctx.session.local or _acting_as_admin(ctx):
        return
    if not ctx.session.has_any("sysconsole_write_"):
        raise permission_error(ctx.session.user_id, "sysconsole_write_*")


def render_config(
    ctx: Ctx, cfg: dict[str, Any], *, remove_masked: bool = False, remove_defaults: bool = False
) -> bytes:
    # Newer servers show the local socket its secrets in clear.
    unmasked = ctx.session.local and ctx.behaviour.local_config_unmasked
    # sanitize returns a fresh tree that filtering may change in place; cfg itself may not be
    if unmasked or ctx.fault(Fault.CONFIG_LEAKS_SECRETS):
        out = cfgmod.clone(cfg)
    else:
        out = access.sanitize(cfg)
        if ctx.fault(Fault.CONFIG_EMPTY_SECRETS_MASKED):
            access.mask_empty_secrets(out)
    if not ctx.session.local and not ctx.fault(Fault.CONFIG_UNFILTERED_FOR_READERS):
        out = access.filter_read_in_place(out, _readable(ctx))
    if remove_masked or remove_defaults:
        out = cfgmod.prune(out, remove_masked=remove_masked, remove_defaults=remove_defaults)
    return json.dumps(out, separators=(",", ":")).encode()


# --------------------------------------------------------------------------------------------
async def get_config(ctx: Ctx) -> Response:
    if not ctx.session.local and not ctx.session.has_any("sysconsole_read_"):
        raise permission_error(ctx.session.user_id, "sysconsole_read_*")
    remove_masked = remove_defaults = False
    if ctx.behaviour.config_filter_params:
        remove_masked = bool(go_parse_bool(qfirst(ctx, "remove_masked")))
        remove_defaults = bool(go_parse_bool(qfirst(ctx, "remove_defaults")))
    body = _config_body(ctx, remove_masked=remove_masked, remove_defaults=remove_defaults)
    return ctx.raw_json(body, headers=NO_CACHE)


def _config_body(ctx: Ctx, *, remove_masked: bool = False, remove_defaults: bool = False) -> bytes:
    """The rendered current config for this caller, cached per config generation and role."""
    st = ctx.state
    key = (
        ctx.session.role,
        ctx.session.granted,
        remove_masked,
        remove_defaults,
        st.restrict_system_admin,
    )
    return st.cached_config_body(
        key,
        lambda: render_config(
            ctx, st.config, remove_masked=remove_masked, remove_defaults=remove_defaults
        ),
    )


async def _decode_config_body(ctx: Ctx) -> dict[str, Any]:
    """``var cfg *model.Config`` from the body: any decode error, or null, is 400 (checked
    before the permission); a body too large is 413 where the server maps the read error."""
    try:
        decoded = cfgmod.decode_config(go.parse(await ctx.body()), pointer=True)
    except BodyTooLarge:
        raise ctx.too_large(invalid_param("config")) from None
    except go.GoSyntaxError as exc:
        if ctx.fault(Fault.CONFIG_PUT_MALFORMED_JSON_500) and ctx.op.name == "UpdateConfig":
            raise AppError(500, "api.config.update_config.app_error", detailed=str(exc)) from None
        raise invalid_param("config", str(exc)) from None
    if not decoded.ok:
        raise invalid_param("config", decoded.error or "")
    if decoded.value is None:
        raise invalid_param("config", "null config")
    value: dict[str, Any] = decoded.value
    return value


def _check_site_url(current: dict[str, Any], new_value: Any) -> None:
    if cfgmod.get_path(current, ("ServiceSettings", "SiteURL")) and new_value == "":
        raise AppError(400, "api.config.update_config.clear_siteurl.app_error")


def _message_export(current: dict[str, Any], new: dict[str, Any], now_ms: int) -> None:
    enable = cfgmod.get_path(new, ("MessageExportSettings", "EnableExport"))
    was = cfgmod.get_path(current, ("MessageExportSettings", "EnableExport"))
    path = ("MessageExportSettings", "ExportFromTimestamp")
    if enable:
        if not was and not cfgmod.get_path(new, path):
            cfgmod.set_path(new, path, now_ms)
    else:
        cfgmod.set_path(new, path, 0)


def _elasticsearch_check(ctx: Ctx, current: dict[str, Any], new: dict[str, Any]) -> None:
    path = ("ElasticsearchSettings", "EnableAutocomplete")
    lic = ctx.state.license
    if (
        cfgmod.get_path(new, path)
        and not cfgmod.get_path(current, path)
        and not (lic is not None and lic.features.elastic_search)
    ):
        raise AppError(
            400,
            "api.config.update.elasticsearch.autocomplete_cannot_be_enabled_error",
            message="Autocomplete cannot be enabled because the search engine does not support it.",
        )


def _finish_save(ctx: Ctx, current: dict[str, Any], merged: dict[str, Any]) -> Response:
    error = cfgmod.validate(merged)
    if error is not None:
        raise error
    if not ctx.fault(Fault.CONFIG_PUT_DROPS_SECRETS):
        access.desanitize(merged, current)
    ctx.state.save_config(merged, take=True)  # merged is this request's own fresh copy
    # the same body a GET /config would now return (and the one it will find cached)
    return ctx.raw_json(_config_body(ctx), headers=NO_CACHE)


async def update_config(ctx: Ctx) -> Response:
    partial = await _decode_config_body(ctx)
    _require_write(ctx)
    st = ctx.state
    with st.lock:
        # a consistent snapshot: a save replaces the effective config, never changes it in
        # place, and this handler only reads it (merge copies what it keeps)
        current = st.config
    if ctx.fault(Fault.PUT_CONFIG_KEEPS_MISSING):
        incoming = partial
        patch = True
    else:
        incoming = cfgmod.with_defaults(partial)
        patch = False
    _check_site_url(current, cfgmod.get_path(incoming, ("ServiceSettings", "SiteURL")))
    merged = cfgmod.merge(current, incoming, _writable(ctx), patch=patch)
    plugin_fields = (
        ("PluginSettings", "EnableUploads"),
        ("PluginSettings", "SignaturePublicKeyFiles"),
    )
    for path in plugin_fields:
        if not ctx.session.local or not cfgmod.has_path(partial, path):
            cfgmod.set_path(merged, path, cfgmod.clone(cfgmod.get_path(current, path)))
    if not ctx.session.local and not cfgmod.get_path(current, ("PluginSettings", "EnableUploads")):
        path = ("PluginSettings", "MarketplaceURL")
        cfgmod.set_path(merged, path, cfgmod.get_path(current, path))
    _elasticsearch_check(ctx, current, merged)
    _message_export(current, merged, st.now_ms())
    return _finish_save(ctx, current, merged)


async def patch_config(ctx: Ctx) -> Response:
    partial = await _decode_config_body(ctx)
    _require_write(ctx)
    st = ctx.state
    with st.lock:
        # a consistent snapshot: a save replaces the effective config, never changes it in
        # place, and this handler only reads it (merge copies what it keeps)
        current = st.config
    site_path = ("ServiceSettings", "SiteURL")
    if cfgmod.has_path(partial, site_path):
        _check_site_url(current, cfgmod.get_path(partial, site_path))
    uploads_path = ("PluginSettings", "EnableUploads")
    market_path = ("PluginSettings", "MarketplaceURL")
    if not ctx.session.local:
        if cfgmod.has_path(partial, uploads_path) and cfgmod.get_path(
            partial, uploads_path
        ) != cfgmod.get_path(current, uploads_path):
            raise AppError(
                403,
                "api.config.update_config.not_allowed_security.app_error",
                params={"Name": "PluginSettings.EnableUploads"},
            )
        if (
            cfgmod.has_path(partial, market_path)
            and cfgmod.has_path(partial, uploads_path)
            and cfgmod.get_path(partial, market_path) != cfgmod.get_path(current, market_path)
            and not cfgmod.get_path(partial, uploads_path)
        ):
            raise AppError(
                403,
                "api.config.update_config.not_allowed_security.app_error",
                params={"Name": "PluginSettings.MarketplaceURL"},
            )
    if ctx.fault(Fault.PATCH_CONFIG_ACTS_AS_PUT):
        merged = cfgmod.merge(current, cfgmod.with_defaults(partial), _writable(ctx), patch=False)
    else:
        merged = cfgmod.merge(current, partial, _writable(ctx), patch=True)
    if cfgmod.has_path(partial, ("MessageExportSettings", "EnableExport")):
        _message_export(current, merged, st.now_ms())
    _elasticsearch_check(ctx, current, merged)
    return _finish_save(ctx, current, merged)


async def reload_config(ctx: Ctx) -> Response:
    if ctx.behaviour.legacy_restricted_errors:
        ctx.require("reload_config")
        if ctx.is_restricted():
            raise AppError(400, "api.restricted_system_admin")
    else:
        ctx.require("reload_config", not_restricted=True)
    try:
        if ctx.fault(Fault.CONFIG_RELOAD_RESTORES_STARTUP):
            ctx.state.save_config(ctx.state.startup_config)
        else:
            ctx.state.reload_config()
    except (OSError, ValueError) as exc:
        raise AppError(500, "api.config.reload_config.app_error", detailed=str(exc)) from None
    return ctx.ok(headers=NO_CACHE)


async def get_client_config(ctx: Ctx) -> Response:
    ignores_format = ctx.behaviour.client_config_ignores_format
    if not ignores_format or ctx.fault(Fault.CLIENT_CONFIG_FORMAT_REQUIRED):
        fmt = qfirst(ctx, "format") or ""
        if fmt == "":
            raise AppError(501, "api.config.client.old_format.app_error")
        if fmt != "old":
            raise invalid_param("format")
    full = ctx.session.local or ctx.session.user is not None
    if ctx.fault(Fault.CLIENT_CONFIG_FULL_WITHOUT_SESSION):
        full = True
    return ctx.json(ctx.state.client_config(full=full), sort_keys=True)


async def get_environment_config(ctx: Ctx) -> Response:
    readable = _readable(ctx)
    with ctx.state.lock:
        env: list[Path_] = list(ctx.state.store.env)
        if ctx.fault(Fault.ENVIRONMENT_CONFIG_LISTS_EVERYTHING):
            env = [path for path, _ in cfgmod.leaves(ctx.state.config)]
        paths = [p for p in env if readable(p)]
    return ctx.json(environment_tree(paths), headers=NO_CACHE)


OPERATIONS: list[Op] = [
    Op("GetConfig", "GET", "/api/v4/config", get_config, local=True),
    Op("UpdateConfig", "PUT", "/api/v4/config", update_config, local=True),
    Op("ReloadConfig", "POST", "/api/v4/config/reload", reload_config, local=True),
    Op(
        "GetClientConfig",
        "GET",
        "/api/v4/config/client",
        get_client_config,
        auth="none",
        local=True,
        local_since="8.0",
    ),
    Op(
        "GetEnvironmentConfig",
        "GET",
        "/api/v4/config/environment",
        get_environment_config,
        since="4.10",
    ),
    Op("PatchConfig", "PUT", "/api/v4/config/patch", patch_config, local=True, since="5.20"),
]
