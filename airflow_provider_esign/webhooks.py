"""Vendor webhooks into asset events: the receiver mounted in the Airflow API server.

The Airflow plugin (:mod:`airflow_provider_esign.plugins`) mounts :func:`create_app` at ``/esign``, so a
connection's webhook URL is ``<API server base URL>/esign/webhooks/<conn_id>``. The endpoint takes no
Airflow login: the vendor cannot have one. It authenticates each delivery instead:

the connection's hook class verifies it (``verify_webhook``: e.g. eSignBase's shared secret in
``X-Signature-Secret``; Legalesign's signature scheme is undocumented, so its deliveries are not
trusted), and in every case the document it names is re-read over the authenticated API and only its
fetched status counts. A forged request can therefore at most announce a document that really is
completed, once. Vendors without webhooks (WeSignature) reject every delivery.

Anything that cannot be verified gets 401 and records nothing. An accepted completion is recorded as an
asset event on ``esign://completed-documents/`` (the asset the watchers use) through Airflow's asset
manager, the way the REST API's "create asset event" endpoint does, with ``extra={"from_webhook": True,
"from_rest_api": True, "payload": completion_payload(...)}`` (``from_rest_api`` makes the UI's "Source"
column say "API"). Repeated deliveries are dropped: before recording, the asset's
events are searched for one with the same vendor and document id (from either path), inside one
transaction holding a row lock on the asset (Postgres/MySQL; a process lock covers SQLite), so the check
survives API-server restarts.

Nothing here logs or returns a secret or a received signature header.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from airflow_provider_esign.assets import COMPLETED_DOCUMENTS_NAME, COMPLETED_DOCUMENTS_URI
from airflow_provider_esign.hooks.webhook import document_id_from
from airflow_provider_esign.models import DocumentInfo, DocumentStatus
from airflow_provider_esign.triggers.events import completion_payload

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.base import ESignHook

log = logging.getLogger(__name__)

#: Where the plugin mounts the app; the route adds ``/webhooks/<conn_id>``.
URL_PREFIX = "/esign"
#: Largest accepted request body (vendor payloads are a few KB).
MAX_BODY_BYTES = 256 * 1024
#: Retries inside one delivery stay short: the vendor is waiting on the answer.
WEBHOOK_HOOK_PARAMS: dict[str, Any] = {"max_attempts": 2, "max_retry_seconds": 10.0, "timeout": (5.0, 20.0)}


@dataclass(frozen=True)
class WebhookResponse:
    status_code: int
    body: dict[str, Any]
    headers: dict[str, str] | None = None


def _unverified(reason: str, conn_id: str) -> WebhookResponse:
    # The reason goes to the server log only; the caller learns nothing about why.
    log.warning("Rejected e-signature webhook for connection %r: %s", conn_id, reason)
    return WebhookResponse(401, {"detail": "Webhook could not be verified"})


def _json_object(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body or b"null")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


# --------------------------------------------------------------------------------------------------
# Recording, with deduplication
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


# --------------------------------------------------------------------------------------------------
# The receiver
# --------------------------------------------------------------------------------------------------
def _default_connection(conn_id: str) -> Any:
    from airflow.sdk import BaseHook

    return BaseHook.get_connection(conn_id)


def _default_hook(conn_id: str) -> ESignHook:
    from airflow_provider_esign.hooks import get_hook

    return get_hook(conn_id, **WEBHOOK_HOOK_PARAMS)


class WebhookReceiver:
    """Verifies a delivery, re-reads the document and records the completion.

    :param recorder: Where completions go (the asset manager by default).
    :param get_connection: Connection lookup (Airflow's by default).
    :param get_hook: Vendor hook for a connection id, used to re-read the document.
    """

    def __init__(
        self,
        recorder: AssetEventRecorder | None = None,
        get_connection: Callable[[str], Any] = _default_connection,
        get_hook: Callable[[str], ESignHook] = _default_hook,
    ) -> None:
        self.recorder = recorder or AssetEventRecorder()
        self.get_connection = get_connection
        self.get_hook = get_hook

    def handle(self, conn_id: str, headers: Mapping[str, str], body: bytes) -> WebhookResponse:
        """Answer one delivery. ``headers`` keys are matched case-insensitively."""
        from airflow_provider_esign.hooks import hook_class_for

        lowered = {k.lower(): v for k, v in headers.items()}
        try:
            conn = self.get_connection(conn_id)
        except Exception:
            return _unverified("no such connection", conn_id)
        conn_type = getattr(conn, "conn_type", None) or ""
        try:
            hook_class = hook_class_for(conn_type)
        except ValueError:
            return _unverified(f"connection type {conn_type!r} has no webhooks", conn_id)
        extra = getattr(conn, "extra_dejson", None) or {}
        claim = hook_class.verify_webhook(extra, lowered, _json_object(body))
        if claim.rejection is not None or (claim.document_id is None and claim.bad_request is None):
            return _unverified(claim.rejection or "no document id in the payload", conn_id)
        if claim.document_id is None:
            return WebhookResponse(400, {"detail": claim.bad_request})
        # Authentic sender: a replay can be answered before spending an API call on it.
        if claim.verified_sender and self.recorder.is_recorded(hook_class.vendor, claim.document_id):
            return WebhookResponse(200, {"status": "duplicate", "document_id": claim.document_id})
        return self._confirm_and_record(conn_id, claim.document_id, verified_sender=claim.verified_sender)

    def _confirm_and_record(
        self, conn_id: str, document_id: str, *, verified_sender: bool
    ) -> WebhookResponse:
        from airflow_provider_esign.exceptions import ESignNotFoundError

        try:
            hook = self.get_hook(conn_id)
            document: DocumentInfo = hook.get_document(document_id)
        except ESignNotFoundError:
            if not verified_sender:
                return _unverified("the named document does not exist", conn_id)
            return WebhookResponse(202, {"status": "ignored", "reason": "document not found"})
        except Exception as exc:
            # Our side or the vendor's API is failing: ask the vendor to deliver again later.
            log.warning("Webhook for %r: re-reading document %s failed: %s", conn_id, document_id, exc)
            return WebhookResponse(
                503, {"detail": "Could not re-read the document; retry later"}, {"Retry-After": "60"}
            )
        if document.status is not DocumentStatus.COMPLETED:
            if not verified_sender or document.status.is_terminal:
                # Legalesign sends events for every change; only completions are recorded.
                return WebhookResponse(
                    202, {"status": "ignored", "reason": f"document is {document.status.value}"}
                )
            # eSignBase fires for completed documents only: the API is behind; deliver again later.
            return WebhookResponse(
                503,
                {"detail": "Document not completed yet at the vendor's API; retry later"},
                {"Retry-After": "60"},
            )
        payload = completion_payload(document, conn_id=conn_id, source="webhook")
        try:
            recorded = self.recorder.record(payload)
        except AssetNotRegisteredError as exc:
            log.error("Webhook for %r: %s; deploy a DAG that uses it", conn_id, exc)
            return WebhookResponse(503, {"detail": "No DAG uses the completed-documents asset yet"})
        status = "recorded" if recorded else "duplicate"
        log.info("Webhook for %r: document %s %s", conn_id, document_id, status)
        return WebhookResponse(200, {"status": status, "document_id": document_id})


# --------------------------------------------------------------------------------------------------
# The FastAPI app
# --------------------------------------------------------------------------------------------------
def create_app(receiver: WebhookReceiver | None = None) -> FastAPI:
    """The FastAPI app the plugin mounts at :data:`URL_PREFIX` (no Airflow auth: see module docs)."""
    # FastAPI resolves the handler's (string) annotations in this module's globals, hence the
    # module-level imports of FastAPI and Request.
    from starlette.concurrency import run_in_threadpool

    app = FastAPI(title="E-signature webhooks", docs_url=None, redoc_url=None, openapi_url=None)
    state: dict[str, WebhookReceiver] = {}

    def current() -> WebhookReceiver:
        if "receiver" not in state:  # built on first use: importing the plugin stays cheap
            state["receiver"] = receiver or WebhookReceiver()
        return state["receiver"]

    @app.post("/webhooks/{conn_id}")
    async def webhook(conn_id: str, request: Request) -> JSONResponse:
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_BODY_BYTES:
                return JSONResponse({"detail": "Body too large"}, status_code=413)
        # Connection lookup, the vendor API call and the DB write are blocking: off the event loop.
        result = await run_in_threadpool(current().handle, conn_id, dict(request.headers), bytes(body))
        return JSONResponse(result.body, status_code=result.status_code, headers=result.headers)

    return app
