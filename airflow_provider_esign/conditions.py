"""What "done" means when waiting for a document, shared by sensors and triggers."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SignerStatus

if TYPE_CHECKING:
    from airflow_provider_esign.hooks.base import ESignHook


@dataclass(frozen=True)
class WaitCondition:
    """Wait until a document reaches ``target``, or until one signer has signed.

    :param target: Normalized status to reach (default COMPLETED; SIGNED also accepts COMPLETED).
    :param signer_email: When set, done as soon as this signer has signed.
    """

    target: DocumentStatus = DocumentStatus.COMPLETED
    signer_email: str | None = None

    @classmethod
    def of(cls, target: str | DocumentStatus = "COMPLETED", signer_email: str | None = None) -> WaitCondition:
        from airflow_provider_esign.exceptions import ESignValidationError

        try:
            status = DocumentStatus(str(getattr(target, "value", target)).upper())
        except ValueError:
            valid = [s.value for s in DocumentStatus if not s.is_failure]
            raise ESignValidationError("target_status", f"{target!r} is not one of {valid}") from None
        if status.is_failure:
            raise ESignValidationError(
                "target_status", f"{status.value} is a failure; wait for a success state"
            )
        return cls(status, signer_email.strip() if signer_email else None)

    def check(self, document: DocumentInfo) -> tuple[bool, str | None]:
        """``(done, failure)``: done when the condition holds; ``failure`` explains a dead end."""
        if document.status.is_failure:
            return False, f"document is {document.status.value} (vendor status {document.raw_status!r})"
        if self.signer_email:
            signer = document.signer(self.signer_email)
            if signer is None:
                return False, f"{self.signer_email!r} is not a signer of document {document.document_id}"
            if signer.status is SignerStatus.DECLINED:
                return False, f"{self.signer_email} declined"
            # Vendors without per-signer progress report SIGNED only once everybody has signed.
            return signer.status is SignerStatus.SIGNED or document.status.reached(
                DocumentStatus.SIGNED
            ), None
        return document.status.reached(self.target), None

    def describe(self) -> str:
        return f"{self.signer_email} has signed" if self.signer_email else f"status {self.target.value}"


def signed_count(document: DocumentInfo) -> int:
    """How many of the document's signers have signed (all of them once the document is SIGNED or
    COMPLETED: vendors without per-signer progress report signers as signed only at the end)."""
    if document.status.reached(DocumentStatus.SIGNED):
        return len(document.signers)
    return sum(signer.status is SignerStatus.SIGNED for signer in document.signers)


def signing_progress(document: DocumentInfo) -> str:
    """``"1 of 2 signed"``; empty when the vendor reports no signers, or no per-signer state before the
    end (eSignBase: every signer's ``raw_status`` is ``None``), where "0 of 2" would be wrong."""
    if not document.signers:
        return ""
    reports_signers = any(signer.raw_status is not None for signer in document.signers)
    if not reports_signers and not document.status.reached(DocumentStatus.SIGNED):
        return ""
    return f"{signed_count(document)} of {len(document.signers)} signed"


def describe_wait(document: DocumentInfo, condition: WaitCondition, done: bool) -> str:
    """One log line about a poll: the status, the signing progress, and whether the wait is over."""
    progress = signing_progress(document)
    state = f"Document {document.document_id} is {document.status.value} (vendor {document.raw_status!r})"
    if progress:
        state += f", {progress}"
    return (
        f"{state}: {condition.describe()} reached" if done else f"{state}; waiting for {condition.describe()}"
    )


def raise_for_trigger_event(event: dict | None, subject: str) -> dict:
    """Validate a wait trigger's event in ``execute_complete``; return it when it reports an outcome.

    Timeouts raise ``AirflowSensorTimeout`` and errors raise (permanently when the trigger says so);
    a missing or unknown event raises too. ``success`` and ``failed`` are returned to the caller.

    :param subject: What was waited for, for messages (``document X``).
    """
    from airflow.providers.common.compat.sdk import AirflowSensorTimeout

    from airflow_provider_esign.exceptions import ESignError, ESignPermanentError

    status = (event or {}).get("status")
    message = (event or {}).get("message", "")
    if event and status in ("success", "failed"):
        return event
    if status == "timeout":
        raise AirflowSensorTimeout(f"{subject}: {message}")
    if status == "error":
        error = ESignPermanentError if event and event.get("permanent") else ESignError
        raise error(f"Waiting for {subject} failed: {message}")
    raise ESignError(f"Unexpected trigger event for {subject}: {event!r}")


@dataclass(frozen=True)
class BatchProgress:
    """Where a batch of documents stands against a :class:`WaitCondition`.

    :param done: Ids that met the condition.
    :param failed: Id → reason, for documents that can no longer meet it (declined, voided).
    :param pending: Ids still in progress, or not (yet) visible in the vendor's list.
    :param documents: The latest info per id, as JSON-native dicts without raw payloads.
    """

    done: list[str]
    failed: dict[str, str]
    pending: list[str]
    documents: dict[str, dict]

    @classmethod
    def evaluate(
        cls, condition: WaitCondition, document_ids: list[str], found: dict[str, DocumentInfo]
    ) -> BatchProgress:
        done, failed, pending = [], {}, []
        for document_id in document_ids:
            document = found.get(document_id)
            if document is None:
                pending.append(document_id)
                continue
            ok, failure = condition.check(document)
            if failure:
                failed[document_id] = failure
            elif ok:
                done.append(document_id)
            else:
                pending.append(document_id)
        wanted = set(document_ids)  # once: built per item, it made a poll quadratic in the batch size
        documents = {i: d.to_dict(include_raw=False) for i, d in found.items() if i in wanted}
        return cls(done, failed, pending, documents)

    def finished(self, fail_fast: bool) -> bool:
        """Nothing left to wait for (or, with ``fail_fast``, a failure already decides the outcome)."""
        return not self.pending or (fail_fast and bool(self.failed))

    def summary(self) -> str:
        total = len(self.done) + len(self.failed) + len(self.pending)
        declined = sum(
            self.documents.get(i, {}).get("status") == DocumentStatus.DECLINED.value for i in self.failed
        )
        return (
            f"{len(self.done)}/{total} done, {declined} declined, {len(self.failed) - declined} voided/failed, "
            f"{len(self.pending)} pending"
        )

    def result(self) -> dict:
        """The sensor's XCom: ids by outcome and the latest document infos."""
        return {
            "completed": self.done,
            "failed": [{"document_id": i, "reason": r} for i, r in self.failed.items()],
            "pending": self.pending,
            "documents": self.documents,
        }


class BatchTracker:
    """A batch wait across polls: documents that reached an outcome are not read again.

    Each poll (:meth:`read`) reads only :attr:`pending` ids (the hook picks the cheapest method for
    those) and merges the answer with what earlier polls found. Where the vendor can list only the
    documents changed since a time (Legalesign ``modified_gt``), later polls ask for the changes
    since the previous poll began: a pending id the vendor does not list has not changed, and its
    last answer stands. Every :data:`FULL_READ_EVERY` th poll reads every pending id anyway, so a
    document removed in a way no change list shows (a permanent delete) is still found out.

    The vendor's clock is never compared with ours. The previous poll's start in vendor time is
    bounded from below: a listed document's ``modified`` is at most the vendor's time when we read
    it, so ``max(modified - our clock at the read)`` never exceeds the clocks' true offset.

    :param condition: What done means.
    :param document_ids: The batch (de-duplicated, order kept).
    :param clock: Monotonic seconds (injectable for tests).
    """

    #: A poll in this many reads every pending id, not only those changed since the last poll.
    FULL_READ_EVERY = 10
    #: Seconds the change window reaches back further: a change the vendor stamps before it shows in
    #: its list (a slow commit), and ``modified`` only having whole seconds.
    CHANGE_SKEW = 60.0

    def __init__(
        self, condition: WaitCondition, document_ids: list[str], clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.condition = condition
        self.document_ids = list(dict.fromkeys(document_ids))
        self._clock = clock
        self._settled: dict[str, DocumentInfo] = {}
        self._latest: dict[str, DocumentInfo] = {}
        self._offset: float | None = None  # lower bound of (vendor clock - our clock)
        self._last_start: float | None = None
        self._polls = 0

    @property
    def pending(self) -> list[str]:
        """Ids without an outcome yet: the only ones a poll reads."""
        return [i for i in self.document_ids if i not in self._settled]

    @property
    def changed_since(self) -> float | None:
        """Vendor time (epoch seconds) the next poll may list changes from; None: read every id."""
        if self._offset is None or self._last_start is None or self._polls % self.FULL_READ_EVERY == 0:
            return None
        return self._last_start + self._offset - self.CHANGE_SKEW

    def read(self, hook: ESignHook, **filters: Any) -> BatchProgress:
        """One poll with a blocking hook."""
        started = self._clock()
        found = hook.get_documents(self.pending, changed_since=self.changed_since, **filters)
        return self.update(found, started=started)

    async def aread(self, hook: ESignHook, **filters: Any) -> BatchProgress:
        """One poll with an async hook (a trigger)."""
        started = self._clock()
        found = await hook.aget_documents(self.pending, changed_since=self.changed_since, **filters)
        return self.update(found, started=started)

    def update(self, found: dict[str, DocumentInfo], started: float | None = None) -> BatchProgress:
        """Progress after a poll that began at ``started`` (our clock) and read ``found``."""
        from airflow_provider_esign.hooks.batch import timestamp

        self._polls += 1
        self._last_start = started
        self._latest.update(found)
        changes = [t for t in (timestamp(d.modified_at) for d in found.values()) if t is not None]
        if changes and started is not None:
            offset = max(changes) - self._clock()
            self._offset = offset if self._offset is None else max(self._offset, offset)
        progress = BatchProgress.evaluate(self.condition, self.document_ids, self._latest)
        for document_id in [*progress.done, *progress.failed]:
            self._settled[document_id] = self._latest[document_id]
        return progress
