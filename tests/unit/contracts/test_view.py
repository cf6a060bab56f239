"""Pieces of the Contracts page's JSON: only http(s) links, the status filters, what a vendor offers."""

from __future__ import annotations

import pytest

from airflow_provider_esign.contracts.view import _matches_status, capabilities, safe_url


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        ("https://app.wesignature.com/edit/1", "https://app.wesignature.com/edit/1"),
        (" http://localhost:8080/x ", "http://localhost:8080/x"),
        ("javascript:alert(1)", None),
        ("data:text/html,<b>x</b>", None),
        ("/relative/path", None),
        ("https://", None),
        (None, None),
        (42, None),
    ],
)
def test_only_absolute_http_links_are_shown(url, safe):
    assert safe_url(url) == safe


@pytest.mark.parametrize(
    ("status", "wanted", "matches"),
    [
        ("SENT", "IN_FLIGHT", True),
        ("COMPLETED", "IN_FLIGHT", False),
        ("DECLINED", "FAILED", True),
        ("VOIDED", "FAILED", True),
        ("COMPLETED", "FAILED", False),
        ("SIGNED", "SIGNED", True),
        ("SIGNED", "COMPLETED", False),
    ],
)
def test_status_filters(status, wanted, matches):
    assert _matches_status(status, wanted) is matches


def test_what_each_vendor_offers():
    assert capabilities("legalesign") == (True, True)
    assert capabilities("wesignature")[1] is False  # no cancel API
    assert capabilities("no-such-vendor") == (False, False)
