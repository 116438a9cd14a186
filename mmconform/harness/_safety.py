"""Guards that keep the suites from damaging the server they test.

* which operations may run (destructive ones only with ``--allow-destructive``; operations newer
  than the target, or removed before it, are deselected);
* config snapshots and their comparison;
* clearing the server-busy flag.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from mmconform.harness._preflight import parse_version

HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@dataclass(frozen=True)
class OperationInfo:
    """The annotations of one operation, read from the OpenAPI document."""

    operation_id: str
    method: str
    path: str
    auth: str
    destructive: bool
    global_state: tuple[str, ...]
    min_version: str | None
    removed_in: str | None
    parameter_min_versions: Mapping[str, str]
    config_gated: bool = False

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def grouping_states(self) -> tuple[str, ...]:
        """States that decide the xdist group: what it changes, plus ``config`` when its
        behaviour depends on config settings (x-mm-config-gates)."""
        states = set(self.global_state)
        if self.config_gated:
            states.add("config")
        return tuple(sorted(states))


def iter_operations(document: Mapping[str, Any]) -> Iterator[OperationInfo]:
    for path, item in document.get("paths", {}).items():
        shared = item.get("parameters", [])
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, dict):
                continue
            state = operation.get("x-mm-global-state") or []
            if isinstance(state, str):
                state = [state]
            params: dict[str, str] = {}
            for parameter in [*shared, *operation.get("parameters", [])]:
                if isinstance(parameter, dict) and parameter.get("x-mm-min-version"):
                    params[str(parameter.get("name"))] = str(parameter["x-mm-min-version"])
            yield OperationInfo(
                operation_id=str(operation.get("operationId", f"{method} {path}")),
                method=method,
                path=path,
                auth=str(operation.get("x-mm-auth", "session")),
                destructive=bool(operation.get("x-mm-destructive", False)),
                global_state=tuple(sorted(str(s) for s in state)),
                min_version=_opt_str(operation.get("x-mm-min-version")),
                removed_in=_opt_str(operation.get("x-mm-removed-in")),
                parameter_min_versions=params,
                config_gated=bool(operation.get("x-mm-config-gates")),
            )


def _opt_str(value: Any) -> str | None:
    return None if value in (None, "") else str(value)


def version_exclusion(info: OperationInfo, server_version: str | None) -> str | None:
    """Why an operation must not be tested against this server version, or None."""
    current = parse_version(server_version)
    if current is None:
        return None
    minimum = parse_version(info.min_version)
    if minimum is not None and current < minimum:
        return (
            f"{info.operation_id} needs server {info.min_version}+ (x-mm-min-version); "
            f"target is {server_version}"
        )
    removed = parse_version(info.removed_in)
    if removed is not None and current >= removed:
        return (
            f"{info.operation_id} was removed in {info.removed_in} (x-mm-removed-in); "
            f"target is {server_version}"
        )
    return None


def unsupported_parameters(info: OperationInfo, server_version: str | None) -> tuple[str, ...]:
    """Parameters of an operation that the target's version does not know yet."""
    current = parse_version(server_version)
    if current is None:
        return ()
    out = []
    for name, minimum in info.parameter_min_versions.items():
        parsed = parse_version(minimum)
        if parsed is not None and current < parsed:
            out.append(name)
    return tuple(sorted(out))


def destructive_exclusion(info: OperationInfo, allow_destructive: bool) -> str | None:
    if info.destructive and not allow_destructive:
        return (
            f"{info.operation_id} is destructive (x-mm-destructive) and --allow-destructive "
            "is off for this target"
        )
    return None


def state_groups(state_sets: list[tuple[str, ...]]) -> dict[str, str]:
    """Map each global-state name to a group name shared by every state that some operation
    (or test) touches together (connected components), so that one xdist group serialises all
    of them."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            x = parent[x]
        return x

    for state_set in state_sets:
        states = list(state_set)
        for state in states:
            find(state)
        for other in states[1:]:
            a, b = find(states[0]), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    members: dict[str, list[str]] = {}
    for state in parent:
        members.setdefault(find(state), []).append(state)
    return {state: "mm-state-" + "+".join(sorted(members[find(state)])) for state in parent}


# --- config snapshot -----------------------------------------------------------------------


def snapshot_config(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/config")
    response.raise_for_status()
    data = response.json()
    if not isinstance(data, dict):
        raise ValueError(f"GET /config returned {type(data).__name__}, not an object")
    return data


def restore_config(client: httpx.Client, snapshot: Mapping[str, Any]) -> None:
    """Write a snapshot back (masked secrets in it keep the stored values, as on real servers)."""
    response = client.put("/config", json=dict(snapshot))
    response.raise_for_status()


def config_differences(before: Any, after: Any, prefix: str = "", limit: int = 20) -> list[str]:
    """Dotted paths where two config documents differ (at most ``limit`` of them)."""
    out: list[str] = []

    def walk(a: Any, b: Any, path: str) -> None:
        if len(out) >= limit:
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b), key=str):
                sub = f"{path}.{key}" if path else str(key)
                if key not in a:
                    out.append(f"{sub}: added {b[key]!r}")
                elif key not in b:
                    out.append(f"{sub}: removed (was {a[key]!r})")
                else:
                    walk(a[key], b[key], sub)
        elif a != b:
            out.append(f"{path or '<root>'}: {a!r} -> {b!r}")

    walk(before, after, prefix)
    return out


# --- server busy ------------------------------------------------------------------------------


def clear_server_busy(client: httpx.Client) -> int:
    """DELETE /server_busy; returns the status code (the caller decides what a failure means)."""
    return client.delete("/server_busy").status_code


def server_busy(client: httpx.Client) -> bool | None:
    response = client.get("/server_busy")
    if response.status_code != 200:
        return None
    body = response.json()
    return bool(body.get("busy")) if isinstance(body, dict) else None
