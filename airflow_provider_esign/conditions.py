"""What "done" means when waiting for a document, shared by sensors and triggers."""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SignerStatus


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

    Each poll reads only :attr:`pending` ids (the hook picks the cheapest method for those), and
    :meth:`update` merges the answer with what earlier polls settled.

    :param condition: What done means.
    :param document_ids: The batch (de-duplicated, order kept).
    """

    def __init__(self, condition: WaitCondition, document_ids: list[str]) -> None:
        self.condition = condition
        self.document_ids = list(dict.fromkeys(document_ids))
        self._settled: dict[str, DocumentInfo] = {}

    @property
    def pending(self) -> list[str]:
        """Ids without an outcome yet: the only ones a poll reads."""
        return [i for i in self.document_ids if i not in self._settled]

    def update(self, found: dict[str, DocumentInfo]) -> BatchProgress:
        """Progress after a poll that read the pending ids into ``found``."""
        merged = {**self._settled, **found}
        progress = BatchProgress.evaluate(self.condition, self.document_ids, merged)
        for document_id in [*progress.done, *progress.failed]:
            self._settled[document_id] = merged[document_id]
        return progress
