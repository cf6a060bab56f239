"""What every vendor's webhook verification shares: document ids from payloads, the secret check."""

from __future__ import annotations

import pytest

from airflow_provider_esign.hooks.webhook import WebhookClaim, document_id_from, secret_mismatch


@pytest.mark.parametrize(
    ("value", "uri", "document_id"),
    [
        ("doc-1_A.b", False, "doc-1_A.b"),
        ("doc-1\n", False, None),  # the whole value must match
        ("../etc/passwd", False, None),
        ("", False, None),
        ("x" * 129, False, None),
        (42, False, None),
        ("/api/v1/document/d0d0-11/", True, "d0d0-11"),
        ("/api/v1/document/d0d0-11/", False, None),
    ],
)
def test_document_id_from(value, uri, document_id):
    assert document_id_from(value, uri=uri) == document_id


@pytest.mark.parametrize(
    ("expected", "received", "reason"),
    [
        ("s3cret", "s3cret", None),
        ("s3cret", "guess", "wrong X-Secret header"),
        ("s3cret", None, "no X-Secret header"),
        ("", "anything", "the connection has no webhook_secret extra"),
        (None, "anything", "the connection has no webhook_secret extra"),
        ("s3cret", "s3cr\udce9t", "wrong X-Secret header"),  # undecodable bytes are just wrong
    ],
)
def test_secret_mismatch_says_why_without_a_value(expected, received, reason):
    assert secret_mismatch(expected, received, "X-Secret header") == reason


def test_a_rejected_claim_names_no_document():
    claim = WebhookClaim.reject("wrong secret")
    assert claim == WebhookClaim(rejection="wrong secret")
    assert claim.document_id is None and not claim.verified_sender
