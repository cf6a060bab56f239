"""Recording completions as asset events on Airflow's metadata database (SQLite here): once per vendor
document, ids matched exactly (SQL wildcards in an id match nothing else), a clear error while no DAG
declares the asset."""

from __future__ import annotations

import pytest

from airflow_provider_esign.webhook_recorder import AssetEventRecorder, AssetNotRegisteredError
from tests.unit import test_webhooks as shared

airflow_db = shared.airflow_db
asset = shared.asset


def payload(document_id: str, vendor: str = "esignbase") -> dict:
    return {"document_id": document_id, "vendor": vendor, "name": "NDA", "source": "webhook"}


def test_a_completion_is_recorded_once_per_vendor_document(asset):
    recorder = AssetEventRecorder()
    assert recorder.record(payload("doc-1")) is True
    assert recorder.record(payload("doc-1")) is False
    assert recorder.record(payload("doc-1", vendor="legalesign")) is True  # another vendor's id space
    extras = shared.events(asset)
    assert [(e["payload"]["vendor"], e["payload"]["document_id"]) for e in extras] == [
        ("esignbase", "doc-1"),
        ("legalesign", "doc-1"),
    ]
    assert all(e["from_webhook"] is True for e in extras)


def test_ids_are_matched_exactly_not_as_patterns(asset):
    recorder = AssetEventRecorder()
    recorder.record(payload("docA1"))
    assert recorder.is_recorded("esignbase", "docA1")
    assert not recorder.is_recorded("esignbase", "doc_1")  # "_" is a LIKE wildcard
    assert not recorder.is_recorded("esignbase", "doc%")
    assert not recorder.is_recorded("esignbase", "docA")


def test_an_undeclared_asset_is_a_clear_error(asset):
    recorder = AssetEventRecorder(uri="esign://nobody-declares-this/", name="undeclared")
    with pytest.raises(AssetNotRegisteredError, match="no DAG declares it"):
        recorder.record(payload("doc-1"))
    assert recorder.is_recorded("esignbase", "doc-1") is False


@pytest.mark.parametrize(
    ("extra", "matches"),
    [
        ({"payload": {"document_id": "d", "vendor": "v"}}, True),
        ('{"payload": {"document_id": "d", "vendor": "v"}}', True),  # Airflow 3.1 stores JSON text
        ({"payload": {"document_id": "d", "vendor": "other"}}, False),
        ("not json", False),
        (None, False),
    ],
)
def test_a_stored_extra_matches_on_vendor_and_id(extra, matches):
    assert AssetEventRecorder._matches(extra, "v", "d") is matches
