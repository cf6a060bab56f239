"""The provider's assets: the signed-documents asset of downloads, the completed-documents asset of
watchers and webhooks."""

from __future__ import annotations

from airflow_provider_esign.assets import (
    COMPLETED_DOCUMENTS_NAME,
    COMPLETED_DOCUMENTS_URI,
    SIGNED_DOCUMENTS_URI,
    completed_documents_asset,
    signed_documents_asset,
)


def test_the_signed_documents_asset_has_a_stable_name_and_a_custom_uri_names_itself():
    default = signed_documents_asset()
    assert (default.uri, default.name) == (SIGNED_DOCUMENTS_URI, "esign_signed_documents")
    custom = signed_documents_asset("s3://contracts/signed")
    assert (custom.uri, custom.name) == ("s3://contracts/signed", "s3://contracts/signed")


def test_the_completed_documents_asset_carries_its_watchers():
    from airflow.sdk import AssetWatcher

    from airflow_provider_esign.triggers.events import DocumentCompletedEventTrigger

    watcher = AssetWatcher(
        name="legalesign_completions", trigger=DocumentCompletedEventTrigger(conn_id="legalesign_default")
    )
    asset = completed_documents_asset([watcher])
    assert (asset.uri, asset.name) == (COMPLETED_DOCUMENTS_URI, COMPLETED_DOCUMENTS_NAME)
    assert [w.name for w in asset.watchers] == ["legalesign_completions"]
    assert completed_documents_asset().watchers == []
