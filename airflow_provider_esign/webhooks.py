"""Vendor webhooks into asset events: the receiver mounted in the Airflow API server.

The Airflow plugin (:mod:`airflow_provider_esign.plugins`) mounts :func:`create_app` at ``/esign``, so a
connection's webhook URL is ``<API server base URL>/esign/webhooks/<conn_id>``. The endpoint takes no
Airflow login: the vendor cannot have one. Instead:

* a connection must opt in (extra ``webhooks_enabled``, default off); otherwise, as for a connection
  that does not exist, the answer is 404;
* each delivery must carry the connection's ``webhook_secret`` (eSignBase: ``X-Signature-Secret``
  header; Legalesign, which signs nothing verifiable: ``?token=`` in the subscribed URL), compared in
  constant time, else 401. Vendors without webhooks (WeSignature) have no endpoint;
* only then is the document re-read over the authenticated API (its fetched status is what counts),
  taking a rate-limit slot only if one is free now; otherwise the answer is 503 with ``Retry-After``
  and the vendor redelivers. No request thread ever sleeps on the budget the DAGs share.

So an unauthenticated caller costs a JSON parse and a connection lookup: no vendor call, no rate-limit
slot. Bodies over :data:`MAX_BODY_BYTES` get 413, bodies that are not a JSON object 400, before
anything else. A failing connection lookup (metadata DB, secrets backend) gets 503, so the vendor
delivers again instead of giving up.

Nothing unverified is recorded. An accepted completion is recorded as an
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
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from airflow_provider_esign.models import DocumentInfo, DocumentStatus
from airflow_provider_esign.triggers.events import completion_payload
from airflow_provider_esign.webhook_recorder import AssetEventRecorder, AssetNotRegisteredError

__all__ = [
    "AssetEventRecorder",
    "AssetNotRegisteredError",
    "WebhookReceiver",
    "WebhookResponse",
    "create_app",
    "install_access_log_redaction",
]

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.base import ESignHook
    from airflow_provider_esign.ratelimit import RateLimiter

log = logging.getLogger(__name__)

#: Where the plugin mounts the app; the route adds ``/webhooks/<conn_id>``.
URL_PREFIX = "/esign"
#: Largest accepted request body (vendor payloads are a few KB).
MAX_BODY_BYTES = 256 * 1024
#: The connection extra a connection opts in to receiving webhooks with (default off).
WEBHOOKS_ENABLED = "webhooks_enabled"
#: Longest ``Retry-After`` the receiver asks a vendor for.
MAX_RETRY_AFTER = 300
#: One attempt per delivery: a retry would sleep in an API-server thread; the vendor redelivers instead.
WEBHOOK_HOOK_PARAMS: dict[str, Any] = {"max_attempts": 1, "timeout": (5.0, 20.0)}


@dataclass(frozen=True)
class WebhookResponse:
    status_code: int
    body: dict[str, Any]
    headers: dict[str, str] | None = None


def _unverified(reason: str, conn_id: str) -> WebhookResponse:
    # The reason goes to the server log only; the caller learns nothing about why.
    log.warning("Rejected e-signature webhook for connection %r: %s", conn_id, reason)
    return WebhookResponse(401, {"detail": "Webhook could not be verified"})


def _no_endpoint(reason: str, conn_id: str) -> WebhookResponse:
    # One answer for a missing connection and one that did not opt in: ids cannot be probed.
    log.warning("No e-signature webhook endpoint for connection %r: %s", conn_id, reason)
    return WebhookResponse(404, {"detail": "No webhook endpoint for this connection"})


def _json_object(body: bytes) -> dict[str, Any] | None:
    """The body as a JSON object, or None for anything else (including nesting too deep to parse)."""
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: e.g. 200 kB of "[[[["
        return None
    return value if isinstance(value, dict) else None


# --------------------------------------------------------------------------------------------------
# The receiver
# --------------------------------------------------------------------------------------------------
class ConnectionLookupError(RuntimeError):
    """The connection could not be read (metadata DB or secrets backend failing): not "no such connection"."""


def _default_connection(conn_id: str) -> Any:
    from airflow.providers.common.compat.sdk import AirflowNotFoundException
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        # Airflow logs a secrets backend that raised and moves on to the next one, so a metadata DB or
        # a secrets backend that is down also ends as "not found". Ask the backends once more, letting
        # their errors through: an outage must be answered 5xx (the vendor redelivers), not 404.
        return _recheck_backends(conn_id)


def _recheck_backends(conn_id: str) -> Any:
    from airflow.providers.common.compat.sdk import AirflowNotFoundException

    try:
        from airflow.sdk.execution_time.supervisor import ensure_secrets_backend_loaded
    except ImportError:  # pragma: no cover - an Airflow without the backend chain API
        raise AirflowNotFoundException(conn_id) from None
    for backend in ensure_secrets_backend_loaded():
        try:
            conn = backend.get_connection(conn_id=conn_id)
        except Exception as exc:
            raise ConnectionLookupError(f"{type(backend).__name__} failed ({type(exc).__name__})") from None
        if conn:
            return conn
    raise AirflowNotFoundException(conn_id)


def _is_not_found(exc: Exception) -> bool:
    """Airflow's "no such connection" (the task SDK's exception, or the core one it may be wrapped as)."""
    import airflow.exceptions
    from airflow.providers.common.compat.sdk import AirflowNotFoundException

    core = getattr(airflow.exceptions, "AirflowNotFoundException", AirflowNotFoundException)
    return isinstance(exc, (AirflowNotFoundException, core))


def _default_hook(conn_id: str) -> ESignHook:
    from airflow_provider_esign.hooks import get_hook

    return get_hook(conn_id, **WEBHOOK_HOOK_PARAMS)


def webhooks_enabled(extra: Mapping[str, Any]) -> bool:
    """Whether a connection opted in to receiving webhooks (extra ``webhooks_enabled``, default off)."""
    value = extra.get(WEBHOOKS_ENABLED)
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return value is True


class BudgetBusy(Exception):
    """The connection's rate-limit budget has no slot free now; the delivery is answered "retry later".

    :param seconds: Until a slot is free (or a backoff would end).
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no rate-limit slot for {seconds:.1f}s")
        self.seconds = seconds


class _NoWaitLimiter:
    """A connection's limiter asked without waiting: a slot free now is taken, else :class:`BudgetBusy`.

    A request thread of the API server must never sleep on the shared budget, and a delivery that
    cannot be served now must not book a future slot either (that would delay the DAGs' own calls).
    """

    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter

    @property
    def enabled(self) -> bool:
        return self._limiter.enabled

    def reserve(self) -> float:
        wait = self._limiter.try_reserve()
        if wait > 0:
            raise BudgetBusy(wait)
        return 0.0

    def penalize(self, seconds: float) -> None:
        self._limiter.penalize(seconds)


def _never_sleep(seconds: float) -> None:
    # A backoff inside a delivery would hold an API-server thread: answer "retry later" instead.
    raise BudgetBusy(seconds)


#: What Airflow accepts as a connection id (``airflow.models.connection.sanitize_conn_id``: word
#: characters and ``#!()-.:/\``, at most 250): anything else cannot exist and is not looked up.
_CONN_ID = re.compile(r"[\w#!()\-.:/\\]{1,250}")


def _retry_later(detail: str, seconds: float) -> WebhookResponse:
    wait = max(1, min(math.ceil(seconds), MAX_RETRY_AFTER))
    return WebhookResponse(503, {"detail": detail}, {"Retry-After": str(wait)})


class WebhookReceiver:
    """Verifies a delivery, re-reads the document and records the completion.

    Order of checks, cheapest first, so an unauthenticated caller costs no vendor call, no rate-limit
    slot and no sleeping thread: body size and JSON (400/413), the connection (404 when missing, not of
    a webhook vendor or not opted in; 503 when the lookup itself fails), the delivery's secret (401), a
    replay already recorded (200), then a rate-limit slot taken without waiting (503 + ``Retry-After``
    when none is free) for the one re-read.

    :param recorder: Where completions go (the asset manager by default).
    :param get_connection: Connection lookup (Airflow's by default). It raises Airflow's
        ``AirflowNotFoundException`` for a missing connection; anything else is a lookup failure.
    :param get_hook: Vendor hook for a connection id, used to re-read the document.
    """

    #: How long a connection id found missing is answered 404 without asking the secrets backends
    #: again, and how many such ids are remembered: unauthenticated callers must not spend a paid or
    #: throttled backend's quota (each miss costs every backend twice, see ``_default_connection``).
    MISS_SECONDS = 60.0
    MAX_MISSES = 1024

    def __init__(
        self,
        recorder: AssetEventRecorder | None = None,
        get_connection: Callable[[str], Any] = _default_connection,
        get_hook: Callable[[str], ESignHook] = _default_hook,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.recorder = recorder or AssetEventRecorder()
        self.get_connection = get_connection
        self.get_hook = get_hook
        self._clock = clock
        self._misses: dict[str, float] = {}  # conn_id -> when it was found missing (insertion ordered)

    def _known_missing(self, conn_id: str) -> bool:
        found_at = self._misses.get(conn_id)
        if found_at is not None and self._clock() - found_at < self.MISS_SECONDS:
            return True
        self._misses.pop(conn_id, None)
        return False

    def _remember_missing(self, conn_id: str) -> None:
        if len(self._misses) >= self.MAX_MISSES:
            self._misses.pop(next(iter(self._misses)))  # the oldest
        self._misses[conn_id] = self._clock()

    def handle(
        self,
        conn_id: str,
        headers: Mapping[str, str],
        body: bytes,
        query: Mapping[str, str] | None = None,
    ) -> WebhookResponse:
        """Answer one delivery. ``headers`` keys are matched case-insensitively.

        :param query: The delivery URL's query parameters (Legalesign's ``token``).
        """
        from airflow_provider_esign.hooks import hook_class_for

        payload = _json_object(body)
        if payload is None:
            return WebhookResponse(400, {"detail": "Body must be a JSON object"})
        lowered = {k.lower(): v for k, v in headers.items()}
        if not _CONN_ID.fullmatch(conn_id) or self._known_missing(conn_id):
            return _no_endpoint("no such connection", conn_id)
        try:
            conn = self.get_connection(conn_id)
        except Exception as exc:
            if _is_not_found(exc):
                self._remember_missing(conn_id)
                return _no_endpoint("no such connection", conn_id)
            log.error("Webhook for %r: the connection lookup failed: %s", conn_id, type(exc).__name__)
            return _retry_later("Connection lookup failed; retry later", 60)
        conn_type = getattr(conn, "conn_type", None) or ""
        try:
            hook_class = hook_class_for(conn_type)
        except ValueError:
            return _no_endpoint(f"connection type {conn_type!r} has no webhooks", conn_id)
        extra = getattr(conn, "extra_dejson", None) or {}
        if not webhooks_enabled(extra):
            return _no_endpoint(f"the connection does not set {WEBHOOKS_ENABLED}", conn_id)
        claim = hook_class.verify_webhook(extra, lowered, payload, dict(query or {}))
        if claim.rejection is not None or not claim.verified_sender:
            return _unverified(claim.rejection or "the sender is not authenticated", conn_id)
        if claim.document_id is None:
            return WebhookResponse(400, {"detail": claim.bad_request or "The delivery names no document"})
        # Authentic sender: a replay can be answered before spending an API call on it.
        if self.recorder.is_recorded(hook_class.vendor, claim.document_id):
            return WebhookResponse(200, {"status": "duplicate", "document_id": claim.document_id})
        return self._confirm_and_record(conn_id, claim.document_id, announced=claim.announces_completion)

    def _reader(self, conn_id: str) -> ESignHook:
        """The hook for the re-read, on the connection's budget but never waiting for it."""
        hook = self.get_hook(conn_id)
        hook.settings  # noqa: B018 - loads the connection, which the limiter's key needs
        # The hook's limiter is per hook instance (the schedule it reads is shared): swapping this one
        # changes how this delivery asks for a slot, nothing else.
        hook.rate_limiter = cast("RateLimiter", _NoWaitLimiter(hook.rate_limiter))
        hook.sleep = _never_sleep
        return hook

    def _confirm_and_record(self, conn_id: str, document_id: str, *, announced: bool) -> WebhookResponse:
        from airflow_provider_esign.exceptions import ESignNotFoundError

        try:
            hook = self._reader(conn_id)
            document: DocumentInfo = hook.get_document(document_id)
        except BudgetBusy as busy:
            # Never queue on the budget the DAGs share: the vendor delivers again later.
            log.info("Webhook for %r: no rate-limit slot free now; asked for a redelivery", conn_id)
            return _retry_later("Rate limit reached; retry later", busy.seconds)
        except ESignNotFoundError:
            return WebhookResponse(202, {"status": "ignored", "reason": "document not found"})
        except Exception as exc:
            # Our side or the vendor's API is failing: ask the vendor to deliver again later.
            log.warning("Webhook for %r: re-reading document %s failed: %s", conn_id, document_id, exc)
            return _retry_later("Could not re-read the document; retry later", 60)
        if document.status is not DocumentStatus.COMPLETED:
            if not announced or document.status.is_terminal:
                # Legalesign sends events for every change; only completions are recorded.
                return WebhookResponse(
                    202, {"status": "ignored", "reason": f"document is {document.status.value}"}
                )
            # eSignBase fires for completed documents only: the API is behind; deliver again later.
            return _retry_later("Document not completed yet at the vendor's API; retry later", 60)
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
        length = request.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY_BYTES:
            return JSONResponse({"detail": "Body too large"}, status_code=413)
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > MAX_BODY_BYTES:
                return JSONResponse({"detail": "Body too large"}, status_code=413)
        # Connection lookup, the vendor API call and the DB write are blocking: off the event loop.
        result = await run_in_threadpool(
            current().handle, conn_id, dict(request.headers), bytes(body), dict(request.query_params)
        )
        return JSONResponse(result.body, status_code=result.status_code, headers=result.headers)

    return app


# --------------------------------------------------------------------------------------------------
# Access logs
# --------------------------------------------------------------------------------------------------
_TOKEN_IN_QUERY = re.compile(r"([?&]token=)[^&\s\"]*")


class WebhookTokenFilter(logging.Filter):
    """Replaces the ``token`` query value of webhook URLs in access-log records with ``***``.

    Legalesign can only authenticate through its subscribed URL, so the secret travels in the query
    string, which the API server's access log would otherwise print.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_token(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = _redact_token(record.msg)
        return True


def _redact_token(text: str) -> str:
    return _TOKEN_IN_QUERY.sub(r"\1***", text) if f"{URL_PREFIX}/webhooks/" in text else text


#: The access loggers of the servers Airflow's API server runs under.
ACCESS_LOGGERS = ("uvicorn.access", "gunicorn.access")


def install_access_log_redaction() -> None:
    """Add :class:`WebhookTokenFilter` to the API server's access loggers (idempotent)."""
    for name in ACCESS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, WebhookTokenFilter) for f in logger.filters):
            logger.addFilter(WebhookTokenFilter())
