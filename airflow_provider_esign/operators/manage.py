"""Cancel a document, or remind its signers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_esign.operators.base import ESignHookMixin, closes_hook
from airflow_provider_esign.operators.map_index import MappedTaskNaming

if TYPE_CHECKING:
    from airflow.sdk import Context


class _DocumentOperator(MappedTaskNaming, ESignHookMixin, BaseOperator):
    template_fields: Sequence[str] = ("conn_id", "document_id")

    def __init__(
        self, *, conn_id: str, document_id: str, hook_params: dict[str, Any] | None = None, **kwargs
    ):
        super().__init__(**kwargs)
        self.conn_id = conn_id
        self.document_id = document_id
        self.hook_params = hook_params or {}


class CancelDocumentOperator(_DocumentOperator):
    """Void or cancel a document at the vendor, as the vendor allows.

    Legalesign: void (status 40, archived), optionally telling the signers. eSignBase: delete (the
    only documented operation). WeSignature documents no cancel API: the task fails with an
    explanation instead of guessing.

    :param conn_id: The e-signature connection.
    :param document_id: The vendor's document id. (templated)
    :param notify: Tell the signers, where the vendor supports it (Legalesign).
    """

    def __init__(self, *, notify: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.notify = notify

    @closes_hook
    def execute(self, context: Context) -> str:
        hook = self.hook
        hook.cancel_document(str(self.document_id), notify=self.notify)
        self.log.info("Cancelled document %s at %s", self.document_id, hook.vendor)
        return str(self.document_id)


class SendReminderOperator(_DocumentOperator):
    """Remind the signers of a document who have not signed yet (Legalesign).

    Returns (XCom) ``{"document_id", "reminded": [signer ids], "reason"}``; ``reason`` says why nobody
    was reminded (every signer has signed, or nobody has been sent the document yet), else None. A
    reminder that reaches nobody still succeeds, with that reason as a warning in the task log.

    :param conn_id: The e-signature connection.
    :param document_id: The vendor's document id. (templated)
    :param signer_email: Remind only this signer. (templated)
    :param text: Custom reminder text. (templated)
    """

    template_fields: Sequence[str] = ("conn_id", "document_id", "signer_email", "text")

    def __init__(self, *, signer_email: str | None = None, text: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.signer_email = signer_email
        self.text = text

    @closes_hook
    def execute(self, context: Context) -> dict[str, Any]:
        result = self.hook.remind_signers(str(self.document_id), self.signer_email, self.text)
        if result.reminded:
            self.log.info("Reminded %d signer(s) of document %s", len(result.reminded), self.document_id)
        else:
            self.log.warning("Reminded nobody of document %s: %s", self.document_id, result.reason)
        return {"document_id": str(self.document_id), "reminded": result.reminded, "reason": result.reason}
