"""eSignBase's wire format: scopes and the client's Basic auth, checked answers (junk is retried,
never read as an empty list or a refusal), token lifetimes, documents and the create body."""

from __future__ import annotations

import base64

import pytest

from airflow_provider_esign.exceptions import ESignAuthError, ESignMalformedResponseError
from airflow_provider_esign.hooks.esignbase import wire
from airflow_provider_esign.hooks.settings import ConnectionSettings
from airflow_provider_esign.models import DocumentStatus, SendRequest, Signer, SignerStatus


def settings(**extra) -> ConnectionSettings:
    return ConnectionSettings("esb", "https://esignbase.test/", "client-id", "client-secret", extra)


def test_scopes_default_to_all_and_sandbox_is_added_once():
    assert wire.scopes(settings()) == ["all"]
    assert wire.scopes(settings(scopes="read write", sandbox="true")) == ["read", "write", "sandbox"]
    assert wire.scopes(settings(scope=["all", "sandbox"], sandbox=True)) == ["all", "sandbox"]


def test_the_token_request_authenticates_the_client_with_basic_auth():
    request = wire.token_request(settings(sandbox=True))
    assert request.data == {"grant_type": "client_credentials", "scope": "all sandbox"}
    scheme, encoded = request.headers["Authorization"].split()
    assert scheme == "Basic" and base64.b64decode(encoded) == b"client-id:client-secret"
    assert request.auth is False and request.check_answer is wire.token_shape


def test_a_token_answer_gives_the_token_and_a_sane_lifetime():
    assert wire.token_answer({"access_token": "t", "expires_in": 600}, conn_id="c") == ("t", 600.0)
    for lifetime in (None, "soon", 0, -5, float("inf")):
        assert wire.token_answer({"access_token": "t", "expires_in": lifetime}, conn_id="c") == (
            "t",
            wire.TOKEN_LIFETIME,
        )
    with pytest.raises(ESignAuthError):
        wire.token_answer({"error": "invalid_client"}, conn_id="c")  # a refusal
    with pytest.raises(ESignMalformedResponseError):
        wire.token_answer("<html>", conn_id="c")  # a proxy page: retried


def test_checked_answers():
    assert wire.document_object({"document_id": "d", "status": "DRAFT"}, conn_id="c", operation="o")
    assert (
        wire.document_list(
            {"documents": [{"id": "d", "status": "SENT"}], "count": "7"}, conn_id="c", operation="o"
        )[1]
        == 7
    )
    assert wire.template_object({"form_role_names": ["a"]}, conn_id="c", operation="o")
    assert wire.template_list([], conn_id="c", operation="o") == []
    assert wire.credits_value({"credits": "12"}, conn_id="c", operation="o") == 12
    junk = [
        (wire.document_object, {"id": "d"}),
        (wire.document_list, {"items": []}),
        (wire.document_list, {"documents": [], "count": "many"}),
        (wire.document_list, {"documents": [{"name": "no id"}]}),
        (wire.template_object, {}),
        (wire.template_list, {"templates": []}),
        (wire.credits_value, {"credits": True}),
        (wire.credits_value, {"credits": "lots"}),
        (wire.token_shape, ["not", "an", "object"]),
    ]
    for check, body in junk:
        with pytest.raises(ESignMalformedResponseError):
            check(body, conn_id="c", operation="o")


def test_signers_are_signed_only_once_the_document_is():
    raw = {
        "id": "d-1", "name": "NDA", "status": "SENT", "ctime": "2026-03-01T09:00:00Z",
        "recipients": [{"email": "a@x.io", "first_name": "Ada", "last_name": "Lovelace", "form_role": "signee_1"}],
        "user_defined_metadata": {"ref": 7},
    }  # fmt: skip
    sent = wire.parse_document(raw, "esignbase", DocumentStatus.SENT)
    (signer,) = sent.signers
    assert (signer.name, signer.role, signer.order, signer.status) == (
        "Ada Lovelace",
        "signee_1",
        0,
        SignerStatus.SENT,
    )
    assert sent.metadata == {"ref": "7"} and sent.created_at == "2026-03-01T09:00:00Z"
    assert (
        wire.parse_document(raw, "esignbase", DocumentStatus.COMPLETED).signers[0].status
        is SignerStatus.SIGNED
    )
    assert (
        wire.parse_document(raw, "esignbase", DocumentStatus.DRAFT).signers[0].status is SignerStatus.PENDING
    )


def test_the_create_body_carries_the_idempotency_key_in_the_metadata():
    request = SendRequest(
        "NDA", (Signer("Ada King Lovelace", " a@x.io ", role="signee_1"),), template_id="tpl-1",
        metadata={"ref": "r-1"}, vendor_options={"locale": "de"}, expires_at="2030-01-01T00:00:00+00:00",
    )  # fmt: skip
    body = wire.create_body(request, "key-1")
    assert body["recipients"] == [
        {
            "email": "a@x.io",
            "first_name": "Ada King",
            "last_name": "Lovelace",
            "role_name": "signee_1",
            "locale": "de",
        }
    ]
    assert body["user_defined_metadata"] == {"ref": "r-1", wire.IDEMPOTENCY_METADATA_KEY: "key-1"}
    assert body["expiration_date"].startswith("2030-01-01T00:00:00")
    created = wire.created_document("d-1", "DRAFT", request, body)
    assert created["recipients"][0]["form_role"] == "signee_1" and created["status"] == "DRAFT"
    assert "user_defined_metadata" not in wire.create_body(SendRequest("NDA", (), template_id="t"), None)
