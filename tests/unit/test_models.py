"""The vendor-neutral models: status order, signer coercion and name split, round trips, reminders."""

from __future__ import annotations

import json

import pytest

from airflow_provider_esign.models import (
    DocumentInfo,
    DocumentStatus,
    FormField,
    MissingSignerFieldError,
    Signer,
    SignerInfo,
    SignerStatus,
    nobody_to_remind,
)

S = DocumentStatus


@pytest.mark.parametrize(
    ("status", "target", "reached"),
    [
        (S.SENT, S.SENT, True),
        (S.PARTIALLY_SIGNED, S.SENT, True),
        (S.COMPLETED, S.SIGNED, True),
        (S.SIGNED, S.COMPLETED, False),
        (S.DRAFT, S.SENT, False),
        (S.DECLINED, S.COMPLETED, False),  # a failure never reaches a non-failure target
        (S.COMPLETED, S.DECLINED, False),
        (S.VOIDED, S.VOIDED, True),
        (S.DECLINED, S.VOIDED, False),
    ],
)
def test_reached_follows_the_way_to_completed(status, target, reached):
    assert status.reached(target) is reached


def test_terminal_and_failure_states():
    assert {s for s in S if s.is_failure} == {S.DECLINED, S.VOIDED}
    assert {s for s in S if s.is_terminal} == {S.DECLINED, S.VOIDED, S.COMPLETED}


@pytest.mark.parametrize(
    ("signer", "split"),
    [
        (Signer("Ada King Lovelace", "a@x.io"), ("Ada King", "Lovelace")),
        (Signer("  Ada  ", "a@x.io"), ("Ada", "")),
        (Signer("Ada Lovelace", "a@x.io", first_name="Augusta"), ("Augusta", "")),
        (Signer("x", "a@x.io", first_name=" Ada ", last_name=" Lovelace "), ("Ada", "Lovelace")),
    ],
)
def test_split_name(signer, split):
    assert signer.split_name() == split


def test_coerce_accepts_the_aliases_a_csv_row_uses():
    signer = Signer.coerce(
        {
            "first_name": "Ada",
            "last_name": "Lovelace",
            "email_address": "a@x.io",
            "role_name": "signee_1",
            "order": "2",
        }
    )
    assert signer == Signer(
        "Ada Lovelace", "a@x.io", role="signee_1", order=2, first_name="Ada", last_name="Lovelace"
    )
    assert Signer.coerce(signer) is signer


def test_coerce_names_what_is_missing_or_unknown():
    with pytest.raises(MissingSignerFieldError) as missing:
        Signer.coerce({"name": "Ada"})
    assert missing.value.field == "email"
    with pytest.raises(TypeError, match=r"unknown signer field\(s\) \['phone'\]"):
        Signer.coerce({"name": "Ada", "email": "a@x.io", "phone": "1"})
    with pytest.raises(TypeError, match="must be a dict or Signer, not str"):
        Signer.coerce("ada@x.io")


def test_to_dict_leaves_out_unset_fields():
    assert Signer("Ada", "a@x.io").to_dict() == {"name": "Ada", "email": "a@x.io"}


def test_a_document_round_trips_through_json():
    document = DocumentInfo(
        "doc-1", "legalesign", "NDA", S.PARTIALLY_SIGNED, 20,
        signers=[SignerInfo("Ann@X.io", "Ann", SignerStatus.SIGNED, raw_status=10)],
        metadata={"ref": "r-1"}, raw={"uuid": "doc-1"},
    )  # fmt: skip
    data = json.loads(json.dumps(document.to_dict()))
    assert data["status"] == "PARTIALLY_SIGNED"
    assert DocumentInfo.from_dict(data) == document
    assert "raw" not in document.to_dict(include_raw=False)
    assert document.signer(" ann@x.IO ").name == "Ann"
    assert document.signer("bob@x.io") is None


def test_a_form_field_hides_its_raw_payload_unless_asked():
    form_field = FormField("Company", "Acme", raw={"id": 1})
    assert "raw" not in form_field.to_dict()
    assert form_field.to_dict(include_raw=True)["raw"] == {"id": 1}


def info(status: SignerStatus) -> SignerInfo:
    return SignerInfo("a@x.io", "A", status)


@pytest.mark.parametrize(
    ("signers", "reason"),
    [
        ([], "the document has no signers"),
        ([info(SignerStatus.SIGNED)] * 2, "every signer has signed (2 of 2)"),
        (
            [info(SignerStatus.PENDING), info(SignerStatus.SIGNED)],
            "nobody is waiting to sign yet: 1 signer(s)",
        ),
        (
            [info(SignerStatus.DECLINED), info(SignerStatus.SIGNED)],
            "no signer is waiting to sign (1 signed, the others declined)",
        ),
    ],
)
def test_nobody_to_remind_says_why(signers, reason):
    assert nobody_to_remind(signers).startswith(reason)
