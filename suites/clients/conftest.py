"""The client-compatibility suite: the official Mattermost clients, called as their users call
them, against the target.

Every test here carries the ``clients`` marker (registered below), so ``pytest -m clients`` runs
this suite alone. The clients are shared by the session: one Node.js driver process for the
TypeScript client (one per xdist worker), one Python driver per role.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from mmconform.contract import ANONYMOUS
from mmconform.harness import Target, Transport, missing_role_reason
from suites.clients.node_test import ClientUnavailable, NodeDriver, find_node, install_client

CLIENTS_MARK = "clients"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{CLIENTS_MARK}: a client-compatibility test (an official Mattermost client against the "
        "target); `-m clients` runs them alone",
    )


def pytest_itemcollected(item: pytest.Item) -> None:
    item.add_marker(getattr(pytest.mark, CLIENTS_MARK))


def _node_environment(transport: Transport) -> dict[str, str]:
    env = dict(os.environ)
    if transport.ca_bundle is not None:
        env["NODE_EXTRA_CA_CERTS"] = str(transport.ca_bundle)
    if transport.insecure:
        env["NODE_TLS_REJECT_UNAUTHORIZED"] = "0"
    return env


@pytest.fixture(scope="session")
def typescript_client(target: Target, transport: Transport) -> Iterator[NodeDriver]:
    """The pinned ``@mattermost/client`` in one Node.js process, a ``Client4`` per role
    (skips, with the reason, when Node.js or the client cannot be had)."""
    try:
        node, npm = find_node()
        modules = install_client(npm)
        driver = NodeDriver(
            node,
            modules,
            target.url,
            {role: target.token(role) for role in target.roles},
            timeout=transport.timeout + 2,
            env=_node_environment(transport),
        )
    except ClientUnavailable as exc:
        pytest.skip(f"TypeScript client unavailable: {exc}")
    yield driver
    driver.close()


PythonDriverFor = Callable[[str], Any]


@pytest.fixture(scope="session")
def python_driver_for(target: Target, transport: Transport) -> Iterator[PythonDriverFor]:
    """``python_driver_for(role)`` -> a shared ``mattermostautodriver.TypedDriver`` holding
    that role's token (``anonymous``: none; ``local``: the local-mode socket). Skips when the
    driver is not installed, the role or socket was not given, or the target's URL has a path
    the driver cannot address."""
    try:
        from mattermostautodriver import TypedDriver
    except ImportError:
        pytest.skip(
            "Python driver unavailable: mattermostautodriver is not installed "
            "(pip install 'mattermostautodriver>=10,<12', or the dev extra)"
        )
    parts = urlsplit(target.url)
    if parts.path.strip("/"):
        pytest.skip(
            f"Python driver unavailable: it addresses <scheme>://<host>:<port>/api/v4 only, and "
            f"the target's URL has the path {parts.path!r}"
        )
    drivers: dict[str, Any] = {}

    def get(role: str) -> Any:
        if role not in drivers:
            options: dict[str, Any] = {
                "url": parts.hostname or "localhost",
                "port": parts.port or (443 if parts.scheme == "https" else 80),
                "scheme": parts.scheme,
                "verify": transport.verify,
                "timeout": transport.timeout,
                "request_timeout": transport.timeout,
                "max_retries": 0,
            }
            if role == "local":
                if not target.local_socket:
                    pytest.skip("local mode not available: no local_socket in the target")
                options.update(
                    url="localhost",
                    port=8065,
                    scheme="http",
                    transport=httpx.HTTPTransport(uds=target.local_socket),
                )
            elif role != ANONYMOUS and role not in target.tokens:
                pytest.skip(missing_role_reason(role, target))
            driver = TypedDriver(options)
            if role not in (ANONYMOUS, "local"):
                driver.client.token = target.token(role)
            driver.last_response = None

            def remember(response: httpx.Response, driver: Any = driver) -> None:
                driver.last_response = response

            driver.client.client.event_hooks["response"].append(remember)
            drivers[role] = driver
        return drivers[role]

    yield get
    for driver in drivers.values():
        driver.client.close()
