"""Exactly-once sends: the create call is never blindly repeated.

When a create's outcome is unknown (connection dropped, 5xx, timeout after sending), the vendor's
documents are searched for the idempotency key (or WeSignature's fingerprint) and the match is
adopted; only when none exists is the create sent again. A create that may still be running at the
vendor (a timeout, a gateway's 502/504) gets ``create_settle_seconds`` to appear before the resend.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow_provider_esign.exceptions import ESignError, ESignServerError, ESignTransportError
from airflow_provider_esign.hooks.api import Flow
from airflow_provider_esign.hooks.effects import Sleep
from airflow_provider_esign.hooks.retry import may_still_be_in_flight
from airflow_provider_esign.models import DocumentInfo, SendRequest

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.vendor import VendorInterface

#: The checkpoint entry a later lookup starts from: no earlier attempt can have created the document
#: before it (the caller may set an earlier bound, e.g. the DAG run's start).
FIRST_ATTEMPT_AT = "first_attempt_at"


def send_once_flow(
    hook: VendorInterface,
    request: SendRequest,
    idempotency_key: str | None,
    checkpoint: MutableMapping[str, Any],
    adopt_existing: bool,
) -> Flow[DocumentInfo]:
    """Prepare, then create ``request`` exactly once, adopting an earlier attempt's document.

    A flow like any other: the hook's pipeline runs it, and every call's final error is raised here
    at the ``yield from`` of the vendor step that made it.

    :param hook: The vendor hook.
    :param request: The validated send request.
    :param idempotency_key: Stable key of the intended send; without it an ambiguous failure is raised.
    :param checkpoint: Mapping the caller persists across crashes (what reconciliation needs).
    :param adopt_existing: Look for an earlier attempt's document before creating.
    """
    prepared = yield from hook.prepare_send_flow(request)
    if idempotency_key and adopt_existing:
        existing = yield from hook.find_sent_flow(prepared, idempotency_key, checkpoint)
        if existing is not None:
            hook.log.info("Adopting document %s sent by an earlier attempt", existing.document_id)
            return existing
    if idempotency_key:
        # Lets a later lookup list only documents created since, not the account's whole history.
        checkpoint.setdefault(FIRST_ATTEMPT_AT, datetime.now(timezone.utc).isoformat(timespec="seconds"))
        yield from hook.before_create_flow(prepared, checkpoint, idempotency_key)
    policy = hook.retry_policy
    started = hook.clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return (yield from hook.create_flow(prepared, idempotency_key))
        except (ESignTransportError, ESignServerError) as failure:
            if not idempotency_key or policy.exhausted(attempt, hook.clock() - started):
                raise
            exc: Exception = failure
        except ESignError:
            hook.create_refused(idempotency_key)  # an answered error: the vendor made no document
            raise
        hook.log.warning("Create failed ambiguously (%s); checking whether the vendor created it", exc)
        yield Sleep(policy.backoff(attempt, exc))
        existing = yield from hook.find_sent_flow(prepared, idempotency_key, checkpoint)
        settle = hook.create_settle_seconds
        if existing is None and settle > 0 and may_still_be_in_flight(exc):
            # A create the vendor is still working on (the client timed out, a gateway gave up) is
            # not listed yet: give it time to land before sending a second one.
            hook.log.warning(
                "No document carries the key yet, but the create may still be in progress at the "
                "vendor; looking again in %.0fs before sending it again",
                settle,
            )
            yield Sleep(settle)
            existing = yield from hook.find_sent_flow(prepared, idempotency_key, checkpoint)
        if existing is not None:
            hook.log.info("The vendor had created %s; adopting it", existing.document_id)
            return existing
