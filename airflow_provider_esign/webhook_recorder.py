"""Recording webhook completions as asset events, at most once per vendor document.

Used by the webhook receiver (:mod:`airflow_provider_esign.webhooks`): a completion becomes an asset
event on ``esign://completed-documents/`` through Airflow's asset manager, unless the asset already has
an event for the same vendor and document id (from either path), checked inside the recording
transaction under a row lock on the asset (Postgres/MySQL; a process lock covers SQLite).
"""

from __future__ import annotations

import json
import threading
from typing import Any

from airflow_provider_esign.assets import COMPLETED_DOCUMENTS_NAME, COMPLETED_DOCUMENTS_URI
from airflow_provider_esign.hooks.webhook import document_id_from


# --------------------------------------------------------------------------------------------------
class AssetNotRegisteredError(RuntimeError):
    """No DAG has declared the completed-documents asset, so Airflow has nowhere to record events."""


class AssetEventRecorder:
    """Records completions as asset events on the completed-documents asset, at most once each."""

    _lock = threading.Lock()  # one API-server process; the row lock covers several (Postgres/MySQL)

    def __init__(self, uri: str = COMPLETED_DOCUMENTS_URI, name: str = COMPLETED_DOCUMENTS_NAME) -> None:
        self.uri = uri
        self.name = name

    @staticmethod
    def _matches(extra: Any, vendor: str, document_id: str) -> bool:
        if isinstance(extra, str):  # Airflow 3.1 stores extra through a text-based JSON type
            try:
                extra = json.loads(extra)
            except ValueError:
                return False
        payload = extra.get("payload") if isinstance(extra, dict) else None
        return (
            isinstance(payload, dict)
            and payload.get("document_id") == document_id
            and payload.get("vendor") == vendor
        )

    def _recorded(self, session: Any, asset_id: int, vendor: str, document_id: str) -> bool:
        from airflow.models.asset import AssetEvent
        from sqlalchemy import Text, cast, select

        query = select(AssetEvent.extra).where(AssetEvent.asset_id == asset_id)
        if document_id.isascii() and document_id_from(document_id) == document_id:
            # Narrow in SQL (works on the JSON text of every backend), decide exactly in Python.
            escaped = document_id.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(cast(AssetEvent.extra, Text).like(f"%{escaped}%", escape="\\"))
        return any(self._matches(extra, vendor, document_id) for extra in session.scalars(query))

    def _asset(self, session: Any, *, lock: bool) -> Any:
        from airflow.models.asset import AssetModel
        from airflow.utils.sqlalchemy import with_row_locks
        from sqlalchemy import select

        query = select(AssetModel).where(AssetModel.uri == self.uri, AssetModel.name == self.name)
        if lock:
            # key_share=True renders FOR NO KEY UPDATE on Postgres: webhook transactions serialize on
            # the asset row without blocking other inserts of asset events (they take FOR KEY SHARE).
            query = with_row_locks(query, session=session)
        return session.scalar(query)

    def is_recorded(self, vendor: str, document_id: str) -> bool:
        from airflow.utils.session import create_session

        with create_session() as session:
            asset = self._asset(session, lock=False)
            return asset is not None and self._recorded(session, asset.id, vendor, document_id)

    def record(self, payload: dict[str, Any]) -> bool:
        """Record one completion; False if the document was already recorded (by either path).

        :raises AssetNotRegisteredError: when no DAG uses the asset yet.
        """
        from airflow.assets.manager import asset_manager
        from airflow.utils.session import create_session

        with self._lock, create_session() as session:
            asset = self._asset(session, lock=True)
            if asset is None:
                raise AssetNotRegisteredError(f"asset {self.uri} is not registered: no DAG declares it")
            if self._recorded(session, asset.id, payload["vendor"], payload["document_id"]):
                return False
            event = asset_manager.register_asset_change(
                # from_rest_api: the UI's "Source" column shows "API" for events recorded this way.
                asset=asset,
                extra={"from_webhook": True, "from_rest_api": True, "payload": payload},
                session=session,
            )
            if event is None:
                raise AssetNotRegisteredError(f"asset {self.uri} is not registered")
            return True
