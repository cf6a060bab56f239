"""Validation messages: they name the argument the DAG author wrote and say what to do."""

from __future__ import annotations

import pytest

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.models import SendRequest, Signer
from airflow_provider_esign.validation import (
    require_signers,
    require_single_source,
    require_split_names,
    require_string_metadata,
)

ADA = {"name": "Ada Lovelace", "email": "ada@example.com"}


# ------------------------------------------------------------------------------------------ messages
@pytest.mark.parametrize(
    ("signer", "field"),
    [({"name": "Ada Lovelace"}, "signers[0].email"), ({"email": "ada@example.com"}, "signers[0].name")],
)
def test_a_signer_missing_a_required_field_names_it(signer, field):
    with pytest.raises(ESignValidationError) as excinfo:
        require_signers([signer])
    assert excinfo.value.field == field
    assert str(excinfo.value) == f"Invalid {field}: is required: each signer needs a 'name' and an 'email'"
    assert "__init__" not in str(excinfo.value)


def test_first_and_last_name_alone_make_a_name():
    (signer,) = require_signers([{"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}])
    assert signer.name == "Ada Lovelace"


def request(**fields) -> SendRequest:
    return SendRequest(name="Contract", signers=(Signer(**ADA),), **fields)


def test_no_document_source_says_what_the_vendor_sends_from():
    with pytest.raises(ESignValidationError) as excinfo:
        require_single_source(request(), allowed={"template_id", "file"}, vendor="Legalesign")
    assert excinfo.value.field == "template_id/file"
    assert excinfo.value.rule == (
        "no document source given; Legalesign sends from a template (template_id) or a file (file)"
    )


def test_two_document_sources_say_give_one():
    with pytest.raises(ESignValidationError) as excinfo:
        require_single_source(
            request(template_id="tpl-1", file="https://x.example/a.pdf"),
            allowed={"file"},
            vendor="WeSignature",
        )
    assert excinfo.value.rule.startswith("give one document source, not both template_id and file")
    assert excinfo.value.rule.endswith("WeSignature sends from a file (file)")


def test_metadata_limit_explains_the_reserved_key():
    metadata = {f"k{i}": "v" for i in range(10)}
    with pytest.raises(ESignValidationError) as excinfo:
        require_string_metadata(
            metadata,
            max_keys=9,
            max_key_length=25,
            max_value_length=500,
            reserved_keys=("airflow_idempotency_key",),
        )
    assert excinfo.value.rule == (
        "at most 9 keys allowed, got 10 (the vendor stores 10 keys; this provider reserves "
        "'airflow_idempotency_key' for its idempotency key)"
    )
    with pytest.raises(ESignValidationError) as plain:  # callers that reserve nothing: no aside
        require_string_metadata(metadata, max_keys=9, max_key_length=25, max_value_length=500)
    assert plain.value.rule == "at most 9 keys allowed, got 10"


def test_split_name_rule_names_the_vendor():
    with pytest.raises(ESignValidationError) as excinfo:
        require_split_names(
            [Signer(name="Ada", email="ada@example.com")], pattern=None, max_length=60, vendor="eSignBase"
        )
    assert excinfo.value.rule.startswith("eSignBase needs a first and a last name")
