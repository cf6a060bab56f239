"""Legalesign's wire format: status codes, resource URIs, group slugs, 400 bodies, checked answers."""

from __future__ import annotations

import pytest

from airflow_provider_esign.exceptions import ESignMalformedResponseError, ESignValidationError
from airflow_provider_esign.hooks.legalesign import wire
from airflow_provider_esign.hooks.settings import ConnectionSettings
from airflow_provider_esign.models import DocumentStatus, SignerStatus

S = DocumentStatus


@pytest.mark.parametrize(
    ("status", "signers", "final", "expected"),
    [
        (10, [4, 5], False, S.DRAFT),
        (10, [], False, S.SENT),
        (10, [10, 15], False, S.SENT),
        (10, [40, 10], False, S.PARTIALLY_SIGNED),
        (10, [40, 60], False, S.DECLINED),  # a rejecting signer declines the document
        (20, [40, 10], False, S.PARTIALLY_SIGNED),
        (30, [40, 40], False, S.SIGNED),
        (30, [40, 40], True, S.COMPLETED),  # only with the final PDF
        (40, [], True, S.VOIDED),
        (50, [], False, S.DECLINED),
        (99, [], False, None),
        (None, [], False, None),
    ],
)
def test_document_status(status, signers, final, expected):
    assert wire.map_document_status(status, signers, final) is expected


def test_signer_status():
    assert wire.map_signer_status(None) is SignerStatus.PENDING
    assert wire.map_signer_status(40) is SignerStatus.SIGNED
    assert wire.map_signer_status(1234) is SignerStatus.SENT  # unknown codes count as sent


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/api/v1/document/abc-1/", "abc-1"),
        ("https://eu-api.legalesign.com/api/v1/signer/s-9", "s-9"),
        ("/", None),
        ("", None),
        (None, None),
    ],
)
def test_id_from_uri(value, expected):
    assert wire.id_from_uri(value) == expected


def test_template_uris():
    assert wire.templatepdf_uri("t-1") == "/api/v1/templatepdf/t-1/"
    assert wire.templatepdf_uri("/api/v1/templatepdf/t-1/") == "/api/v1/templatepdf/t-1/"
    assert wire.group_uri("acme") == "/api/v1/group/acme/"


def test_a_400_bodys_field_errors_as_one_line():
    body = {"document": {"name": ["too long", "bad chars"], "signers": [{"email": ["invalid"]}]}}
    assert wire.error_text(body) == "document.name: too long; bad chars; document.signers[0].email: invalid"
    assert wire.error_text({"detail": "plain"}) is None
    assert wire.rejects_user({"document": {"user": ["not in group"]}})
    assert not wire.rejects_user(body)


def test_group_slugs_are_checked_and_lowercase():
    assert wire.check_group("group", "acme-dev_2") == "acme-dev_2"
    with pytest.raises(ESignValidationError, match="must be lowercase: 'acme'"):
        wire.check_group("group", "Acme")
    with pytest.raises(ESignValidationError, match="is not a group slug"):
        wire.check_group("group", "acme dev")


def test_the_group_is_the_override_else_the_connections_required_extra():
    settings = ConnectionSettings("leg", "https://x/", "u", "p", {"group": "acme"})
    assert wire.group_slug(settings, purpose="send") == "acme"
    assert wire.group_slug(settings, "other", purpose="send") == "other"
    bare = ConnectionSettings("leg", "https://x/", "u", "p", {})
    with pytest.raises(ESignValidationError) as excinfo:
        wire.group_slug(bare, purpose="send documents")
    assert excinfo.value.field == "connection 'leg' extra.group" and "to send documents" in excinfo.value.rule


def test_the_auth_header_and_message_templates():
    assert (
        wire.auth_header(ConnectionSettings("leg", "https://x/", "user", "secret", {}))
        == "ApiKey user:secret"
    )
    assert wire.is_message_template("#Reminder") and wire.is_message_template("default")
    assert not wire.is_message_template("Please sign")


def test_a_document_answer_needs_an_id_and_a_status():
    assert wire.document_id({"resource_uri": "/api/v1/document/abc/"}) == "abc"
    good = {"uuid": "abc", "status": 10}
    assert wire.document_object(good, conn_id="c", operation="get_document") is good
    for junk in (None, {}, [], {"uuid": "abc"}, {"status": 10}):
        with pytest.raises(ESignMalformedResponseError):
            wire.document_object(junk, conn_id="c", operation="get_document")


def test_a_list_answer_is_never_read_as_an_empty_list_when_it_is_junk():
    good = {"meta": {"total_count": 1}, "objects": [{"uuid": "abc"}]}
    assert wire.list_objects(good, conn_id="c", operation="list") is good
    assert wire.list_objects({"objects": [{"name": "x"}]}, conn_id="c", operation="list", documents=False)
    for junk in (
        {},
        {"objects": None},
        {"objects": [{"name": "no id"}]},
        {"objects": [], "meta": []},
        "<html>",
    ):
        with pytest.raises(ESignMalformedResponseError):
            wire.list_objects(junk, conn_id="c", operation="list")
