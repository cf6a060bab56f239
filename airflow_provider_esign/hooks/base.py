"""The shared base of the vendor hooks.

Each vendor hook describes its wire format once, as *flows*: generators that yield
:class:`ApiRequest` objects and receive :class:`ApiResponse` objects back. This base runs the same
flow synchronously (``requests``, for operators and sensors) or asynchronously (``httpx``, for
triggers), and owns everything that is not vendor-specific:

* connection settings (sync and async connection access),
* credentials caching and refresh (once on a 401),
* the retry policy (tenacity: exponential backoff with jitter, ``Retry-After``),
* the client-side rate limiter,
* mapping HTTP failures to :mod:`airflow_provider_esign.exceptions`,
* exactly-once sends (idempotency key, reconciliation of ambiguous creates),
* verified, resumable, streaming downloads.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
import re
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable, Generator, Iterator, MutableMapping
from dataclasses import dataclass, field, replace
from typing import IO, TYPE_CHECKING, Any, ClassVar, TypeVar
from urllib.parse import quote, urljoin

from airflow.sdk import BaseHook

from airflow_provider_esign import __version__
from airflow_provider_esign.exceptions import (
    DocumentNotReadyError,
    ESignApiError,
    ESignAuthError,
    ESignBadRequestError,
    ESignIntegrityError,
    ESignNotFoundError,
    ESignRateLimitError,
    ESignServerError,
    ESignTransportError,
)
from airflow_provider_esign.models import DocumentInfo, DownloadResult, FormField, SendRequest
from airflow_provider_esign.ratelimit import RateLimiter

if TYPE_CHECKING:
    import httpx
    import requests

T = TypeVar("T")

log = logging.getLogger(__name__)

PDF_MAGIC = b"%PDF-"
_USER_AGENT = f"airflow-provider-esign/{__version__}"
MAX_ERROR_TEXT = 300
#: After an ambiguous create that may still be running at the vendor (timeout, reset, 502/504) and a
#: lookup that found nothing, wait this long and look again before sending a second time.
DEFAULT_CREATE_SETTLE_SECONDS = 30.0


# --------------------------------------------------------------------------------------------------
# Wire-level values
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ApiRequest:
    """One HTTP request a flow wants sent.

    :param method: HTTP method.
    :param path: Path relative to the connection's base URL, or an absolute URL.
    :param operation: Hook operation name, used in errors (``get_document``).
    :param params: Query parameters.
    :param json: JSON body.
    :param data: Form body.
    :param headers: Extra headers.
    :param auth: Whether the vendor's credentials are applied.
    :param idempotent: Whether sending it twice is harmless (reads). Creates are not.
    :param ok_statuses: Statuses handed to the flow instead of raising (e.g. Legalesign's 201 on
        ``/pdf/`` meaning "not ready").
    """

    method: str
    path: str
    operation: str
    params: dict[str, Any] | None = None
    json: Any = None
    data: dict[str, str] | None = None
    headers: dict[str, str] = field(default_factory=dict)
    auth: bool = True
    idempotent: bool = True
    ok_statuses: frozenset[int] = frozenset()


@dataclass(frozen=True)
class ApiResponse:
    """The parts of an HTTP response a flow reads."""

    status_code: int
    headers: dict[str, str]
    content: bytes
    url: str

    def header(self, name: str, default: str | None = None) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), default)

    def json(self) -> Any:
        try:
            return json.loads(self.content or b"null")
        except ValueError:
            return None

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


Flow = Generator[ApiRequest, ApiResponse, T]
"""A vendor operation: yields requests, receives responses, returns a value."""


@dataclass(frozen=True)
class Page:
    """One page of a document list; ``next_cursor`` is None on the last page."""

    items: list[DocumentInfo]
    next_cursor: Any = None


@dataclass(frozen=True)
class DownloadSource:
    """Where and how to fetch a final PDF, as worked out by a vendor flow.

    :param url: Path relative to the base URL, or an absolute URL.
    :param auth: Whether to send the vendor's credentials (False for pre-signed links).
    :param supports_range: Whether a broken transfer can resume with ``Range``.
    :param sha256: The vendor-published checksum (hex or base64), if any.
    :param not_ready_statuses: 2xx statuses meaning "not ready yet" (Legalesign 201/202).
    :param document: The document, when the flow read it to find the source.
    """

    url: str
    auth: bool = True
    supports_range: bool = False
    sha256: str | None = None
    not_ready_statuses: frozenset[int] = frozenset()
    document: DocumentInfo | None = None


@dataclass(frozen=True)
class ConnectionSettings:
    """An Airflow connection, reduced to what the hooks read."""

    conn_id: str
    base_url: str
    login: str
    password: str
    extra: dict[str, Any]


@dataclass
class Credentials:
    """Runtime credentials from a login call (token, api key) and when they lapse."""

    values: dict[str, str]
    expires_at: float | None = None  # time.monotonic() deadline


@dataclass(frozen=True)
class RetryPolicy:
    """How the hook retries transient failures.

    :param max_attempts: Attempts per call, first one included.
    :param max_seconds: Give up once this much time has passed since the first attempt.
    :param backoff_base: First backoff step in seconds (doubles each attempt, full jitter).
    :param backoff_max: Longest single wait in seconds (also caps ``Retry-After``).
    :param rate_limited_wait: Wait after a 429 that carries no ``Retry-After``.
    """

    max_attempts: int = 5
    max_seconds: float = 300.0
    backoff_base: float = 1.0
    backoff_max: float = 60.0
    rate_limited_wait: float = 10.0

    RETRY_STATUSES: ClassVar[frozenset[int]] = frozenset({429, 502, 503, 504})

    def is_retryable(self, exc: BaseException, request: ApiRequest) -> bool:
        """Transient failures are retried; for non-idempotent calls only when nothing was processed."""
        if isinstance(exc, ESignRateLimitError):
            return True  # throttled requests are not processed
        if isinstance(exc, ESignTransportError):
            return request.idempotent or not getattr(exc, "maybe_processed", True)
        if isinstance(exc, ESignServerError) and request.idempotent:
            return exc.http_status in self.RETRY_STATUSES or exc.http_status == 500
        return False


# --------------------------------------------------------------------------------------------------
# Shared process-wide state: credentials and async clients
# --------------------------------------------------------------------------------------------------
class _CredentialCache:
    """Credentials per connection identity, shared by every hook instance in the process.

    So a batch of mapped tasks in one process (or 1,000 triggers in one triggerer) asks for one
    eSignBase token per expiry, not one per task.
    """

    def __init__(self) -> None:
        self._values: dict[str, Credentials] = {}
        self._thread_locks: dict[str, threading.Lock] = {}
        self._async_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]]
        self._async_locks = weakref.WeakKeyDictionary()
        self._guard = threading.Lock()

    def get(self, key: str, now: float) -> Credentials | None:
        creds = self._values.get(key)
        if creds is None or (creds.expires_at is not None and creds.expires_at <= now):
            return None
        return creds

    def put(self, key: str, creds: Credentials) -> None:
        self._values[key] = creds

    def invalidate(self, key: str, creds: Credentials | None) -> None:
        """Forget ``creds`` unless another caller already replaced them."""
        if creds is None or self._values.get(key) is creds:
            self._values.pop(key, None)

    def thread_lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._thread_locks.setdefault(key, threading.Lock())

    def async_lock(self, key: str) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._guard:
            locks = self._async_locks.setdefault(loop, {})
            return locks.setdefault(key, asyncio.Lock())

    def clear(self) -> None:
        self._values.clear()


CREDENTIALS = _CredentialCache()

# One httpx client per event loop: creating a client builds an SSL context (milliseconds of blocking
# work), which 1,000 triggers starting together would turn into a long event-loop stall.
_ASYNC_CLIENTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = (
    weakref.WeakKeyDictionary()
)
#: Concurrent async requests per event loop (and the pool's connection limit). httpcore's pool does
#: work proportional to queued requests x connections on every request start and end, so 1,000
#: triggers polling together through a 100-connection pool stalled the triggerer's loop for seconds.
#: The provider's requests therefore wait on a semaphore (O(1) per wake-up) and never queue inside the
#: pool; 20 connections still serve far more than any vendor's rate limit allows.
ASYNC_MAX_CONNECTIONS = 20
_ASYNC_SLOTS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _async_client(timeout: tuple[float, float]) -> httpx.AsyncClient:
    import httpx

    loop = asyncio.get_running_loop()
    client = _ASYNC_CLIENTS.get(loop)
    if client is None or client.is_closed:
        client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout[1], connect=timeout[0]),
            limits=httpx.Limits(
                max_connections=ASYNC_MAX_CONNECTIONS, max_keepalive_connections=ASYNC_MAX_CONNECTIONS
            ),
            headers={"User-Agent": _USER_AGENT},
            follow_redirects=True,
        )
        _ASYNC_CLIENTS[loop] = client
    return client


def _async_slots() -> asyncio.Semaphore:
    """The running loop's limit on concurrent async requests (see ``ASYNC_MAX_CONNECTIONS``)."""
    loop = asyncio.get_running_loop()
    slots = _ASYNC_SLOTS.get(loop)
    if slots is None:
        slots = _ASYNC_SLOTS[loop] = asyncio.Semaphore(ASYNC_MAX_CONNECTIONS)
    return slots


# --------------------------------------------------------------------------------------------------
# The hook base
# --------------------------------------------------------------------------------------------------
class ESignHook(BaseHook):
    """Common interface of the Legalesign, WeSignature and eSignBase hooks.

    Operators, sensors and triggers use only this interface, so switching vendor means switching the
    connection. Subclasses implement the ``_*_flow`` methods (their wire format) and the class
    attributes below.

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
    """

    conn_name_attr = "conn_id"
    default_conn_name: ClassVar[str]
    hook_name: ClassVar[str]
    vendor: ClassVar[str]
    default_host: ClassVar[str]
    default_rate_limit_per_minute: ClassVar[float] = 0
    #: Whether a 401 is worth one fresh login (token or api key) before failing.
    reauthenticate_on_401: ClassVar[bool] = False
    supports_cancel: ClassVar[bool] = True
    supports_reminders: ClassVar[bool] = False
    #: Whether the vendor's API serves an audit trail PDF (:meth:`download_audit_log`).
    supports_audit_log: ClassVar[bool] = False
    #: Whether the vendor's API returns the values entered in form fields (:meth:`get_form_data`).
    supports_form_data: ClassVar[bool] = False
    #: Longest idempotency key the vendor can store (eSignBase metadata values: 500 characters).
    max_idempotency_key_length: ClassVar[int] = 500

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
        self._sleep = sleep
        self._clock = clock
        self._settings_cache: ConnectionSettings | None = None
        self._session: requests.Session | None = None
        self._limiter: RateLimiter | None = None

    # ---------------------------------------------------------------- connection settings
    def _build_settings(self, conn: Any, extra: dict[str, Any]) -> ConnectionSettings:
        """Base URL from the connection: a full URL in ``host`` (JSON form), or, in the URI form
        (``legalesign://user:secret@host:port/api%2Fv1?scheme=https``), host, port, ``schema`` as
        the path and the ``scheme`` extra (default https). Empty host: the vendor's default."""
        extra = dict(extra or {})
        host = (conn.host or "").strip()
        if not host:
            base = self.default_host
        elif "://" in host:
            base = host
        else:
            scheme = str(extra.pop("scheme", "https")).strip() or "https"
            port = f":{conn.port}" if conn.port else ""
            path = (conn.schema or "").strip("/")
            base = f"{scheme}://{host}{port}" + (f"/{path}" if path else "")
        return ConnectionSettings(
            conn_id=self.conn_id,
            base_url=base.rstrip("/") + "/",
            login=conn.login or "",
            password=conn.password or "",
            extra=extra,
        )

    @property
    def settings(self) -> ConnectionSettings:
        """The connection, read once per hook (sync access; never call from a trigger)."""
        if self._settings_cache is None:
            conn = self.get_connection(self.conn_id)
            self._settings_cache = self._build_settings(conn, conn.extra_dejson)
            self._validate_settings(self._settings_cache)
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
            self._settings_cache = self._build_settings(conn, extra)
            self._validate_settings(self._settings_cache)
        return self._settings_cache

    def _validate_settings(self, settings: ConnectionSettings) -> None:
        """Raise :class:`ESignValidationError` for a connection that cannot work. Override per vendor."""

    def _option(self, name: str, default: Any) -> Any:
        override = self._overrides.get(name)
        if override is not None:
            return override
        value = self.settings_or_none.extra.get(name) if self.settings_or_none else None
        return default if value in (None, "") else value

    @property
    def settings_or_none(self) -> ConnectionSettings | None:
        return self._settings_cache

    @property
    def retry_policy(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=max(1, int(self._option("max_attempts", RetryPolicy.max_attempts))),
            max_seconds=float(self._option("max_retry_seconds", RetryPolicy.max_seconds)),
            backoff_base=float(self._option("backoff_base", RetryPolicy.backoff_base)),
            backoff_max=float(self._option("backoff_max", RetryPolicy.backoff_max)),
        )

    @property
    def create_settle_seconds(self) -> float:
        """How long an ambiguous create that may still be in flight gets to appear before a resend."""
        return float(self._option("create_settle_seconds", DEFAULT_CREATE_SETTLE_SECONDS))

    @property
    def timeout(self) -> tuple[float, float]:
        value = self._option("timeout", None)
        if isinstance(value, (list, tuple)):
            return float(value[0]), float(value[1])
        read = float(value) if value is not None else 60.0
        return float(self._option("connect_timeout", 10.0)), read

    @property
    def rate_limiter(self) -> RateLimiter:
        if self._limiter is None:
            settings = self.settings_or_none
            per_minute = float(self._option("rate_limit_per_minute", self.default_rate_limit_per_minute))
            key = (
                f"{self.vendor}|{settings.base_url if settings else ''}|{settings.login if settings else ''}"
            )
            self._limiter = RateLimiter(key, per_minute, clock=self._clock)
        return self._limiter

    @property
    def credentials_key(self) -> str:
        """Identity of the credentials, hashed: two hooks on the same account share a token."""
        s = self.settings_or_none
        if s is None:
            return ""
        raw = "|".join([self.vendor, s.base_url, s.login, s.password, json.dumps(s.extra, sort_keys=True)])
        return hashlib.sha256(raw.encode()).hexdigest()

    # ---------------------------------------------------------------- vendor interface (flows)
    def _login_flow(self) -> Flow[Credentials]:
        """Obtain runtime credentials (token, api key). Vendors with static credentials skip this."""
        raise NotImplementedError
        yield  # pragma: no cover

    def _needs_login(self) -> bool:
        return False

    def _apply_auth(self, request: ApiRequest, creds: Credentials | None) -> ApiRequest:
        """Return ``request`` with the vendor's credentials applied (header or body)."""
        raise NotImplementedError

    def _is_unauthorized(self, response: ApiResponse) -> bool:
        """Whether a response means "log in again" (WeSignature also signals 401 inside a 2xx body)."""
        return response.status_code == 401

    def _before_reauthenticate(self, request: ApiRequest, creds: Credentials | None) -> None:
        """Runs before the one re-login after a 401: forget the rejected credentials (or raise)."""
        CREDENTIALS.invalidate(self.credentials_key, creds)

    def _check_response(self, request: ApiRequest, response: ApiResponse) -> None:
        """Raise for vendor errors signalled inside a 2xx body (WeSignature). Default: nothing."""

    def _vendor_message(self, response: ApiResponse) -> str | None:
        """The vendor's error text from an error response, truncated."""
        body = response.json()
        if isinstance(body, dict):
            for key in ("message", "detail", "error_description", "error", "text"):
                if isinstance(body.get(key), str):
                    return body[key][:MAX_ERROR_TEXT]
        text = response.text.strip()
        return text[:MAX_ERROR_TEXT] if text and not text.lstrip().startswith("<") else None

    def _get_document_flow(self, document_id: str) -> Flow[DocumentInfo]:
        raise NotImplementedError
        yield  # pragma: no cover

    def _list_page_flow(self, cursor: Any, filters: dict[str, Any]) -> Flow[Page]:
        raise NotImplementedError
        yield  # pragma: no cover

    def _create_flow(self, request: SendRequest, idempotency_key: str | None) -> Flow[DocumentInfo]:
        """Create and send the document: exactly one non-idempotent create call, marked with the key."""
        raise NotImplementedError
        yield  # pragma: no cover

    def _prepare_send_flow(self, request: SendRequest) -> Flow[SendRequest]:
        """Checks and uploads that must happen before the create call (template roles, PDF upload)."""
        return request
        yield  # pragma: no cover

    def _find_sent_flow(
        self, request: SendRequest, idempotency_key: str, checkpoint: MutableMapping[str, Any]
    ) -> Flow[DocumentInfo | None]:
        """Find the document an earlier attempt created for ``idempotency_key``, if any."""
        raise NotImplementedError
        yield  # pragma: no cover

    def _find_first_flow(
        self, filters: dict[str, Any], matches: Callable[[DocumentInfo], bool]
    ) -> Flow[DocumentInfo | None]:
        """Walk the document list page by page; the first document ``matches`` accepts, or None."""
        cursor: Any = None
        while True:
            page = yield from self._list_page_flow(cursor, filters)
            found = next((doc for doc in page.items if matches(doc)), None)
            if found is not None or page.next_cursor is None:
                return found
            cursor = page.next_cursor

    def _before_create_flow(self, request: SendRequest, checkpoint: MutableMapping[str, Any]) -> Flow[None]:
        """Record what reconciliation needs before the create call (WeSignature's baseline)."""
        return None
        yield  # pragma: no cover

    def _cancel_flow(self, document_id: str, notify: bool) -> Flow[None]:
        raise NotImplementedError
        yield  # pragma: no cover

    def _download_source_flow(self, document_id: str) -> Flow[DownloadSource]:
        raise NotImplementedError
        yield  # pragma: no cover

    def _test_connection_flow(self) -> Flow[str]:
        raise NotImplementedError
        yield  # pragma: no cover

    def validate_send_request(self, request: SendRequest) -> None:
        """Static checks of a send request: raise :class:`ESignValidationError`, never call HTTP."""

    def validate_idempotency_key(self, key: str) -> None:
        """Check the key fits where the vendor stores it, before any call (uploads included) is made."""
        from airflow_provider_esign.validation import require_text

        require_text("idempotency_key", key, max_length=self.max_idempotency_key_length)

    def document_url(self, document_id: str) -> str | None:
        """URL of the document in the vendor's web app, where the vendor has such a page."""
        return None

    def web_url(self, document: DocumentInfo) -> str | None:
        """Web link for a document (the operator's extra link); vendors may read it from the payload."""
        return self.document_url(document.document_id)

    def send_reminder(self, document_id: str, signer_email: str | None = None, text: str = "") -> list[str]:
        """Remind the signers who have not signed yet; returns the emails reminded.

        :param signer_email: Remind only this signer.
        :param text: Custom message, where the vendor supports one.
        """
        from airflow_provider_esign.exceptions import ESignUnsupportedError

        raise ESignUnsupportedError(f"{self.hook_name} offers no reminder API")

    def download_audit_log(
        self, document_id: str, destination: IO[bytes], *, chunk_size: int = 1024 * 1024
    ) -> DownloadResult:
        """Stream the document's audit trail PDF into ``destination`` (checked to be a PDF).

        :raises ESignUnsupportedError: The vendor's API offers no audit trail.
        """
        from airflow_provider_esign.exceptions import ESignUnsupportedError

        raise ESignUnsupportedError(f"{self.hook_name}'s API offers no audit log")

    def get_form_data(self, document_id: str, *, document: DocumentInfo | None = None) -> list[FormField]:
        """The values entered in the document's form fields, vendor-neutral.

        :param document: The document, if already read: lets the hook match fields to signer emails
            without another call.
        :raises ESignUnsupportedError: The vendor's API offers no form field values.
        """
        from airflow_provider_esign.exceptions import ESignUnsupportedError

        raise ESignUnsupportedError(f"{self.hook_name}'s API offers no form field values")

    # ---------------------------------------------------------------- public API (sync)
    def get_conn(self) -> requests.Session:
        """The hook's HTTP session (one per hook, connection pooling, timeouts per request)."""
        if self._session is None:
            import requests
            from requests.adapters import HTTPAdapter

            session = requests.Session()
            session.headers["User-Agent"] = _USER_AGENT
            adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._session = session
        return self._session

    def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            self._session.close()
            self._session = None

    def test_connection(self) -> tuple[bool, str]:
        """Check the credentials with one cheap authenticated call."""
        try:
            return True, self._run(self._test_connection_flow())
        except Exception as exc:
            return False, str(exc)

    def get_document(self, document_id: str) -> DocumentInfo:
        """The document's current state, normalized."""
        return self._run(self._get_document_flow(document_id))

    def list_documents(self, **filters: Any) -> Iterator[DocumentInfo]:
        """Every document the credentials can see, page by page (vendor filters as keywords)."""
        cursor = None
        while True:
            page = self._run(self._list_page_flow(cursor, filters))
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def get_documents(self, document_ids: list[str], **filters: Any) -> dict[str, DocumentInfo]:
        """Several documents at once through the list endpoint: stops paging once all are found."""
        wanted = set(document_ids)
        found: dict[str, DocumentInfo] = {}
        for doc in self.list_documents(**filters):
            if doc.document_id in wanted:
                found[doc.document_id] = doc
                if len(found) == len(wanted):
                    break
        return found

    def cancel_document(self, document_id: str, *, notify: bool = False) -> None:
        """Void / cancel the document at the vendor, as the vendor allows.

        :param notify: Tell the signers, where the vendor supports it.
        """
        self._run(self._cancel_flow(document_id, notify))

    def send_document(
        self,
        request: SendRequest,
        *,
        idempotency_key: str | None = None,
        checkpoint: MutableMapping[str, Any] | None = None,
        adopt_existing: bool = False,
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
        """
        self.validate_send_request(request)
        if idempotency_key is not None:
            self.validate_idempotency_key(idempotency_key)
        checkpoint = checkpoint if checkpoint is not None else {}
        prepared = self._run(self._prepare_send_flow(request))
        if idempotency_key and adopt_existing:
            existing = self._run(self._find_sent_flow(prepared, idempotency_key, checkpoint))
            if existing is not None:
                self.log.info("Adopting document %s sent by an earlier attempt", existing.document_id)
                return existing
        if idempotency_key:
            self._run(self._before_create_flow(prepared, checkpoint))
        policy = self.retry_policy
        started = self._clock()
        for attempt in range(1, policy.max_attempts + 1):
            try:
                return self._run(self._create_flow(prepared, idempotency_key))
            except (ESignTransportError, ESignServerError) as exc:
                out_of_budget = attempt >= policy.max_attempts or self._clock() - started > policy.max_seconds
                if not idempotency_key or out_of_budget:
                    raise
                self.log.warning(
                    "Create failed ambiguously (%s); checking whether the vendor created it", exc
                )
                self._sleep(self._backoff(policy, attempt, exc))
                existing = self._run(self._find_sent_flow(prepared, idempotency_key, checkpoint))
                settle = self.create_settle_seconds
                if existing is None and settle > 0 and _may_still_be_in_flight(exc):
                    # A create the vendor is still working on (the client timed out, a gateway gave
                    # up) is not listed yet: give it time to land before sending a second one.
                    self.log.warning(
                        "No document carries the key yet, but the create may still be in progress at "
                        "the vendor; looking again in %.0fs before sending it again",
                        settle,
                    )
                    self._sleep(settle)
                    existing = self._run(self._find_sent_flow(prepared, idempotency_key, checkpoint))
                if existing is not None:
                    self.log.info("The vendor had created %s; adopting it", existing.document_id)
                    return existing
        raise AssertionError("unreachable")  # pragma: no cover

    def download_document(
        self, document_id: str, destination: IO[bytes], *, chunk_size: int = 1024 * 1024
    ) -> DownloadResult:
        """Stream the final signed PDF into ``destination`` and verify it.

        Memory stays constant (one chunk). A transfer that breaks resumes with a ``Range`` request
        where the vendor supports it, else restarts from zero (``destination`` must be seekable).
        The result is checked for the PDF signature, the announced length and the vendor's SHA-256
        where one is published; on failure nothing is promised about ``destination``'s content, so
        callers write to a temporary file (see ``DownloadDocumentOperator``).

        :raises DocumentNotReadyError: The vendor has no final PDF yet.
        :raises ESignIntegrityError: The bytes failed verification.
        """
        source = self._run(self._download_source_flow(document_id))
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
        return _Download(self, source, destination, chunk_size, operation).run()

    # ---------------------------------------------------------------- public API (async)
    async def aget_document(self, document_id: str) -> DocumentInfo:
        """Async :meth:`get_document` (for triggers)."""
        return await self._arun(self._get_document_flow(document_id))

    async def alist_documents(self, **filters: Any) -> AsyncIterator[DocumentInfo]:
        """Async :meth:`list_documents` (for triggers)."""
        cursor = None
        while True:
            page = await self._arun(self._list_page_flow(cursor, filters))
            for item in page.items:
                yield item
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    async def aget_documents(self, document_ids: list[str], **filters: Any) -> dict[str, DocumentInfo]:
        """Async :meth:`get_documents`."""
        wanted = set(document_ids)
        found: dict[str, DocumentInfo] = {}
        async for doc in self.alist_documents(**filters):
            if doc.document_id in wanted:
                found[doc.document_id] = doc
                if len(found) == len(wanted):
                    break
        return found

    # ---------------------------------------------------------------- flow drivers
    def _run(self, flow: Flow[T]) -> T:
        """Drive ``flow`` with blocking HTTP."""
        settings = self.settings
        try:
            request = next(flow)
            while True:
                response = self._send(settings, request)
                request = flow.send(response)
        except StopIteration as stop:
            return stop.value

    async def _arun(self, flow: Flow[T]) -> T:
        """Drive ``flow`` with async HTTP."""
        settings = await self.asettings()
        try:
            request = next(flow)
            while True:
                response = await self._asend(settings, request)
                request = flow.send(response)
        except StopIteration as stop:
            return stop.value

    def _send(self, settings: ConnectionSettings, request: ApiRequest) -> ApiResponse:
        from tenacity import Retrying

        policy = self.retry_policy
        retrying = Retrying(
            stop=self._stop(policy),
            wait=lambda state: self._backoff(policy, state.attempt_number, _outcome_error(state)),
            retry=lambda state: self._should_retry(policy, request, state.outcome),
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda state: self._log_retry(request, state),
        )
        return retrying(self._send_once, settings, request)

    async def _asend(self, settings: ConnectionSettings, request: ApiRequest) -> ApiResponse:
        from tenacity import AsyncRetrying

        policy = self.retry_policy
        retrying = AsyncRetrying(
            stop=self._stop(policy),
            wait=lambda state: self._backoff(policy, state.attempt_number, _outcome_error(state)),
            retry=lambda state: self._should_retry(policy, request, state.outcome),
            reraise=True,
            before_sleep=lambda state: self._log_retry(request, state),
        )
        return await retrying(self._asend_once, settings, request)

    def _send_once(self, settings: ConnectionSettings, request: ApiRequest) -> ApiResponse:
        creds = self._credentials() if request.auth else None
        response = self._http(settings, self._apply_auth(request, creds) if request.auth else request)
        if request.auth and self.reauthenticate_on_401 and self._is_unauthorized(response):
            self._before_reauthenticate(request, creds)
            response = self._http(settings, self._apply_auth(request, self._credentials()))
        self._raise_for_response(request, response)
        return response

    async def _asend_once(self, settings: ConnectionSettings, request: ApiRequest) -> ApiResponse:
        creds = await self._acredentials() if request.auth else None
        response = await self._ahttp(settings, self._apply_auth(request, creds) if request.auth else request)
        if request.auth and self.reauthenticate_on_401 and self._is_unauthorized(response):
            self._before_reauthenticate(request, creds)
            response = await self._ahttp(settings, self._apply_auth(request, await self._acredentials()))
        self._raise_for_response(request, response)
        return response

    # ---------------------------------------------------------------- credentials
    def _credentials(self) -> Credentials | None:
        if not self._needs_login():
            return None
        key = self.credentials_key
        creds = CREDENTIALS.get(key, self._clock())
        if creds is not None:
            return creds
        with CREDENTIALS.thread_lock(key):
            creds = CREDENTIALS.get(key, self._clock())
            if creds is None:
                creds = self._run(self._login_flow())
                self._mask(creds)
                CREDENTIALS.put(key, creds)
        return creds

    async def _acredentials(self) -> Credentials | None:
        if not self._needs_login():
            return None
        key = self.credentials_key
        creds = CREDENTIALS.get(key, self._clock())
        if creds is not None:
            return creds
        async with CREDENTIALS.async_lock(key):
            creds = CREDENTIALS.get(key, self._clock())
            if creds is None:
                creds = await self._arun(self._login_flow())
                await self._amask(creds)
                CREDENTIALS.put(key, creds)
        return creds

    @staticmethod
    def _mask(creds: Credentials) -> None:
        for value in creds.values.values():
            mask(value)

    @staticmethod
    async def _amask(creds: Credentials) -> None:
        for value in creds.values.values():
            await amask(value)

    # ---------------------------------------------------------------- HTTP
    def _url(self, settings: ConnectionSettings, path: str) -> str:
        if "://" in path:
            return path
        return urljoin(settings.base_url, path.lstrip("/"))

    def _wait_for_rate_limit(self) -> float:
        delay = self.rate_limiter.reserve()
        return delay

    def _http(self, settings: ConnectionSettings, request: ApiRequest) -> ApiResponse:
        import requests

        delay = self._wait_for_rate_limit()
        if delay:
            self._sleep(delay)
        try:
            resp = self.get_conn().request(
                request.method,
                self._url(settings, request.path),
                params=request.params,
                json=request.json,
                data=request.data,
                headers=request.headers,
                timeout=self.timeout,
            )
        except requests.ConnectionError as exc:
            raise self._transport_error(request, exc, maybe_processed=not _is_connect_failure(exc)) from None
        except requests.RequestException as exc:
            raise self._transport_error(request, exc, maybe_processed=True) from None
        return ApiResponse(resp.status_code, dict(resp.headers), resp.content, resp.url)

    async def _ahttp(self, settings: ConnectionSettings, request: ApiRequest) -> ApiResponse:
        import httpx

        delay = self._wait_for_rate_limit()
        if delay:
            await asyncio.sleep(delay)
        try:
            async with _async_slots():
                resp = await _async_client(self.timeout).request(
                    request.method,
                    self._url(settings, request.path),
                    params=request.params,
                    json=request.json,
                    data=request.data,
                    headers=request.headers,
                )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise self._transport_error(request, exc, maybe_processed=False) from None
        except httpx.HTTPError as exc:
            raise self._transport_error(request, exc, maybe_processed=True) from None
        return ApiResponse(resp.status_code, dict(resp.headers), resp.content, str(resp.url))

    def _transport_error(self, request: ApiRequest, exc: Exception, *, maybe_processed: bool):
        error = ESignTransportError(
            f"no usable answer ({type(exc).__name__})", conn_id=self.conn_id, operation=request.operation
        )
        error.maybe_processed = maybe_processed  # type: ignore[attr-defined]
        return error

    def _raise_for_response(self, request: ApiRequest, response: ApiResponse) -> None:
        status = response.status_code
        if status < 400 or status in request.ok_statuses:
            self._check_response(request, response)
            return
        kwargs: dict[str, Any] = {
            "conn_id": self.conn_id,
            "operation": request.operation,
            "status_code": status,
            "vendor_message": self._vendor_message(response),
        }
        if status in (401, 403):
            raise ESignAuthError("credentials rejected; check the connection", **kwargs)
        if status == 404:
            raise ESignNotFoundError("not found", **kwargs)
        if status == 429:
            retry_after = _retry_after_seconds(response.header("Retry-After"))
            if retry_after:
                self.rate_limiter.penalize(retry_after)
            raise ESignRateLimitError("throttled by the vendor", retry_after=retry_after, **kwargs)
        if status >= 500:
            raise ESignServerError("vendor error", **kwargs)
        raise ESignBadRequestError("request rejected", **kwargs)

    # ---------------------------------------------------------------- retry helpers
    def _stop(self, policy: RetryPolicy):
        from tenacity import stop_after_attempt, stop_after_delay

        return stop_after_attempt(policy.max_attempts) | stop_after_delay(policy.max_seconds)

    @staticmethod
    def _should_retry(policy: RetryPolicy, request: ApiRequest, outcome: Any) -> bool:
        exc = outcome.exception() if outcome is not None else None
        return exc is not None and policy.is_retryable(exc, request)

    def _backoff(self, policy: RetryPolicy, attempt: int, exc: BaseException | None) -> float:
        import random

        if isinstance(exc, ESignRateLimitError):
            wanted = exc.retry_after if exc.retry_after is not None else policy.rate_limited_wait
            return min(max(wanted, 0.0), policy.backoff_max)
        ceiling = min(policy.backoff_max, policy.backoff_base * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)  # "equal jitter": never zero, never synchronized

    def _log_retry(self, request: ApiRequest, state: Any) -> None:
        exc = _outcome_error(state)
        self.log.warning(
            "%s attempt %d failed (%s); retrying in %.1fs",
            request.operation,
            state.attempt_number,
            exc,
            state.next_action.sleep if state.next_action else 0.0,
        )


def mask(secret: str) -> None:
    """Register a runtime secret (token, api key, auth header) with Airflow's secrets masker."""
    from airflow.providers.common.compat.sdk import mask_secret

    mask_secret(secret)


async def amask(secret: str) -> None:
    """:func:`mask` for async code: in the triggerer, sync masking goes through the supervisor
    and can deadlock the event loop."""
    try:
        from airflow.sdk.log import amask_secret
    except ImportError:  # Airflow < 3.2 has no async variant; masking is in-process there
        mask(secret)
        return
    await amask_secret(secret)


def _outcome_error(state: Any) -> BaseException | None:
    return state.outcome.exception() if state.outcome is not None else None


def single_request(request: ApiRequest) -> Flow[ApiResponse]:
    """A flow of one request whose response is returned as is."""
    response = yield request
    return response


def quote_id(value: str) -> str:
    """Percent-encode an opaque vendor id for a URL path (including ``/``)."""
    return quote(str(value), safe="")


def truthy(value: Any) -> bool:
    """Connection extras arrive as JSON booleans or as strings from URI-form connections."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def _retry_after_seconds(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _may_still_be_in_flight(exc: BaseException) -> bool:
    """Whether a failed create may still be processed by the vendor after the failure: the request
    left the client and no server answered for it (timeout, reset), or a gateway gave up (502/504)."""
    if isinstance(exc, ESignTransportError):
        return bool(getattr(exc, "maybe_processed", True))
    return isinstance(exc, ESignServerError) and exc.http_status in (502, 504)


def _is_connect_failure(exc: Exception) -> bool:
    """Whether the request never left the client (safe to resend even a create)."""
    import requests

    if isinstance(exc, requests.ConnectTimeout):
        return True
    text = repr(exc)
    return any(marker in text for marker in ("NewConnectionError", "Connection refused", "NameResolution"))


def sha256_matches(expected: str, digest: bytes) -> bool:
    """Compare a vendor checksum given as hex or base64 (Legalesign does not say which)."""
    expected = expected.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", expected):
        return expected.lower() == digest.hex()
    try:
        return base64.b64decode(expected, validate=True) == digest
    except ValueError:
        return False


class _Download:
    """One verified, resumable streaming download into a seekable binary file."""

    def __init__(
        self, hook: ESignHook, source: DownloadSource, out: IO[bytes], chunk_size: int, operation: str
    ) -> None:
        self.hook = hook
        self.operation = operation
        self.source = source
        self.out = out
        self.chunk_size = chunk_size
        self.resumed = 0
        self.restarted = 0

    def run(self) -> DownloadResult:
        hook, policy = self.hook, self.hook.retry_policy
        settings = hook.settings
        request = ApiRequest(
            "GET",
            self.source.url,
            operation=self.operation,
            auth=self.source.auth,
            headers={"Accept": "application/pdf"},
            ok_statuses=self.source.not_ready_statuses,
        )
        hasher, written, total = hashlib.sha256(), 0, None
        for attempt in range(1, policy.max_attempts + 1):
            headers = dict(request.headers)
            resuming = written > 0 and self.source.supports_range
            if resuming:
                headers["Range"] = f"bytes={written}-"
            elif written:
                self.out.seek(0)
                self.out.truncate()
                hasher, written = hashlib.sha256(), 0
                self.restarted += 1
            try:
                response = self._open(settings, replace(request, headers=headers))
                try:
                    if response.status_code in self.source.not_ready_statuses:
                        raise DocumentNotReadyError(
                            f"The final PDF is not ready yet (HTTP {response.status_code})"
                        )
                    if resuming and response.status_code == 206:
                        self.resumed += 1
                    elif resuming:  # the server ignored Range: start over
                        self.out.seek(0)
                        self.out.truncate()
                        hasher, written = hashlib.sha256(), 0
                        self.restarted += 1
                    total = self._expected_total(response, written) or total
                    for chunk in response.iter_content(self.chunk_size):
                        if written == 0 and not chunk.startswith(PDF_MAGIC[: len(chunk)]):
                            self._not_a_pdf(response)
                        self.out.write(chunk)
                        hasher.update(chunk)
                        written += len(chunk)
                finally:
                    response.close()
                if total is not None and written < total:
                    raise hook._transport_error(request, EOFError("truncated body"), maybe_processed=True)
                break
            except ESignApiError as exc:
                retryable = policy.is_retryable(exc, request)
                if not retryable or attempt >= policy.max_attempts:
                    raise
                hook.log.warning("Download interrupted after %d bytes (%s); retrying", written, exc)
                hook._sleep(hook._backoff(policy, attempt, exc))
        return self._verify(hasher.digest(), written, total)

    def _open(self, settings: ConnectionSettings, request: ApiRequest):
        import requests

        hook = self.hook
        delay = hook._wait_for_rate_limit()
        if delay:
            hook._sleep(delay)
        creds = hook._credentials() if request.auth else None
        prepared = hook._apply_auth(request, creds) if request.auth else request
        try:
            response = hook.get_conn().get(
                hook._url(settings, prepared.path),
                headers=prepared.headers,
                params=prepared.params,
                stream=True,
                timeout=hook.timeout,
            )
            if response.status_code == 401 and request.auth and hook.reauthenticate_on_401:
                response.close()
                hook._before_reauthenticate(request, creds)
                prepared = hook._apply_auth(request, hook._credentials())
                response = hook.get_conn().get(
                    hook._url(settings, prepared.path),
                    headers=prepared.headers,
                    stream=True,
                    timeout=hook.timeout,
                )
        except requests.RequestException as exc:
            raise hook._transport_error(request, exc, maybe_processed=True) from None
        if response.status_code >= 400:
            body = ApiResponse(response.status_code, dict(response.headers), response.content[:4096], "")
            response.close()
            hook._raise_for_response(request, body)
        return _StreamingResponse(hook, request, response)

    @staticmethod
    def _expected_total(response: _StreamingResponse, written: int) -> int | None:
        content_range = response.header("Content-Range")
        if response.status_code == 206 and content_range and "/" in content_range:
            size = content_range.rsplit("/", 1)[1]
            return int(size) if size.isdigit() else None
        length = response.header("Content-Length")
        if length and length.isdigit():
            return int(length) + (written if response.status_code == 206 else 0)
        return None

    def _not_a_pdf(self, response: _StreamingResponse) -> None:
        content_type = response.header("Content-Type") or "unknown"
        if self.source.not_ready_statuses or "html" in content_type:
            raise DocumentNotReadyError(
                f"The vendor answered with {content_type!r} instead of a PDF; the final PDF is not ready"
                " (or the download link needs a browser session)"
            )
        raise ESignIntegrityError(f"The download is not a PDF (Content-Type {content_type!r})")

    def _verify(self, digest: bytes, written: int, total: int | None) -> DownloadResult:
        checks = ["pdf-magic"]
        if written < len(PDF_MAGIC):
            raise ESignIntegrityError(f"The download is not a PDF ({written} bytes)")
        if total is not None:
            if written != total:
                raise ESignIntegrityError(f"Length mismatch: got {written} bytes, expected {total}")
            checks.append("content-length")
        if self.source.sha256:
            if not sha256_matches(self.source.sha256, digest):
                raise ESignIntegrityError("SHA-256 mismatch: the download differs from the vendor's checksum")
            checks.append("vendor-sha256")
        return DownloadResult(
            size=written,
            sha256=digest.hex(),
            verified_against=tuple(checks),
            resumed=self.resumed,
            restarted=self.restarted,
            document=self.source.document,
        )


class _StreamingResponse:
    """A streamed ``requests`` response whose mid-body failures become ``ESignTransportError``."""

    def __init__(self, hook: ESignHook, request: ApiRequest, response: requests.Response) -> None:
        self.hook = hook
        self.request = request
        self.response = response
        self.status_code = response.status_code

    def header(self, name: str) -> str | None:
        return self.response.headers.get(name)

    def iter_content(self, chunk_size: int) -> Iterator[bytes]:
        import requests
        import urllib3

        try:
            yield from self.response.iter_content(chunk_size)
        except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
            raise self.hook._transport_error(self.request, exc, maybe_processed=True) from None

    def close(self) -> None:
        self.response.close()
