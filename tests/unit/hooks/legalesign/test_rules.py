"""Legalesign's rules, checked before any HTTP call: API credentials, group and user URIs, a template
PDF id or a local file, signer names/e-mails/roles/order, options, tags, the message template."""

from __future__ import annotations

import pytest

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.hooks.legalesign import rules
from airflow_provider_esign.hooks.legalesign.wire import SEND_OPTIONS
from airflow_provider_esign.hooks.settings import ConnectionSettings
from airflow_provider_esign.models import SendRequest, Signer

TEMPLATE = "6c0b3d9e-2f4a-4b1c-9a7e-1d2c3b4a5f6e"
ADA = Signer("Ada Lovelace", "ada@example.com")


def settings(login="user", password="secret", **extra) -> ConnectionSettings:
    return ConnectionSettings(
        "leg", "https://legalesign.test/api/v1/", login, password, {"group": "acme-dev", **extra}
    )


def request(**changes) -> SendRequest:
    return SendRequest(**{"name": "NDA", "signers": (ADA,), "template_id": TEMPLATE, **changes})


def field_of(call) -> str:
    with pytest.raises(ESignValidationError) as excinfo:
        call()
    return excinfo.value.field


def check(**changes) -> None:
    rules.validate_send_request(request(**changes), settings(), SEND_OPTIONS)


def test_the_connection_needs_credentials_and_well_formed_group_and_user():
    rules.validate_settings(settings(user="/api/v1/user/u-1/"))
    assert field_of(lambda: rules.validate_settings(settings(password=""))) == "connection 'leg'"
    assert (
        field_of(lambda: rules.validate_settings(settings(group="acme dev!")))
        == "connection 'leg' extra.group"
    )
    assert field_of(lambda: rules.validate_settings(settings(user="u-1"))) == "connection 'leg' extra.user"


def test_valid_requests_pass(tmp_path):
    pdf = tmp_path / "nda.pdf"
    pdf.write_bytes(b"%PDF-1.7\n")
    check()
    check(template_id=f"/api/v1/templatepdf/{TEMPLATE}/")
    check(template_id=None, file=str(pdf), vendor_options={"process_tags": True})
    check(template_id=None, file="s3://bucket/nda.pdf")  # object storage is checked when read
    check(metadata={"tag": "supplier 42", "tag1": "q3"}, message="#Reminder", subject="Please sign")
    check(
        signers=(
            Signer("Ada Lovelace", "a@x.io", order=1),
            Signer("Alan Turing", "b@x.io", order=0, role="witness"),
        )
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "N" * 61}, "name"),
        ({"template_id": "<html>"}, "template_id"),
        ({"template_id": None, "file": "/no/such/file.pdf"}, "file"),
        ({"signers": (Signer("Ada Lovelace", "a" * 71 + "@x.io"),)}, "signers[0].email"),
        ({"signers": (Signer("Ada Lovelace", "a@x.io", role="boss"),)}, "signers[0].role"),
        (
            {"signers": (Signer("Ada Lovelace", "a@x.io", order=1), Signer("Alan Turing", "b@x.io"))},
            "signers",
        ),
        ({"vendor_options": {"signature_type": 2}}, "vendor_options['signature_type']"),
        ({"vendor_options": {"redirect": "http://example.com/"}}, "vendor_options['redirect']"),
        ({"vendor_options": {"process_tags": True}}, "vendor_options['process_tags']"),
        ({"vendor_options": {"unknown": 1}}, "vendor_options"),
        ({"metadata": {"tag2": "mine"}}, "metadata['tag2']"),
        ({"metadata": {"ref": "x"}}, "metadata['ref']"),
        ({"metadata": {"tag": "bad\nvalue"}}, "metadata['tag']"),
        ({"metadata": {"tag": "x"}, "vendor_options": {"tag": "x"}}, "metadata['tag']"),
        ({"message": "Please sign"}, "message"),
        ({"subject": "S" * 151}, "subject"),
        ({"expires_at": "whenever"}, "expires_at"),
    ],
)
def test_what_legalesign_cannot_take_is_refused_naming_the_field(changes, field):
    assert field_of(lambda: check(**changes)).startswith(field)


def test_a_folder_is_not_a_file(tmp_path):
    with pytest.raises(ESignValidationError, match="is a folder"):
        check(template_id=None, file=str(tmp_path))


@pytest.mark.parametrize(
    ("key", "valid"), [("run-1 [a]:b/c.d,e_f", True), ("run-1\n", False), ("", False), ("x" * 251, False)]
)
def test_the_idempotency_key_follows_the_tag_alphabet(key, valid):
    if valid:
        rules.validate_idempotency_key(key)
    else:
        assert field_of(lambda: rules.validate_idempotency_key(key)) == "idempotency_key"
