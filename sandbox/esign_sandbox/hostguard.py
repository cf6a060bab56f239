"""
DNS-rebinding protection: the sandbox answers only requests addressed to a host name it serves.

A web page on any site can make a browser send requests to ``127.0.0.1`` through a domain it controls
that resolves there (DNS rebinding). Such requests carry the attacker's domain in ``Host``. The sandbox
serves its configuration, credentials and a reset endpoint without authentication (it is a local test
tool), so it refuses every request whose ``Host`` is not a loopback name or address, the address it is
bound to, or a name the operator allowed (``--allowed-host``), like Django's ``ALLOWED_HOSTS`` and Vite's
``server.allowedHosts``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

_WILDCARDS = frozenset({"", "0.0.0.0", "::"})


def host_name(header: str) -> str:
    """:return: the host of a ``Host`` header value, without port or brackets, lower-cased."""
    value = header.strip().lower()
    if value.startswith("["):  # [::1]:8765
        return value[1 : value.find("]")] if "]" in value else ""
    if value.count(":") == 1:  # name:port (more colons: a bare IPv6 address, which is invalid here)
        value = value.split(":", 1)[0]
    return value.rstrip(".")


def is_loopback(name: str) -> bool:
    """:return: whether ``name`` is ``localhost`` (or a ``*.localhost`` name, RFC 6761) or a loopback IP."""
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


class HostGuard:
    """
    Outermost ASGI layer: answers 400 to an HTTP request whose ``Host`` the sandbox does not serve.

    :param app: the application to protect.
    :param bind_host: the interface the server is bound to (allowed when it is a specific address).
    :param allowed_hosts: further host names or addresses to accept (e.g. a Compose service name).
    """

    def __init__(self, app: ASGIApp, bind_host: str = "127.0.0.1", allowed_hosts: Iterable[str] = ()) -> None:
        self.app = app
        extra = {host_name(h) for h in allowed_hosts}
        if bind_host not in _WILDCARDS:
            extra.add(host_name(bind_host if ":" not in bind_host else f"[{bind_host}]"))
        self.allowed = frozenset(extra)

    def allows(self, header: str | None) -> bool:
        """:return: whether a request with this ``Host`` header value is served."""
        if not header:
            return False
        name = host_name(header)
        return bool(name) and (is_loopback(name) or name in self.allowed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope.get("headers") or [])
            raw = headers.get(b"host")
            if not self.allows(raw.decode("latin-1") if raw is not None else None):
                body = b"Invalid Host header: the sandbox serves loopback names only (see --allowed-host)\n"
                await send(
                    {
                        "type": "http.response.start",
                        "status": 400,
                        "headers": [
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)
