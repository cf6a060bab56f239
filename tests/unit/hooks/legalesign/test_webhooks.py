"""Legalesign webhooks: the subscription body, the document an event names, and a delivery
authenticated only by the ``?token=`` of the subscribed URL."""

from __future__ import annotations

import pytest

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.hooks.legalesign.webhooks import (
    verify_delivery,
    webhook_body,
    webhook_document_id,
)

DOC = "d0d0d0d0-1111-2222-3333-444455556666"


def test_the_subscription_body_with_the_groups_uri():
    assert webhook_body("https://airflow.example/hook?token=t", "document.*", "acme-dev") == {
        "url": "https://airflow.example/hook?token=t",
        "eventFilter": "document.*",
        "group": "/api/v1/group/acme-dev/",
    }
    assert "group" not in webhook_body("http://127.0.0.1:8080/hook", "", None)


@pytest.mark.parametrize(
    ("url", "event_filter", "group", "field"),
    [
        ("ftp://x", "", None, "url"),
        ("https://x", "document.signed", None, "event_filter"),
        ("https://x", "", "acme dev!", "group"),
    ],
)
def test_a_bad_subscription_names_the_field(url, event_filter, group, field):
    with pytest.raises(ESignValidationError) as excinfo:
        webhook_body(url, event_filter, group)
    assert excinfo.value.field == field


@pytest.mark.parametrize(
    ("payload", "document_id"),
    [
        ({"object": "document", "data": {"uuid": DOC}}, DOC),
        ({"data": {"resourceUri": f"/api/v1/document/{DOC}/"}}, DOC),
        ({"object": "recipient", "data": {"document": f"/api/v1/document/{DOC}/"}}, DOC),
        ({"data": {"documentResourceUri": f"/api/v1/document/{DOC}/", "uuid": "recipient-1"}}, DOC),
        ({"object": "document", "data": {"uuid": "../x"}}, None),
        ({"data": "not an object"}, None),
        ({}, None),
    ],
)
def test_the_document_an_event_names(payload, document_id):
    assert webhook_document_id(payload) == document_id


def test_a_delivery_is_verified_by_the_url_token_only():
    extra = {"webhook_secret": "s3cret"}
    event = {"object": "document", "data": {"uuid": DOC}}
    claim = verify_delivery(extra, event, {"token": "s3cret"})
    assert (claim.document_id, claim.verified_sender, claim.announces_completion) == (DOC, True, False)
    assert verify_delivery(extra, event, {"token": "guess"}).rejection == "wrong token query parameter"
    assert verify_delivery(extra, event, {}).rejection == "no token query parameter"
    assert (
        verify_delivery({}, event, {"token": "s3cret"}).rejection
        == "the connection has no webhook_secret extra"
    )


def test_an_authenticated_delivery_naming_no_document_is_a_bad_request():
    claim = verify_delivery({"webhook_secret": "s3cret"}, {"data": {}}, {"token": "s3cret"})
    assert claim.verified_sender and claim.document_id is None
    assert claim.bad_request == "Body must be a Legalesign event naming a document"
