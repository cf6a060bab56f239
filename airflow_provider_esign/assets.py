"""The Airflow Assets the provider announces documents on.

* ``esign://signed-documents/``: a signed PDF was *stored* (events from the download operator, with
  ``extra.path``).
* ``esign://completed-documents/``: a document was *completed* at the vendor (events from
  :class:`~airflow_provider_esign.triggers.events.DocumentCompletedEventTrigger` watchers and from the
  webhook receiver, with ``extra.payload``). Kept apart from the first one on purpose: a DAG started by a
  completion usually downloads the PDF, which announces it on ``signed-documents``; one asset for both
  would start that DAG again for its own download.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from airflow.sdk import Asset, AssetWatcher

SIGNED_DOCUMENTS_URI = "esign://signed-documents/"  # the normalized form Airflow stores
COMPLETED_DOCUMENTS_URI = "esign://completed-documents/"
COMPLETED_DOCUMENTS_NAME = "esign_completed_documents"


def signed_documents_asset(uri: str = SIGNED_DOCUMENTS_URI) -> Asset:
    """The asset the download operator emits events on.

    Schedule downstream DAGs with ``schedule=[signed_documents_asset()]``; each event's ``extra``
    carries ``document_id``, ``vendor``, ``path`` and more.
    """
    from airflow.sdk import Asset

    return Asset(uri=uri, name="esign_signed_documents" if uri == SIGNED_DOCUMENTS_URI else uri)


def completed_documents_asset(watchers: Sequence[AssetWatcher] = ()) -> Asset:
    """The asset newly completed documents are announced on, by watchers and by the webhook receiver.

    Each event's ``extra["payload"]`` is
    :func:`~airflow_provider_esign.triggers.events.completion_payload` (``document_id``, ``vendor``,
    ``conn_id``, ``name``, ``completed_at``, ``signers``, ``metadata``, ``source``).

    Declare it with its watchers in **one** place and import that object wherever it is scheduled on:
    the DAG processor reconciles an asset's watchers per parsed file, so a second file declaring the
    same asset with other (or no) watchers removes the first file's watchers.
    """
    from airflow.sdk import Asset

    return Asset(uri=COMPLETED_DOCUMENTS_URI, name=COMPLETED_DOCUMENTS_NAME, watchers=list(watchers))
