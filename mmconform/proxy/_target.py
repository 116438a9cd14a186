"""Reading the target file the proxy stands in front of, and writing the one that points at it."""

from __future__ import annotations

import copy
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import tomli_w

__all__ = ["TargetFileError", "UpstreamTarget", "read_target_file", "write_target_file"]


class TargetFileError(ValueError):
    """The target file is missing, is not TOML, or lacks what the proxy needs."""


@dataclass(frozen=True)
class UpstreamTarget:
    """The server behind the proxy, as its target file describes it."""

    #: base URL without a trailing slash and without /api/v4
    url: str
    #: role -> token
    tokens: Mapping[str, str]
    #: the whole file as read (kept to write the proxy's own target file)
    document: Mapping[str, Any]
    source: Path

    @property
    def roles_by_token(self) -> Mapping[str, str]:
        return MappingProxyType({token: role for role, token in self.tokens.items()})

    def proxied_document(self, proxy_url: str) -> dict[str, Any]:
        """The same target (tokens, version, features, license file, local socket), reached
        through ``proxy_url``. A relative ``license_file`` is made absolute, since the written
        file may live in another folder."""
        document = copy.deepcopy(dict(self.document))
        target = dict(document.get("target", {}))
        target["url"] = proxy_url
        license_file = target.get("license_file")
        if isinstance(license_file, str) and license_file and not Path(license_file).is_absolute():
            target["license_file"] = str((self.source.parent / license_file).resolve())
        document["target"] = target
        return document


def read_target_file(path: Path) -> UpstreamTarget:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise TargetFileError(f"cannot read target file {path}: {exc.strerror or exc}") from None
    try:
        document = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise TargetFileError(f"target file {path} is not valid TOML: {exc}") from None
    target = document.get("target")
    if not isinstance(target, dict):
        raise TargetFileError(f"target file {path} has no [target] table")
    url = target.get("url")
    if not isinstance(url, str) or not url.strip():
        raise TargetFileError(f"target file {path}: [target] url is missing")
    url = url.strip().rstrip("/")
    if url.endswith("/api/v4"):
        url = url[: -len("/api/v4")]
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetFileError(
            f"target file {path}: [target] url {url!r} is not an http(s) URL with a host"
        )
    tokens_table = document.get("tokens", {})
    if not isinstance(tokens_table, dict):
        raise TargetFileError(f"target file {path}: [tokens] must be a table of role = token")
    tokens: dict[str, str] = {}
    for role, token in tokens_table.items():
        if not isinstance(token, str) or not token:
            raise TargetFileError(f"target file {path}: token of {role!r} is not a string")
        tokens[str(role)] = token
    return UpstreamTarget(
        url=url,
        tokens=MappingProxyType(tokens),
        document=MappingProxyType(document),
        source=Path(path).resolve(),
    )


def write_target_file(document: Mapping[str, Any], path: Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(tomli_w.dumps(dict(document)), encoding="utf-8")
    tmp.replace(out)
    return out
