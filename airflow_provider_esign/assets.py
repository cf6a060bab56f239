"""The Airflow Asset that signed, stored documents are announced on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import Asset

SIGNED_DOCUMENTS_URI = "esign://signed-documents/"  # the normalized form Airflow stores


def signed_documents_asset(uri: str = SIGNED_DOCUMENTS_URI) -> Asset:
    """The asset the download operator (and the event watcher / webhook receiver) emit events on.

    Schedule downstream DAGs with ``schedule=[signed_documents_asset()]``; each event's ``extra``
    carries ``document_id``, ``vendor``, ``path`` and more.
    """
    from airflow.sdk import Asset

    return Asset(uri=uri, name="esign_signed_documents" if uri == SIGNED_DOCUMENTS_URI else uri)
