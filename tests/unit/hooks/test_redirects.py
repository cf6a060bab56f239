"""Which addresses the redirect policy treats as internal (never a target unless the connection's is)."""

from __future__ import annotations

import pytest

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
