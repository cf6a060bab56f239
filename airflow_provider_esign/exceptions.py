"""The provider's exceptions: one small hierarchy for every vendor.

Failures a retry cannot fix (bad input, bad credentials, a declined or voided document, an operation
the vendor does not offer) derive from Airflow's ``AirflowFailException``, so the task fails at once
instead of burning its retries. Transient failures (throttling, 5xx, broken connections) stay plain
``AirflowException`` subclasses and are retried, first by the hook, then by Airflow.

Messages never contain credentials: they name the connection id, the operation and the vendor's own
error text (truncated), never headers or request bodies.
"""

from __future__ import annotations

from typing import Any

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException


class ESignError(AirflowException):
    """Base class of every error raised by this provider."""

    _init_args: tuple[tuple[Any, ...], dict[str, Any]] | None = None

    def __reduce__(self):
        # Errors with their own __init__ signature pickle through it (multiprocessing, executors).
        if self._init_args is None:
            return super().__reduce__()
        args, kwargs = self._init_args
        return (_rebuild, (type(self), args, kwargs), dict(self.__dict__))


def _rebuild(cls: type[ESignError], args: tuple[Any, ...], kwargs: dict[str, Any]) -> ESignError:
    return cls(*args, **kwargs)


class ESignPermanentError(ESignError, AirflowFailException):
    """A failure that retrying cannot fix; the task fails without retries."""


class ESignValidationError(ESignPermanentError, ValueError):
    """Input rejected before any HTTP call.

    :param field: The offending input, e.g. ``signers[1].email``.
    :param rule: The rule it broke, in plain words.
    """

    def __init__(self, field: str, rule: str) -> None:
        self._init_args = ((field, rule), {})
        self.field = field
        self.rule = rule
        super().__init__(f"Invalid {field}: {rule}")


class ESignUnsupportedError(ESignPermanentError):
    """The vendor's API has no such operation (e.g. WeSignature cancel)."""


class DocumentFailedError(ESignPermanentError):
    """The document was declined or voided at the vendor.

    :param document_id: The vendor's document id.
    :param status: The normalized status (``DECLINED`` or ``VOIDED``).
    :param raw_status: The vendor's own status value.
    """

    def __init__(self, document_id: str, status: str, raw_status: Any, detail: str = "") -> None:
        self._init_args = ((document_id, status, raw_status, detail), {})
        self.document_id = document_id
        self.status = status
        self.raw_status = raw_status
        extra = f": {detail}" if detail else ""
        super().__init__(f"Document {document_id} is {status} (vendor status {raw_status!r}){extra}")


class ESignApiError(ESignError):
    """The vendor answered with an error, or did not answer.

    :param message: What went wrong, in plain words.
    :param conn_id: The Airflow connection used.
    :param operation: The hook operation, e.g. ``get_document``.
    :param status_code: HTTP status, or None when no answer arrived (kept as ``http_status``).
    :param vendor_message: The vendor's own error text (truncated).
    :param retry_after: Seconds the vendor asked to wait (``Retry-After``), if any.
    """

    def __init__(
        self,
        message: str,
        *,
        conn_id: str,
        operation: str,
        status_code: int | None = None,
        vendor_message: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        self._init_args = (
            (message,),
            {
                "conn_id": conn_id,
                "operation": operation,
                "status_code": status_code,
                "vendor_message": vendor_message,
                "retry_after": retry_after,
            },
        )
        self.conn_id = conn_id
        self.operation = operation
        self.http_status = status_code
        self.vendor_message = vendor_message
        self.retry_after = retry_after
        parts = [f"{operation} on connection {conn_id!r} failed"]
        if status_code is not None:
            parts.append(f"HTTP {status_code}")
        parts.append(message)
        text = ": ".join([parts[0], ", ".join(parts[1:])])
        if vendor_message:
            text += f" (vendor says: {vendor_message})"
        super().__init__(text)


class ESignAuthError(ESignApiError, AirflowFailException):
    """Credentials rejected (401/403). Fix the connection; retrying does not help."""


class ESignBadRequestError(ESignApiError, AirflowFailException):
    """The vendor rejected the request as invalid (400/422); its message says why."""


class ESignNotFoundError(ESignApiError, AirflowFailException):
    """The document (or other resource) does not exist at the vendor (404)."""


class ESignRedirectError(ESignApiError, AirflowFailException):
    """A redirect (or a vendor-given link) the provider never follows (see
    ``airflow_provider_esign.hooks.redirects``): to plain http from https, to an internal address,
    or re-sending a body to another origin."""


class ESignRateLimitError(ESignApiError):
    """Throttled by the vendor (429). Retried with backoff, honouring ``Retry-After``."""


class ESignServerError(ESignApiError):
    """The vendor failed (5xx). Reads are retried; creates are reconciled first."""


class ESignMalformedResponseError(ESignServerError):
    """A success status whose body is not what the API documents (an HTML page, truncated JSON,
    ``null``, an object without an id): a proxy or a vendor fault, retried like a 5xx."""


class ESignTransportError(ESignApiError):
    """No usable answer: connection refused or reset, timeout, truncated body.

    ``maybe_processed`` says whether the request may have reached the vendor (False only when the
    connection was never made), which decides whether a create may be resent blindly.
    """

    maybe_processed: bool = True


class RateLimitStorageError(ESignError):
    """The shared rate-limit schedule could not be read or written (e.g. Redis unreachable, an
    unsafe local folder). Importable from ``airflow_provider_esign.ratelimit`` as well."""


class DocumentNotReadyError(ESignError):
    """The final PDF is not available yet (e.g. still generating or being de-archived)."""


class ESignIntegrityError(ESignError):
    """Downloaded bytes failed verification (not a PDF, wrong length, or checksum mismatch)."""


#: The one HTTP status → exception table. Statuses not listed map by range: 5xx to
#: :class:`ESignServerError`, other 4xx to :class:`ESignBadRequestError`.
STATUS_ERRORS: dict[int, tuple[type[ESignApiError], str]] = {
    401: (ESignAuthError, "credentials rejected; check the connection"),
    403: (ESignAuthError, "credentials rejected; check the connection"),
    404: (ESignNotFoundError, "not found"),
    429: (ESignRateLimitError, "throttled by the vendor"),
}


def error_for_status(status: int, detail: str | None = None) -> tuple[type[ESignApiError], str]:
    """The exception class and message for an error status (an HTTP status or a vendor body code).

    :param status: The status, 400 or above.
    :param detail: Where the status came from, when not the HTTP status line (e.g. a JSON body).
    """
    if status in STATUS_ERRORS:
        cls, message = STATUS_ERRORS[status]
    elif status >= 500:
        cls, message = ESignServerError, "vendor error"
    else:
        cls, message = ESignBadRequestError, "request rejected"
    if detail is None:
        return cls, message
    if cls is ESignAuthError:
        return cls, f"credentials rejected ({detail}); check the connection"
    return cls, detail
