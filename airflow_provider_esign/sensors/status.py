"""Wait for a document to be signed: poke, reschedule or deferrable."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import conf
from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_esign.operators.base import ESignHookMixin, closes_hook
from airflow_provider_esign.operators.map_index import MappedTaskNaming

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_esign.conditions import WaitCondition

DEFAULT_TIMEOUT = timedelta(days=7).total_seconds()


class DocumentStatusSensor(MappedTaskNaming, ESignHookMixin, BaseSensorOperator):
    """Wait until a document reaches a status (default COMPLETED) or a given signer has signed.

    Fails at once, without retries, when the document is DECLINED or VOIDED, and when the timeout
    passes. Works in ``poke`` and ``reschedule`` mode and, with ``deferrable=True``, hands the wait
    to the triggerer so no worker slot is held (default from ``[operators] default_deferrable``).
    Returns (and pushes) the document info.

    :param conn_id: The e-signature connection.
    :param document_id: The vendor's document id, e.g. ``"{{ ti.xcom_pull('send') }}"``. (templated)
    :param target_status: ``COMPLETED`` (default, final PDF available), ``SIGNED``, ``SENT``, ...
    :param signer_email: Done as soon as this signer has signed. (templated)
    :param document_name: The name the map index shows for this wait (e.g. the source row's contract
        name; default: the vendor's document name). (templated)
    :param deferrable: Wait in the triggerer.
    :param hook_params: Extra hook arguments (``max_attempts``, ``rate_limit_per_minute``, ...).
    :param coalesce: When deferred, share one batch read per poll with the other waits on this
        connection in the same triggerer (1,000 mapped sensors cost about one batch sensor).
    """

    template_fields: Sequence[str] = (
        "conn_id",
        "document_id",
        "target_status",
        "signer_email",
        "document_name",
    )
    ui_color = "#fff7e6"

    def __init__(
        self,
        *,
        conn_id: str,
        document_id: str,
        target_status: str = "COMPLETED",
        signer_email: str | None = None,
        document_name: str | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        hook_params: dict[str, Any] | None = None,
        poke_interval: float = 60.0,
        timeout: float = DEFAULT_TIMEOUT,
        coalesce: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        self.conn_id = conn_id
        self.document_id = document_id
        self.target_status = target_status
        self.signer_email = signer_email
        self.document_name = document_name
        self.deferrable = deferrable
        self.hook_params = hook_params or {}
        self.coalesce = coalesce

    @property
    def condition(self) -> WaitCondition:
        from airflow_provider_esign.conditions import WaitCondition

        return WaitCondition.of(self.target_status, self.signer_email)

    def poke(self, context: Context) -> PokeReturnValue:
        from airflow_provider_esign.conditions import describe_wait
        from airflow_provider_esign.exceptions import DocumentFailedError

        document = self.hook.get_document(str(self.document_id))
        done, failure = self.condition.check(document)
        self.label_map_index(context, document.name or document.document_id)
        if failure is None:
            self.log.info("%s", describe_wait(document, self.condition, done))
        if failure:
            raise DocumentFailedError(
                document.document_id, document.status.value, document.raw_status, failure
            )
        return PokeReturnValue(is_done=done, xcom_value=document.to_dict(include_raw=False) if done else None)

    @closes_hook
    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)  # done already? then no deferral at all
        if first.is_done:
            return first.xcom_value
        from airflow_provider_esign.triggers.status import DocumentStatusTrigger

        self.defer(
            trigger=DocumentStatusTrigger(
                conn_id=self.conn_id,
                document_id=str(self.document_id),
                target_status=self.condition.target.value,
                signer_email=self.signer_email,
                poll_interval=self.poke_interval,
                end_time=time.time() + self.timeout,
                hook_params=self.hook_params,
                coalesce=self.coalesce,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger: validate its event and succeed or fail accordingly."""
        from airflow_provider_esign.conditions import raise_for_trigger_event
        from airflow_provider_esign.exceptions import DocumentFailedError

        event = raise_for_trigger_event(event, f"document {self.document_id}")
        document = event.get("document") or {}
        self.label_map_index(context, document.get("name") or str(self.document_id))
        if event["status"] == "failed":
            raise DocumentFailedError(
                str(self.document_id),
                document.get("status", "FAILED"),
                document.get("raw_status"),
                event["message"],
            )
        progress = ""
        if document.get("signers") is not None and document.get("status"):
            from airflow_provider_esign.conditions import signing_progress
            from airflow_provider_esign.models import DocumentInfo

            progress = signing_progress(DocumentInfo.from_dict(document))
        self.log.info(
            "Document %s is %s%s: %s reached",
            self.document_id,
            document.get("status", "?"),
            f", {progress}" if progress else "",
            event.get("message", ""),
        )
        return document
