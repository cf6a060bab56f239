"""WeSignature's rules, checked before any HTTP call: the connection's credentials, and a send
request's public file URL, signers without roles or order, no metadata or expiry, integer options."""

from __future__ import annotations

import pytest

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.hooks.settings import ConnectionSettings
from airflow_provider_esign.hooks.wesignature import rules
from airflow_provider_esign.hooks.wesignature.wire import THEY_SIGN
from airflow_provider_esign.models import SendRequest, Signer

OPTIONS = frozenset({"sign_type", "is_for_embedded_signing"})
ADA = Signer("Ada Lovelace", "ada@example.com")


def settings(login="", password="", **extra) -> ConnectionSettings:
    return ConnectionSettings("wes", "https://wesignature.test/apihandler/", login, password, extra)


def request(**changes) -> SendRequest:
    values = {"name": "NDA", "signers": (ADA,), "file": "https://files.example/nda.pdf", **changes}
    return SendRequest(**values)


def field_of(call) -> str:
    with pytest.raises(ESignValidationError) as excinfo:
        call()
    return excinfo.value.field


def test_stored_keys_come_in_pairs_and_else_a_login_is_needed():
    assert rules.stored_keys(settings(user_id=" u-1 ", api_key="k")) == ("u-1", "k")
    assert rules.stored_keys(settings(user_id="u-1")) is None
    rules.validate_settings(settings(user_id="u-1", api_key="k"))
    rules.validate_settings(settings("ops@example.com", "pw"))
    assert field_of(lambda: rules.validate_settings(settings("ops@example.com", "pw", user_id="u-1"))) == (
        "connection 'wes' extra"
    )
    assert field_of(lambda: rules.validate_settings(settings())) == "connection 'wes'"


def test_a_valid_request_passes_with_the_default_options():
    rules.validate_send_request(request(), OPTIONS)
    assert rules.sign_type(request()) == THEY_SIGN
    assert rules.embedded(request()) == 0


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"file": "s3://bucket/nda.pdf"}, "file"),
        ({"file": "/tmp/nda.pdf"}, "file"),
        ({"file": None, "template_id": "t-1"}, "template_id"),
        ({"signers": (Signer("Ada Lovelace", "ada@example.com", role="signee_1"),)}, "signers[0].role"),
        ({"signers": (Signer("Ada Lovelace", "ada@example.com", order=1),)}, "signers[0].order"),
        ({"metadata": {"ref": "r-1"}}, "metadata"),
        ({"expires_at": "2030-01-01T00:00:00Z"}, "expires_at"),
        ({"vendor_options": {"colour": "blue"}}, "vendor_options"),
        ({"vendor_options": {"sign_type": "three"}}, "vendor_options['sign_type']"),
        ({"vendor_options": {"sign_type": -1}}, "vendor_options['sign_type']"),
        ({"vendor_options": {"sign_type": True}}, "vendor_options['sign_type']"),
        ({"vendor_options": {"is_for_embedded_signing": 3}}, "vendor_options['is_for_embedded_signing']"),
    ],
)
def test_what_wesignature_cannot_take_is_refused_naming_the_field(changes, field):
    assert field_of(lambda: rules.validate_send_request(request(**changes), OPTIONS)).startswith(field)


def test_templated_options_arrive_as_text_and_are_read_as_integers():
    templated = request(vendor_options={"sign_type": "2", "is_for_embedded_signing": "1"})
    rules.validate_send_request(templated, OPTIONS)
    assert (rules.sign_type(templated), rules.embedded(templated)) == (2, 1)
