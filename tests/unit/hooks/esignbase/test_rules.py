"""eSignBase's rules, checked before any HTTP call: OAuth2 client credentials and scopes, a template
with one signer per role, locales, metadata limits, and roles assigned from the template."""

from __future__ import annotations

import pytest

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.hooks.esignbase import rules
from airflow_provider_esign.hooks.esignbase.wire import IDEMPOTENCY_METADATA_KEY
from airflow_provider_esign.hooks.settings import ConnectionSettings
from airflow_provider_esign.models import SendRequest, Signer

OPTIONS = frozenset({"locale"})
ADA = Signer("Ada Lovelace", "ada@example.com")
ALAN = Signer("Alan Turing", "alan@example.com")


def settings(login="client-id", password="secret", **extra) -> ConnectionSettings:
    return ConnectionSettings("esb", "https://esignbase.test/", login, password, extra)


def request(**changes) -> SendRequest:
    return SendRequest(**{"name": "NDA", "signers": (ADA, ALAN), "template_id": "tpl-1", **changes})


def field_of(call) -> str:
    with pytest.raises(ESignValidationError) as excinfo:
        call()
    return excinfo.value.field


def test_the_connection_needs_client_credentials_a_known_grant_and_known_scopes():
    rules.validate_settings(settings())
    assert field_of(lambda: rules.validate_settings(settings(password=""))) == "connection 'esb'"
    assert field_of(lambda: rules.validate_settings(settings(grant_type="password"))) == (
        "connection 'esb' extra.grant_type"
    )
    assert field_of(lambda: rules.validate_settings(settings(scopes="all delete_everything"))) == (
        "connection 'esb' extra.scopes"
    )


def test_a_valid_request_passes():
    rules.validate_send_request(request(metadata={"ref": "r-1"}, vendor_options={"locale": "de"}), OPTIONS)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": "N" * 256}, "name"),
        ({"template_id": None, "file": "https://files.example/nda.pdf"}, "file"),
        ({"signers": (Signer("Ada", "ada@example.com"),)}, "signers[0].last_name"),  # needs a last name
        ({"signers": (Signer("Ada Lovelace", "ada@example.com", role="a"), ALAN)}, "signers"),
        (
            {
                "signers": (
                    Signer("Ada Lovelace", "a@x.io", role="a"),
                    Signer("Alan Turing", "b@x.io", role="a"),
                )
            },
            "signers",
        ),
        ({"vendor_options": {"locale": "fr"}}, "vendor_options['locale']"),
        ({"metadata": {f"k{i}": "v" for i in range(10)}}, "metadata"),
        ({"metadata": {IDEMPOTENCY_METADATA_KEY: "mine"}}, "metadata"),
        ({"expires_at": "next week"}, "expires_at"),
    ],
)
def test_what_esignbase_cannot_take_is_refused_naming_the_field(changes, field):
    assert field_of(lambda: rules.validate_send_request(request(**changes), OPTIONS)).startswith(field)


def test_without_roles_the_templates_roles_are_assigned_in_order():
    assigned = rules.assign_roles(request(), ["signee_1", "signee_2"])
    assert [s.role for s in assigned.signers] == ["signee_1", "signee_2"]


def test_given_roles_must_be_exactly_the_templates():
    given = request(
        signers=(
            Signer("Ada Lovelace", "a@x.io", role="signee_2"),
            Signer("Alan Turing", "b@x.io", role="signee_1"),
        )
    )
    assert rules.assign_roles(given, ["signee_1", "signee_2"]) == given
    with pytest.raises(ESignValidationError, match=r"needs exactly one signer per role \['signee_1'\]"):
        rules.assign_roles(request(), ["signee_1"])
