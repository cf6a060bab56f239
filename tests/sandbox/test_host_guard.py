"""DNS-rebinding protection: the sandbox answers only requests addressed to a loopback name it serves."""

from __future__ import annotations

import http.client

import pytest

from esign_sandbox import Sandbox
from esign_sandbox.hostguard import HostGuard, host_name


def _request(sb: Sandbox, method: str, path: str, host: str | None) -> tuple[int, bytes]:
    """One raw HTTP/1.1 request with exactly this Host header (None: no Host header at all)."""
    conn = http.client.HTTPConnection("127.0.0.1", sb.port, timeout=10)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        if host is not None:
            conn.putheader("Host", host)
        conn.putheader("Content-Length", "0")
        conn.endheaders()
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "host", ["attacker.example", "attacker.example:8765", "127.0.0.1.nip.io", "10.0.0.5"]
)
@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/_sandbox/config"), ("POST", "/_sandbox/reset"), ("GET", "/legalesign/api/v1/group/")],
)
def test_a_forged_host_reaches_neither_config_credentials_nor_reset(esign_sandbox_clean, host, method, path):
    sb = esign_sandbox_clean
    sb.create_document("legalesign", status="sent")
    status, body = _request(sb, method, path, host)
    assert status == 400 and b"Invalid Host header" in body
    assert b"secret" not in body
    assert len(sb.documents("legalesign")) == 1  # the reset did not run
    assert sb.requests() == []  # refused before the vendor emulation (and its journal) saw it


def test_no_host_header_is_refused(esign_sandbox_clean):
    assert _request(esign_sandbox_clean, "GET", "/_sandbox/config", None)[0] == 400


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.1:{port}", "localhost:{port}", "LOCALHOST.", "api.localhost"]
)
def test_loopback_hosts_are_served(esign_sandbox_clean, host):
    sb = esign_sandbox_clean
    status, body = _request(sb, "GET", "/_sandbox/config", host.format(port=sb.port))
    assert status == 200 and b"legalesign_secret" in body


def test_allowed_hosts_and_the_bound_address():
    guard = HostGuard(app=None, bind_host="192.168.1.20", allowed_hosts=("sandbox", "Sandbox.Internal"))  # type: ignore[arg-type]
    for ok in ("sandbox", "sandbox:8765", "sandbox.internal", "192.168.1.20:8765", "[::1]:8765", "127.9.9.9"):
        assert guard.allows(ok), ok
    for bad in ("sandbox.evil", "192.168.1.21", "evil.com", "", "[::2]:1", "[::1"):
        assert not guard.allows(bad), bad
    wildcard = HostGuard(app=None, bind_host="0.0.0.0")  # type: ignore[arg-type]
    assert not wildcard.allows("0.0.0.0") and not wildcard.allows("192.168.1.20")
    assert host_name("[::1]:80") == "::1" and host_name("Example.COM.:1") == "example.com"


def test_the_command_line_takes_allowed_hosts():
    from esign_sandbox.__main__ import build_parser

    args = build_parser().parse_args(["--allowed-host", "sandbox", "--allowed-host", "esign.test"])
    assert args.allowed_host == ["sandbox", "esign.test"]
