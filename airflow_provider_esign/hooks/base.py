"""``ESignHook``: the public hook API every vendor shares, assembled around the vendor's flows.

Each vendor hook describes its wire format once, as *flows* (generators yielding
:class:`~airflow_provider_esign.hooks.api.ApiRequest`); the request pipeline
(:mod:`~airflow_provider_esign.hooks.pipeline`) adds credentials, rate limiting, error mapping and
retries, and one of two executors (:mod:`~airflow_provider_esign.hooks.transport`) runs it with
``requests`` (operators, sensors) or ``httpx`` (triggers). What a vendor implements is declared in
:mod:`~airflow_provider_esign.hooks.vendor`; the other concerns have a module each: connection
settings, retry policy, credentials, streaming downloads and exactly-once sends.
"""

from __future__ import annotations

import abc
import hashlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator, MutableMapping
from dataclasses import replace
from typing import IO, TYPE_CHECKING, Any, TypeVar

from airflow.sdk import BaseHook

from airflow_provider_esign.exceptions import ESignBadRequestError
from airflow_provider_esign.hooks import batch, sync
from airflow_provider_esign.hooks.api import (
    DownloadSource,
    Flow,
)
from airflow_provider_esign.hooks.credentials import Credentials
from airflow_provider_esign.hooks.download import download
from airflow_provider_esign.hooks.pipeline import RequestPipeline
from airflow_provider_esign.hooks.reconcile import send_once_flow
from airflow_provider_esign.hooks.retry import RetryPolicy
from airflow_provider_esign.hooks.settings import (
    DEFAULT_CREATE_SETTLE_SECONDS,
    ConnectionSettings,
    build_settings,
    resolve_option,
    resolve_timeout,
)
from airflow_provider_esign.hooks.transport import AsyncExecutor, SyncExecutor
from airflow_provider_esign.hooks.vendor import VendorInterface
from airflow_provider_esign.models import DocumentInfo, DownloadResult, SendRequest
from airflow_provider_esign.ratelimit import RateLimiter
from airflow_provider_esign.validation import require_signers

if TYPE_CHECKING:
    import requests

T = TypeVar("T")


class ESignHook(VendorInterface, BaseHook, abc.ABC):
    """Common interface of the Legalesign, WeSignature and eSignBase hooks.

    Operators, sensors and triggers use only this interface, so switching vendor means switching the
    connection. Subclasses implement the abstract flows of :class:`VendorInterface` and declare the
    vendor's connection type, name and form (see :mod:`airflow_provider_esign.hooks.registry`).

    :param conn_id: Airflow connection id.
    :param max_attempts: Attempts per API call (overrides the connection extra ``max_attempts``).
    :param max_retry_seconds: Time budget for one call's retries (extra ``max_retry_seconds``).
    :param backoff_base: First backoff step in seconds, doubling per attempt (extra ``backoff_base``).
    :param backoff_max: Longest single wait in seconds, also capping ``Retry-After`` (extra
        ``backoff_max``).
    :param create_settle_seconds: After a create failed in a way that leaves it possibly still
        running at the vendor (timeout, reset, 502/504) and a lookup found nothing, wait this long
        and look again before sending it a second time (extra ``create_settle_seconds``, default 30).
    :param rate_limit_per_minute: Client-side call budget; 0 disables (extra ``rate_limit_per_minute``,
        default: the vendor's documented limit, if any).
    :param timeout: ``(connect, read)`` timeouts in seconds (extra ``timeout`` / ``connect_timeout``).
    :param sleep: Sleep function, injectable for tests.
    :param clock: Monotonic clock, injectable for tests.
    :param connection: The connection, when the caller has already read it (:func:`get_hook` reads
        it to pick the hook class): the settings come from it instead of a second lookup.
    """

    conn_name_attr = "conn_id"

    def __init__(
        self,
        conn_id: str | None = None,
        *,
        max_attempts: int | None = None,
        max_retry_seconds: float | None = None,
        backoff_base: float | None = None,
        backoff_max: float | None = None,
        create_settle_seconds: float | None = None,
        rate_limit_per_minute: float | None = None,
        timeout: tuple[float, float] | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        connection: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.conn_id = conn_id or self.default_conn_name
        self._overrides = {
            "max_attempts": max_attempts,
            "max_retry_seconds": max_retry_seconds,
            "backoff_base": backoff_base,
            "backoff_max": backoff_max,
            "create_settle_seconds": create_settle_seconds,
            "rate_limit_per_minute": rate_limit_per_minute,
            "timeout": timeout,
        }
        self.sleep = sleep
        self.clock = clock
        self._settings_cache: ConnectionSettings | None = None
        self._read_connection: Any = connection
        self._session: requests.Session | None = None
        self._limiter: RateLimiter | None = None
        self.pipeline = RequestPipeline(self)

    # ---------------------------------------------------------------- connection settings
    def build_settings(self, conn: Any, extra: dict[str, Any]) -> ConnectionSettings:
        return build_settings(self.conn_id, conn, extra, self.default_host)

    @property
    def settings(self) -> ConnectionSettings:
        """The connection, read once per hook (sync access; never call from a trigger)."""
        if self._settings_cache is None:
            # get_hook() already read the connection to pick the hook class: not read twice per task.
            conn, self._read_connection = self._read_connection or self.get_connection(self.conn_id), None
            self._settings_cache = self.build_settings(conn, conn.extra_dejson)
            self.validate_settings(self._settings_cache)
        return self._settings_cache

    async def asettings(self) -> ConnectionSettings:
        """The connection, read with Airflow's async connection API (safe inside triggers)."""
        if self._settings_cache is None:
            from airflow.providers.common.compat.connection import (
                get_async_connection,
                get_async_extra_dejson,
            )

            conn = await get_async_connection(self.conn_id, hook=self)
            extra = await get_async_extra_dejson(conn)
            self._settings_cache = self.build_settings(conn, extra)
            self.validate_settings(self._settings_cache)
        return self._settings_cache

    @property
    def settings_or_none(self) -> ConnectionSettings | None:
        return self._settings_cache

    def loaded_settings(self) -> ConnectionSettings:
        """The settings inside a flow: the executor loaded them (a flow never reads the connection)."""
        if self._settings_cache is None:
            raise RuntimeError(f"{type(self).__name__} flows run only inside the hook's pipeline")
        return self._settings_cache

    def option(self, name: str, default: Any) -> Any:
        return resolve_option(self._overrides, self._settings_cache, name, default)

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=max(1, int(self.option("max_attempts", RetryPolicy.max_attempts))),
            max_seconds=float(self.option("max_retry_seconds", RetryPolicy.max_seconds)),
            backoff_base=float(self.option("backoff_base", RetryPolicy.backoff_base)),
            backoff_max=float(self.option("backoff_max", RetryPolicy.backoff_max)),
        )

    @property
    def create_settle_seconds(self) -> float:
        """How long an ambiguous create that may still be in flight gets to appear before a resend."""
        return float(self.option("create_settle_seconds", DEFAULT_CREATE_SETTLE_SECONDS))

    @property
    def timeout(self) -> tuple[float, float]:
        return resolve_timeout(self._overrides, self._settings_cache)

    @property
    def rate_limiter(self) -> RateLimiter:
        if self._limiter is None:
            settings = self.settings_or_none
            per_minute = float(self.option("rate_limit_per_minute", self.default_rate_limit_per_minute))
            key = (
                f"{self.vendor}|{settings.base_url if settings else ''}|{settings.login if settings else ''}"
            )
            storage = self.option("rate_limit_storage", None)
            self._limiter = RateLimiter(
                key, per_minute, storage=storage, clock=self.clock, max_penalty=self.retry_policy.backoff_max
            )
        return self._limiter

    @rate_limiter.setter
    def rate_limiter(self, limiter: RateLimiter) -> None:
        """Replace how this hook asks for a slot (the schedule it reads stays shared by its key)."""
        self._limiter = limiter

    @property
    def credentials_key(self) -> str:
        """Identity of the credentials, hashed: two hooks on the same account share a token."""
        s = self.settings_or_none
        if s is None:
            return ""
        raw = "|".join([self.vendor, s.base_url, s.login, s.password, json.dumps(s.extra, sort_keys=True)])
        return hashlib.sha256(raw.encode()).hexdigest()

    # ---------------------------------------------------------------- public API (sync)
    def get_conn(self) -> requests.Session:
        """The hook's HTTP session (one per hook, connection pooling, timeouts per request)."""
        if self._session is None:
            from airflow_provider_esign.hooks.session import new_session

            self._session = new_session()
        return self._session

    def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def test_connection(self) -> tuple[bool, str]:
        """Check the credentials with one cheap authenticated call."""
        try:
            return True, self.run_flow(self.test_connection_flow())
        except Exception as exc:
            return False, str(exc)

    def get_document(self, document_id: str) -> DocumentInfo:
        """The document's current state, normalized."""
        return self.run_flow(self.get_document_flow(document_id))

    def get_document_details(self, document_id: str) -> DocumentInfo:
        """The document with everything the vendor reports (name, signers' names, times): one read,
        or two where the vendor's status read lacks them (WeSignature). For records, not for polling."""
        return self.run_flow(self.document_details_flow(document_id))

    def list_documents(self, **filters: Any) -> Iterator[DocumentInfo]:
        """Every document the credentials can see, page by page (vendor filters as keywords)."""
        cursor = None
        while True:
            page = self.run_flow(self.list_page_flow(cursor, filters))
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def get_documents(
        self, document_ids: list[str], *, changed_since: float | None = None, **filters: Any
    ) -> dict[str, DocumentInfo]:
        """Several documents at a cost that grows with ``document_ids``, not with the account.

        Picks one document read, a list walk from the newest end, or both (see
        :mod:`~airflow_provider_esign.hooks.batch`); every id the list did not show is read on its
        own, and one the vendor no longer has (404) comes back VOIDED. Logs the method and its cost.

        :param changed_since: Vendor epoch seconds: where the vendor can list changes only, answer
            just the ids changed since (the others are left out: unchanged).
        """
        read = self.run_flow(batch.read_flow(self, list(dict.fromkeys(document_ids)), filters, changed_since))
        return self._batch_done(len(document_ids), read)

    def _batch_done(self, tracked: int, read: batch.BatchRead) -> dict[str, DocumentInfo]:
        self.log.info("get_documents of %d id(s): %s", tracked, read.describe())
        return read.found

    def sync_account(self, ctx: Any) -> int:
        """Walk the account for the contract ledger: the cheapest walk the vendor allows from the
        stored state, each page handed to ``ctx.emit`` with the state to commit alongside it.

        :param ctx: A :class:`~airflow_provider_esign.hooks.sync.SyncContext`.
        :return: The vendor calls the walk made.
        """
        self.run_flow(self.sync_walk(ctx))
        return ctx.calls

    def sync_walk(self, ctx: Any) -> Flow[None]:
        """Every list page, every time (:func:`~airflow_provider_esign.hooks.sync.full_walk`)."""
        return sync.full_walk(self, ctx)

    def cancel_document(self, document_id: str, *, notify: bool = False) -> None:
        """Void / cancel the document at the vendor, as the vendor allows.

        :param notify: Tell the signers, where the vendor supports it.
        """
        self.run_flow(self.cancel_flow(document_id, notify))

    def send_document(
        self,
        request: SendRequest,
        *,
        idempotency_key: str | None = None,
        checkpoint: MutableMapping[str, Any] | None = None,
        adopt_existing: bool = False,
        validated: bool = False,
    ) -> DocumentInfo:
        """Create a document and send it for signature, exactly once.

        The create call itself is never blindly retried. When its outcome is unknown (connection
        dropped, 5xx, timeout after sending), the hook looks for the document by ``idempotency_key``
        and adopts it; only when none exists is the create sent again.

        :param request: What to send.
        :param idempotency_key: Stable key of this intended send; stored at the vendor where possible.
            Without it an ambiguous failure is raised instead of reconciled.
        :param checkpoint: Mapping persisted by the caller across crashes (the task state store): the
            hook records what reconciliation needs here before creating.
        :param adopt_existing: Look for an earlier attempt's document before creating (retried tries).
        :param validated: The caller has run :meth:`validate_send_request` on ``request`` already (the
            send operator does, before any other work): not run twice.
        """
        if not validated:
            self.validate_send_request(request)
        # Dict signers (as a DAG passes them) become Signer objects once, for every vendor's flows;
        # validate_send_request has checked them, with errors naming the field.
        request = replace(request, signers=require_signers(request.signers))
        if idempotency_key is not None:
            self.validate_idempotency_key(idempotency_key)
        checkpoint = checkpoint if checkpoint is not None else {}
        try:
            return self.run_flow(send_once_flow(self, request, idempotency_key, checkpoint, adopt_existing))
        except ESignBadRequestError:
            self.after_send_rejected(request)
            raise

    def download_document(
        self, document_id: str, destination: IO[bytes], *, chunk_size: int = 1024 * 1024
    ) -> DownloadResult:
        """Stream the final signed PDF into ``destination`` and verify it.

        Memory stays constant (one chunk). A transfer that breaks resumes with a ``Range`` request
        (guarded by ``If-Range``, so a file changed in between is fetched whole) where the vendor
        supports it, else restarts from zero (``destination`` must be seekable).
        The result is checked for the PDF signature, the announced length and the vendor's SHA-256
        where one is published; on failure nothing is promised about ``destination``'s content, so
        callers write to a temporary file (see ``DownloadDocumentOperator``).

        :raises DocumentNotReadyError: The vendor has no final PDF yet.
        :raises ESignIntegrityError: The bytes failed verification.
        """
        source = self.run_flow(self.download_source_flow(document_id))
        return self.download_from_source(source, destination, chunk_size=chunk_size)

    def download_from_source(
        self,
        source: DownloadSource,
        destination: IO[bytes],
        *,
        chunk_size: int = 1024 * 1024,
        operation: str = "download_document",
    ) -> DownloadResult:
        """Stream and verify any PDF the vendor serves (final PDF, audit log) into ``destination``."""
        self.settings  # noqa: B018 - loaded before the transfer: its first request needs the base URL
        return SyncExecutor(self).run(download(self.pipeline, source, destination, chunk_size, operation))

    # ---------------------------------------------------------------- public API (async)
    async def aget_document(self, document_id: str) -> DocumentInfo:
        """Async :meth:`get_document` (for triggers)."""
        return await self.arun_flow(self.get_document_flow(document_id))

    async def aserver_time(self) -> float | None:
        """The vendor's clock now (epoch seconds, from one cheap call's ``Date`` header), or None where
        the hook has no such call or the vendor sent no usable date."""
        return await self.arun_flow(self.server_time_flow())

    async def alist_documents(self, **filters: Any) -> AsyncIterator[DocumentInfo]:
        """Async :meth:`list_documents` (for triggers)."""
        cursor = None
        while True:
            page = await self.arun_flow(self.list_page_flow(cursor, filters))
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def alist_documents_since(self, since: float, **filters: Any) -> AsyncIterator[DocumentInfo]:
        """The documents created since ``since`` (epoch seconds; and a page's worth older), read from
        the list's newest end (:class:`~.batch.NewestEndWalk`): a few calls at any account size."""
        page = await self.arun_flow(self.list_page_flow(None, filters))
        walk = batch.NewestEndWalk(page, since, self.list_at_offset)
        while True:
            for doc in page.items:
                yield doc
            cursor = walk.next_cursor(page)
            if cursor is None:
                return
            page = await self.arun_flow(self.list_page_flow(cursor, filters))

    async def aget_documents(
        self, document_ids: list[str], *, changed_since: float | None = None, **filters: Any
    ) -> dict[str, DocumentInfo]:
        """Async :meth:`get_documents` (the same plan; large pages are parsed off the event loop)."""
        flow = batch.read_flow(self, list(dict.fromkeys(document_ids)), filters, changed_since)
        return self._batch_done(len(document_ids), await self.arun_flow(flow))

    # ---------------------------------------------------------------- executors
    def run_flow(self, flow: Flow[T]) -> T:
        """Run ``flow`` through the hook's pipeline with blocking HTTP (``requests``)."""
        self.settings  # noqa: B018 - loaded here: a flow never reads the connection
        return SyncExecutor(self).run(self.pipeline.run(flow))

    async def arun_flow(self, flow: Flow[T]) -> T:
        """Run ``flow`` through the hook's pipeline with async HTTP (``httpx``), for triggers."""
        await self.asettings()
        return await AsyncExecutor(self).run(self.pipeline.run(flow))

    def credentials(self) -> Credentials | None:
        """The process's credentials for this connection, logging in if needed (blocking)."""
        self.settings  # noqa: B018
        return SyncExecutor(self).run(self.pipeline.credentials())
