"""The interface every vendor hook implements: its identity, its flows and its response rules.

Flows are generators of :class:`~airflow_provider_esign.hooks.api.ApiRequest` (see
:mod:`~airflow_provider_esign.hooks.api`); the request pipeline runs them. Methods without
``abc.abstractmethod`` have a default that fits a vendor without the feature.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Collection, Mapping, MutableMapping
from typing import IO, TYPE_CHECKING, Any, ClassVar

from airflow_provider_esign.exceptions import error_for_status
from airflow_provider_esign.hooks.api import (
    ApiRequest,
    ApiResponse,
    DownloadSource,
    Flow,
    Page,
    default_vendor_message,
    no_call,
)
from airflow_provider_esign.hooks.credentials import CREDENTIALS, Credentials
from airflow_provider_esign.hooks.registry import VendorInfo
from airflow_provider_esign.hooks.retry import RetryPolicy, retry_after_seconds
from airflow_provider_esign.hooks.settings import ConnectionSettings
from airflow_provider_esign.hooks.webhook import WebhookClaim
from airflow_provider_esign.models import DocumentInfo, DownloadResult, FormField, ReminderResult, SendRequest

if TYPE_CHECKING:
    from airflow_provider_esign.ratelimit import RateLimiter


class VendorInterface(VendorInfo, abc.ABC):
    """What a vendor hook implements (its identity comes from :class:`VendorInfo`); :class:`~.base.ESignHook`
    does the rest."""

    # ---------------------------------------------------------------- behaviour flags
    #: Whether a 401 is worth one fresh login (token or api key) before failing.
    reauthenticate_on_401: ClassVar[bool] = False
    supports_cancel: ClassVar[bool] = True
    supports_reminders: ClassVar[bool] = False
    #: Whether the vendor's API serves an audit trail PDF (:meth:`download_audit_log`).
    supports_audit_log: ClassVar[bool] = False
    #: Whether the vendor's API returns the values entered in form fields (:meth:`get_form_data`).
    supports_form_data: ClassVar[bool] = False
    #: Whether ``list_page_flow`` accepts an int cursor as a list offset (offset pagination), so a
    #: batch read can start at the newest end of an oldest-first list.
    list_at_offset: ClassVar[bool] = False
    #: Longest idempotency key the vendor can store (eSignBase metadata values: 500 characters).
    max_idempotency_key_length: ClassVar[int] = 500

    # ---------------------------------------------------------------- provided by ESignHook
    # What the pipeline, reconciliation and batch reads use of the hook besides the vendor's methods.
    conn_id: str
    conn_name_attr: str
    log: Any
    clock: Callable[[], float]

    @property
    @abc.abstractmethod
    def credentials_key(self) -> str:
        """Identity of the credentials (see ``ESignHook``)."""

    @property
    @abc.abstractmethod
    def retry_policy(self) -> RetryPolicy:
        """The retry policy of every call (see ``ESignHook``)."""

    @property
    @abc.abstractmethod
    def rate_limiter(self) -> RateLimiter:
        """The client-side rate limiter of the connection (see ``ESignHook``)."""

    @property
    @abc.abstractmethod
    def create_settle_seconds(self) -> float:
        """How long an ambiguous create gets to appear before it is sent again (see ``ESignHook``)."""

    @abc.abstractmethod
    def loaded_settings(self) -> ConnectionSettings:
        """The connection settings the hook loaded before running a flow (a flow never reads the
        connection itself)."""

    # ---------------------------------------------------------------- connection and auth
    def validate_settings(self, settings: ConnectionSettings) -> None:
        """Raise :class:`ESignValidationError` for a connection that cannot work."""
        return None  # nothing to check by default

    def needs_login(self) -> bool:
        """Whether the vendor needs runtime credentials from :meth:`login_flow`."""
        return False

    def login_flow(self) -> Flow[Credentials]:
        """Obtain runtime credentials (token, api key); only called when :meth:`needs_login`."""
        raise NotImplementedError(f"{type(self).__name__} has static credentials and no login call")

    @abc.abstractmethod
    def apply_auth(self, request: ApiRequest, creds: Credentials | None) -> ApiRequest:
        """Return ``request`` with the vendor's credentials applied (header or body)."""

    def is_unauthorized(self, response: ApiResponse) -> bool:
        """Whether a response means "log in again" (WeSignature also signals 401 inside a 2xx body)."""
        return response.status_code == 401

    def before_reauthenticate(self, request: ApiRequest, creds: Credentials | None) -> None:
        """Runs before the one re-login after a 401: forget the rejected credentials (or raise)."""
        CREDENTIALS.invalidate(self.credentials_key, creds)

    def check_response(self, request: ApiRequest, response: ApiResponse) -> None:
        """Raise for vendor errors signalled inside a 2xx body (WeSignature). Default: nothing."""
        return None  # nothing to check by default

    def vendor_message(self, response: ApiResponse) -> str | None:
        """The vendor's error text from an error response, truncated."""
        return default_vendor_message(response)

    def raise_for_response(self, request: ApiRequest, response: ApiResponse) -> None:
        """Raise the provider exception for an error status (the one status table), or check a 2xx."""
        status = response.status_code
        if status < 400 or status in request.ok_statuses:
            self.check_response(request, response)
            return
        cls, message = error_for_status(status)
        kwargs: dict[str, Any] = {
            "conn_id": self.conn_id,
            "operation": request.operation,
            "status_code": status,
            "vendor_message": self.vendor_message(response),
        }
        if status == 429:
            kwargs["retry_after"] = retry_after_seconds(response.header("Retry-After"))
        raise cls(message, **kwargs)

    # ---------------------------------------------------------------- documents
    @abc.abstractmethod
    def get_document_flow(self, document_id: str) -> Flow[DocumentInfo]:
        """Read one document."""

    def document_details_flow(self, document_id: str) -> Flow[DocumentInfo]:
        """Read one document with everything the vendor reports about it (names, signers, times),
        where that takes more than the status read of :meth:`get_document_flow`."""
        return (yield from self.get_document_flow(document_id))

    @abc.abstractmethod
    def list_page_flow(self, cursor: Any, filters: dict[str, Any]) -> Flow[Page]:
        """Read one page of the document list (``cursor`` None: the first; an int: that offset,
        where :attr:`list_at_offset`)."""

    def batch_page_flow(self, cursor: Any, filters: dict[str, Any], wanted: Collection[str]) -> Flow[Page]:
        """One list page of a batch read, which uses only the documents in ``wanted``. Default: the
        whole page (:meth:`list_page_flow`); a vendor whose "page" is the whole account converts only
        the wanted documents (WeSignature). Order detection then sees only those."""
        return (yield from self.list_page_flow(cursor, filters))

    def batch_list_filters(self, filters: dict[str, Any]) -> dict[str, Any]:
        """The list filters a batch read uses, so the list also shows tracked documents that left
        the default listing (Legalesign: archived ones). Default: the caller's filters."""
        return filters

    def changed_since_filters(self, since: float) -> dict[str, Any] | None:
        """List filters that show only documents changed after ``since`` (vendor epoch seconds),
        or None where the vendor has no such filter (the default)."""
        return None

    def clock_request(self) -> ApiRequest | None:
        """A cheap authenticated GET whose answer's ``Date`` header tells the vendor's time now (None:
        no such call). Used where the provider must start "from now" in the vendor's own clock."""
        return None

    def server_time_flow(self) -> Flow[float | None]:
        """The vendor's time now (epoch seconds) from the ``Date`` header of :meth:`clock_request`
        (RFC 9110 section 6.6.1: the origin server's clock), or None when unknown."""
        request = self.clock_request()
        if request is None:
            return None
        response = yield request
        return http_date(response.header("Date"))

    @abc.abstractmethod
    def sync_walk(self, ctx: Any) -> Flow[None]:
        """The contract ledger's walk of the whole account (a :mod:`~airflow_provider_esign.hooks.sync`
        flow). ``ESignHook``'s default reads every list page, every time; vendors with a cheaper way to
        read only what changed override it."""

    def document_expires_at(self, document: DocumentInfo) -> str | None:
        """When the document expires (ISO 8601), where the vendor's payload tells. Default: unknown."""
        return None

    def idempotency_key_of(self, document: DocumentInfo) -> str | None:
        """The idempotency key a send stored on the document, where the vendor keeps one."""
        return None

    @abc.abstractmethod
    def cancel_flow(self, document_id: str, notify: bool) -> Flow[None]:
        """Void / cancel a document (raise :class:`ESignUnsupportedError` if the vendor cannot)."""

    @abc.abstractmethod
    def download_source_flow(self, document_id: str) -> Flow[DownloadSource]:
        """Where the final PDF is, or :class:`DocumentNotReadyError`."""

    @abc.abstractmethod
    def test_connection_flow(self) -> Flow[str]:
        """One cheap authenticated call; returns a human summary."""

    # ---------------------------------------------------------------- sending
    def validate_send_request(self, request: SendRequest) -> None:
        """Static checks of a send request: raise :class:`ESignValidationError`, never call HTTP."""
        return None  # nothing to check by default

    def validate_idempotency_key(self, key: str) -> None:
        """Check the key fits where the vendor stores it, before any call (uploads included) is made."""
        from airflow_provider_esign.validation import require_text

        require_text("idempotency_key", key, max_length=self.max_idempotency_key_length)

    def prepare_send_flow(self, request: SendRequest) -> Flow[SendRequest]:
        """Checks and uploads that must happen before the create call (template roles, PDF upload)."""
        return no_call(request)

    @abc.abstractmethod
    def create_flow(self, request: SendRequest, idempotency_key: str | None) -> Flow[DocumentInfo]:
        """Create and send the document: exactly one non-idempotent create call, marked with the key."""

    def before_create_flow(
        self, request: SendRequest, checkpoint: MutableMapping[str, Any], idempotency_key: str | None = None
    ) -> Flow[None]:
        """Record what reconciliation needs before the create call (WeSignature's baseline)."""
        return no_call(None)

    def create_refused(self, idempotency_key: str | None) -> None:
        """Runs when the vendor answered a create with an error (no document was made)."""
        return None

    def after_send_rejected(self, request: SendRequest) -> None:
        """Runs when the vendor rejected a send as invalid (drop caches the rejection may expose)."""
        return None

    @abc.abstractmethod
    def find_sent_flow(
        self, request: SendRequest, idempotency_key: str, checkpoint: MutableMapping[str, Any]
    ) -> Flow[DocumentInfo | None]:
        """Find the document an earlier attempt created for ``idempotency_key``, if any."""

    # ---------------------------------------------------------------- vendor extras
    def send_reminder(self, document_id: str, signer_email: str | None = None, text: str = "") -> list[str]:
        """Remind the signers who have not signed yet; returns the ids of the signers reminded.

        :param signer_email: Remind only this signer.
        :param text: Custom message, where the vendor supports one.
        """
        return self.remind_signers(document_id, signer_email, text).reminded

    def remind_signers(
        self, document_id: str, signer_email: str | None = None, text: str = ""
    ) -> ReminderResult:
        """:meth:`send_reminder`, also saying why nobody was reminded when that is the outcome."""
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

    # ---------------------------------------------------------------- links
    def document_url(self, document_id: str) -> str | None:
        """URL of the document in the vendor's web app, where the vendor has such a page."""
        return None

    def web_url(self, document: DocumentInfo) -> str | None:
        """Web link for a document (the operator's extra link); vendors may read it from the payload."""
        return self.document_url(document.document_id)

    # ---------------------------------------------------------------- event-driven DAGs
    @classmethod
    def verify_webhook(
        cls,
        extra: Mapping[str, Any],
        headers: Mapping[str, str],
        payload: dict[str, Any] | None,
        query: Mapping[str, str] | None = None,
    ) -> WebhookClaim:
        """Verify a webhook delivery for a connection of this type (no HTTP call, no secret logged).

        :param extra: The connection's extra.
        :param headers: The delivery's headers, names lowercased.
        :param payload: The JSON body, when it is an object.
        :param query: The delivery URL's query parameters.
        """
        return WebhookClaim.reject(f"{cls.hook_name} has no webhooks")

    @classmethod
    def completion_filters(cls, group: str | None, floor: float | None) -> tuple[dict[str, Any], bool]:
        """Server-side list filters for the completion watcher, and whether the listing is complete.

        :param group: The watcher's ``group`` argument (only vendors with groups accept one).
        :param floor: Epoch seconds: completions at or before it are already known (None: all).
        :return: Filters for :meth:`~.base.ESignHook.alist_documents`, and False when a time filter
            hides older documents (so ids missing from the listing are not forgotten).
        """
        if group is not None:
            from airflow_provider_esign.exceptions import ESignValidationError

            raise ESignValidationError("group", f"only Legalesign has groups, not {cls.vendor}")
        return {}, True

    @classmethod
    def needs_completion_confirmation(cls, document: DocumentInfo) -> bool:
        """Whether a listed completed document must be re-read for its stable completion time."""
        return False


def http_date(value: str | None) -> float | None:
    """Epoch seconds of an HTTP date (``Sun, 06 Dec 2026 16:00:00 GMT``), or None if absent/unreadable."""
    if not value:
        return None
    from email.utils import parsedate_to_datetime

    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:  # RFC 9110 dates are always GMT
        from datetime import timezone

        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.timestamp()
