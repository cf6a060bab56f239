"""Which addresses the redirect policy treats as internal (never a target unless the connection's is)."""

from __future__ import annotations

import hashlib
import io

import pytest

from airflow_provider_esign.hooks.legalesign import LegalesignHook
from airflow_provider_esign.hooks.redirects import address_is_internal


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.1",
        "127.0.0.1",
        "169.254.169.254",  # cloud metadata
        "::1",
        "fe80::1%eth0",
        "::ffff:10.0.0.1",  # IPv4-mapped
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "not an address",
    ],
)
def test_internal_addresses_including_ipv4_inside_ipv6(address):
    assert address_is_internal(address)


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "2001:4860:4860::8888", "2002:808:808::1", "64:ff9b::808:808"]
)
def test_public_addresses(address):
    assert not address_is_internal(address)


PDF = b"%PDF-1.7\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"


# ----------------------------------------------------------------------------- Legalesign
LEG = "https://legalesign.test/api/v1/"


DOC_ID = "d0d0d0d0-1111-2222-3333-444455556666"


def test_legalesign_redirect_on_the_api_host_is_fetched_without_the_api_key(
    make_connection, clock, requests_mock
):
    make_connection("leg_drift", "legalesign", host=LEG, login="user", password="secret", group="acme-dev")
    hook = LegalesignHook("leg_drift", sleep=clock.sleep, clock=clock)
    document = {
        "uuid": DOC_ID,
        "status": 30,
        "download_final": True,
        "hash_value": hashlib.sha256(PDF).hexdigest(),
        "signers": [],
    }
    # A short-lived link on the same host as the API: requests would keep the Authorization header.
    target = LEG + "storage/final/abc.pdf?X-Amz-Signature=xyz"
    requests_mock.get(LEG + f"document/{DOC_ID}/", json=document)
    requests_mock.get(LEG + f"pdf/{DOC_ID}/", status_code=302, headers={"Location": target})
    requests_mock.get(target, content=PDF, headers={"Content-Type": "application/pdf"})
    out = io.BytesIO()

    hook.download_document(DOC_ID, out)

    assert out.getvalue() == PDF
    pdf_request, redirected = requests_mock.request_history[-2:]
    assert pdf_request.headers["Authorization"] == "ApiKey user:secret"
    assert redirected.url == target
    assert "Authorization" not in redirected.headers
