"""The fast config and probe paths behave exactly as the straightforward versions they replace.

The reference implementations below are the stub's former code (``copy.deepcopy`` everywhere,
per-leaf ``has_path``/``set_path`` walks, access tags re-parsed for every leaf, a fresh TLS
context per probe); the optimised code must give the same results on the same inputs.
"""

from __future__ import annotations

import copy
import json
import socket
import ssl
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from mmconform.stub import _config as cfgmod
from mmconform.stub import _config_access as access
from mmconform.stub import _probes
from mmconform.stub._auth import ROLE_PERMISSIONS
from mmconform.stub._config_defaults import (
    NON_POINTER_FIELDS,
    access_tags,
    clone,
    default_config,
)
from mmconform.stub._config_store import ConfigStore

Path_ = tuple[str, ...]
_NON_PERMISSION_TAGS = frozenset({"write_restrictable", "cloud_restrictable"})


# --- reference implementations (the former code) ------------------------------------------------
def ref_can_read(path: Path_, has_permission: Callable[[str], bool], any_read: bool) -> bool:
    tags = [t for t in access_tags(path) if t not in _NON_PERMISSION_TAGS]
    if "*_read" in tags and any_read:
        return True
    if any(has_permission(f"sysconsole_read_{t}") for t in tags if t != "*_read"):
        return True
    return has_permission("manage_system")


def ref_can_write(path: Path_, has_permission: Callable[[str], bool], restricted: bool) -> bool:
    all_tags = access_tags(path)
    if restricted and ("write_restrictable" in all_tags or "cloud_restrictable" in all_tags):
        return False
    tags = [t for t in all_tags if t not in _NON_PERMISSION_TAGS and t != "*_read"]
    if any(has_permission(f"sysconsole_write_{t}") for t in tags):
        return True
    return has_permission("manage_system")


def ref_with_defaults(partial: Mapping[str, Any]) -> dict[str, Any]:
    cfg = copy.deepcopy(default_config())
    for path, default in cfgmod.LEAVES:
        if cfgmod.has_path(partial, path):
            cfgmod.set_path(cfg, path, copy.deepcopy(cfgmod.get_path(partial, path)))
        elif path in NON_POINTER_FIELDS:
            cfgmod.set_path(cfg, path, cfgmod.zero_of(default))
    return cfg


def ref_merge(
    current: Mapping[str, Any],
    incoming: Mapping[str, Any],
    writable: Callable[[Path_], bool],
    *,
    patch: bool,
) -> dict[str, Any]:
    out = copy.deepcopy(dict(current))
    for path, default in cfgmod.LEAVES:
        if path[0] == "FeatureFlags" or not writable(path):
            continue
        if cfgmod.has_path(incoming, path):
            cfgmod.set_path(out, path, copy.deepcopy(cfgmod.get_path(incoming, path)))
        elif patch and path in NON_POINTER_FIELDS:
            cfgmod.set_path(out, path, cfgmod.zero_of(default))
        elif not patch:
            cfgmod.set_path(out, path, copy.deepcopy(default))
    return out


def ref_filter_read(cfg: Mapping[str, Any], readable: Callable[[Path_], bool]) -> dict[str, Any]:
    out = copy.deepcopy(dict(cfg))
    for path, _ in cfgmod.LEAVES:
        if not readable(path):
            cfgmod.set_path(out, path, None)
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON text: also tells 1 from True from 1.0 and checks key order."""
    return json.dumps(a) == json.dumps(b)


# --- inputs -------------------------------------------------------------------------------------
def _partials() -> list[dict[str, Any]]:
    full = default_config()
    changed = default_config()
    changed["TeamSettings"]["SiteName"] = "Changed"
    changed["SqlSettings"]["ReplicaLagSettings"] = [{"DataSource": "x", "QueryTimeLag": "1"}]
    changed["PluginSettings"]["Plugins"] = {"p": {"a": 1, "b": [True, None, 1.5]}}
    changed["MessageExportSettings"]["GlobalRelaySettings"]["SMTPUsername"] = "relay"
    del changed["EmailSettings"]
    return [
        {},
        full,
        changed,
        {"TeamSettings": {"SiteName": "x"}},
        {"ServiceSettings": {"SiteURL": "http://a.example", "EnableDeveloper": True}},
        {"MessageExportSettings": {"GlobalRelaySettings": {"CustomerType": "A10"}}},
        {"MessageExportSettings": {"EnableExport": True}},
        {"FeatureFlags": {"TestFeature": "on"}, "PasswordSettings": {"MinimumLength": 12}},
        {"ExperimentalSettings": {"RestrictSystemAdmin": True}, "PluginSettings": {}},
        # odd shapes (merge and with_defaults take any Mapping)
        {"TeamSettings": "not an object", "EmailSettings": None},
        {"MessageExportSettings": {"GlobalRelaySettings": 3}},
    ]


def _permission_checkers() -> list[tuple[str, Callable[[str], bool], bool]]:
    out: list[tuple[str, Callable[[str], bool], bool]] = [
        ("everything", lambda _perm: True, True),
        ("nothing", lambda _perm: False, False),
    ]
    for role, perms in ROLE_PERMISSIONS.items():
        any_read = any(p.startswith("sysconsole_read_") for p in perms)
        out.append((role, perms.__contains__, any_read))
    return out


# --- clone --------------------------------------------------------------------------------------
def test_clone_is_a_deep_copy() -> None:
    tree = default_config()
    tree["PluginSettings"]["Plugins"] = {"p": {"list": [1, {"x": None}], "f": 1.5}}
    copied = clone(tree)
    assert copied == tree
    assert _same(copied, tree)
    copied["PluginSettings"]["Plugins"]["p"]["list"][1]["x"] = "changed"
    copied["TeamSettings"]["ExperimentalDefaultChannels"].append("c")
    assert tree["PluginSettings"]["Plugins"]["p"]["list"][1]["x"] is None
    assert tree["TeamSettings"]["ExperimentalDefaultChannels"] == []


def test_clone_falls_back_to_deepcopy_for_other_types() -> None:
    inner = [1]
    value: dict[str, Any] = {"t": (inner,), "s": {1, 2}, "o": OrderedDict(a=[1])}
    copied = clone(value)
    assert copied == value
    assert copied["t"][0] is not inner
    assert type(copied["o"]) is OrderedDict
    assert copied["o"]["a"] is not value["o"]["a"]
    assert copied["s"] is not value["s"]


def test_default_config_is_fresh_every_time() -> None:
    first = default_config()
    first["TeamSettings"]["SiteName"] = "mutated"
    assert default_config()["TeamSettings"]["SiteName"] == "Mattermost"


# --- access checks ------------------------------------------------------------------------------
@pytest.mark.parametrize("restricted", [False, True])
def test_access_checks_match_the_tag_rules(restricted: bool) -> None:
    extra_paths: list[Path_] = [("NoSuchSection", "Field"), ("TeamSettings", "NoSuchField")]
    paths = [path for path, _ in cfgmod.LEAVES] + extra_paths
    for _name, has_permission, any_read in _permission_checkers():
        readable = access.read_checker(has_permission, any_read)
        writable = access.write_checker(has_permission, restricted)
        for path in paths:
            expected_read = ref_can_read(path, has_permission, any_read)
            expected_write = ref_can_write(path, has_permission, restricted)
            assert access.can_read(path, has_permission, any_read) is expected_read, path
            assert readable(path) is expected_read, path
            assert access.can_write(path, has_permission, restricted) is expected_write, path
            assert writable(path) is expected_write, path


def test_access_tags_are_stable_tuples() -> None:
    path = ("EmailSettings", "SMTPServer")
    assert access_tags(path) == ("environment_smtp", "write_restrictable")
    assert access_tags(path) is access_tags(path)
    assert access_tags(("TeamSettings",)) == access_tags(("TeamSettings", "NoSuchField"))


# --- with_defaults, merge, filter_read ----------------------------------------------------------
@pytest.mark.parametrize("index", range(len(_partials())))
def test_with_defaults_matches_reference(index: int) -> None:
    partial = _partials()[index]
    before = copy.deepcopy(partial)
    assert _same(cfgmod.with_defaults(partial), ref_with_defaults(partial))
    assert _same(partial, before)


@pytest.mark.parametrize("patch", [False, True])
@pytest.mark.parametrize("index", range(len(_partials())))
def test_merge_matches_reference(index: int, patch: bool) -> None:
    incoming = _partials()[index]
    current = default_config()
    current["TeamSettings"]["SiteName"] = "Current"
    current["PluginSettings"]["Plugins"] = {"q": {"k": [1]}}
    del current["ClientRequirements"]  # a section missing from the current config
    for _name, has_permission, _any_read in _permission_checkers():
        writable = access.write_checker(has_permission, False)
        snapshot = copy.deepcopy((current, incoming))
        got = cfgmod.merge(current, incoming, writable, patch=patch)
        want = ref_merge(current, incoming, writable, patch=patch)
        assert _same(got, want)
        assert _same((current, incoming), snapshot)  # inputs untouched
        if incoming:
            # the result shares nothing mutable with its inputs
            got["PluginSettings"]["Plugins"]["new"] = {}
            assert "new" not in current["PluginSettings"]["Plugins"]
            assert "new" not in incoming.get("PluginSettings", {}).get("Plugins", {})


def test_filter_read_matches_reference() -> None:
    cfg = access.sanitize(default_config())
    del cfg["ClientRequirements"]
    cfg["TeamSettings"] = "not an object"
    for _name, has_permission, any_read in _permission_checkers():
        readable = access.read_checker(has_permission, any_read)
        before = copy.deepcopy(cfg)
        assert _same(access.filter_read(cfg, readable), ref_filter_read(cfg, readable))
        assert _same(cfg, before)
        owned = copy.deepcopy(cfg)
        result = access.filter_read_in_place(owned, readable)
        assert result is owned
        assert _same(owned, ref_filter_read(cfg, readable))


# --- the config file ----------------------------------------------------------------------------
def test_config_file_text_is_indented_json_across_saves(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    store = ConfigStore(path)
    versions: list[dict[str, Any]] = []
    cfg = default_config()
    versions.append(copy.deepcopy(cfg))
    cfg["TeamSettings"]["SiteName"] = "One"
    versions.append(copy.deepcopy(cfg))
    plugin_values: list[Any] = [1, True, 1.0, "1", None, [1, "a\nb"], {"n\u00e9w": {"x": []}}]
    for value in plugin_values:
        cfg["PluginSettings"]["Plugins"] = {"p": {"v": value}}
        versions.append(copy.deepcopy(cfg))
    cfg["ProductSettings"] = {}
    versions.append(copy.deepcopy(cfg))
    for version in versions:
        store.save(version)
        assert path.read_text(encoding="utf-8") == json.dumps(store.file_config, indent=2) + "\n"
    store.close()


# --- probes -------------------------------------------------------------------------------------
def _refused_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port  # nothing listens there any more


def test_repeated_refused_probes_build_no_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    port = _refused_port()
    smtp = {"SMTPServer": "127.0.0.1", "SMTPPort": str(port), "FeedbackEmail": "f@example.com"}
    s3 = {"AmazonS3Bucket": "b", "AmazonS3Endpoint": f"127.0.0.1:{port}", "AmazonS3SSL": True}
    smtp_failure = _probes.probe_smtp(smtp)
    s3_failure = _probes.probe_s3(s3)
    assert smtp_failure is not None
    assert "Connection refused" in smtp_failure.detail
    assert s3_failure is not None
    assert s3_failure.error_id == _probes.S3_CONNECTION
    # Building a TLS context loads the CA store (tens of milliseconds): once per process, not
    # once per request. Count constructions over repeated probes.
    built: list[int] = []

    class CountingContext(ssl.SSLContext):
        def __new__(cls, *args: Any, **kwargs: Any) -> CountingContext:
            built.append(1)
            return super().__new__(cls, *args, **kwargs)

    monkeypatch.setattr(ssl, "SSLContext", CountingContext)
    for _ in range(3):
        assert _probes.probe_smtp(smtp) is not None
        assert _probes.probe_s3(s3) is not None
    assert built == []


def test_tls_contexts_are_built_once() -> None:
    assert _probes._tls_context(False) is _probes._tls_context(False)
    assert _probes._tls_context(True) is not _probes._tls_context(False)
    assert _probes._tls_context(True).check_hostname is False
    assert _probes._s3_tls_context(True) is _probes._s3_tls_context(True)
    assert _probes._s3_tls_context(False).check_hostname is False


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [("FeedbackName", "a\nb", ValueError), ("FeedbackEmail", "\u00e9@example.com", UnicodeError)],
)
def test_smtp_message_errors_still_raise_before_connecting(
    field: str, value: str, error: type[Exception], monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts: list[object] = []
    monkeypatch.setattr(socket, "create_connection", lambda *a, **k: attempts.append(a))
    settings = {"SMTPServer": "127.0.0.1", "SMTPPort": "25", field: value}
    for _ in range(2):  # the second time from the check cache, which never caches a raise
        with pytest.raises(error):
            _probes.probe_smtp(settings)
    assert attempts == []
