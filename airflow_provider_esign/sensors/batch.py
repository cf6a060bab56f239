"""Wait for a whole batch of documents with a handful of API calls per poll."""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import conf
from airflow.sdk import BaseSensorOperator, PokeReturnValue

from airflow_provider_esign.operators.base import ESignHookMixin, closes_hook
from airflow_provider_esign.operators.map_index import BATCH_MAP_INDEX_TEMPLATE, MappedTaskNaming

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_esign.conditions import BatchProgress


class BatchDocumentStatusSensor(MappedTaskNaming, ESignHookMixin, BaseSensorOperator):
    """Wait until every document of a batch reaches a status, using the vendor's list endpoint.

    Each poll reads only the documents still pending, at the cheapest correct cost the vendor allows
    (see :meth:`~airflow_provider_esign.hooks.base.ESignHook.get_documents`): about
    ``min(pending, list pages they span) + 1`` calls, whatever the account's size. A document the
    vendor no longer has (deleted) counts as VOIDED, so the batch never waits on it until timeout.
    Progress is logged every poll ("412/1000 done, 3 declined, ...").

    Partial failure: with ``on_failure="fail"`` (default) the task fails, without retries, as soon
    as one document is declined or voided. With ``on_failure="continue"`` it waits for the rest and
    succeeds, returning the failures in its XCom (``{"completed", "failed", "pending", "documents"}``).

    :param conn_id: The e-signature connection.
    :param document_ids: The batch, e.g. ``send.output`` of a mapped send task. (templated)
    :param target_status: Status every document must reach (default COMPLETED).
    :param on_failure: ``"fail"`` or ``"continue"``.
    :param list_filters: Vendor list filters, e.g. Legalesign ``{"group": "acme"}``.
    :param deferrable: Wait in the triggerer.
    :param hook_params: Extra hook arguments.
    """

    template_fields: Sequence[str] = ("conn_id", "document_ids", "target_status")
    ui_color = "#fff7e6"
    map_index_default = BATCH_MAP_INDEX_TEMPLATE

    def __init__(
        self,
        *,
        conn_id: str,
        document_ids: Any,
        target_status: str = "COMPLETED",
        on_failure: str = "fail",
        list_filters: dict[str, Any] | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        hook_params: dict[str, Any] | None = None,
        poke_interval: float = 60.0,
        timeout: float = timedelta(days=14).total_seconds(),
        **kwargs: Any,
    ) -> None:
        super().__init__(poke_interval=poke_interval, timeout=timeout, **kwargs)
        if on_failure not in ("fail", "continue"):
            from airflow_provider_esign.exceptions import ESignValidationError

            raise ESignValidationError("on_failure", "must be 'fail' or 'continue'")
        self.conn_id = conn_id
        self.document_ids = document_ids
        self.target_status = target_status
        self.on_failure = on_failure
        self.list_filters = list_filters or {}
        self.deferrable = deferrable
        self.hook_params = hook_params or {}

    @property
    def ids(self) -> list[str]:
        ids = [str(i) for i in (self.document_ids or [])]
        if not ids:
            from airflow_provider_esign.exceptions import ESignValidationError

            raise ESignValidationError("document_ids", "must contain at least one document id")
        return list(dict.fromkeys(ids))  # de-duplicated, order kept

    def _progress(self) -> BatchProgress:
        from airflow_provider_esign.conditions import BatchTracker, WaitCondition

        ids = self.ids
        # Kept across the pokes of one try (poke mode): settled documents are not read again.
        tracker = getattr(self, "_tracker", None)
        if tracker is None or tracker.document_ids != ids:
            tracker = self._tracker = BatchTracker(WaitCondition.of(self.target_status), ids)
        progress = tracker.read(self.hook, **self.list_filters)
        self.log.info("Batch of %d: %s", len(ids), progress.summary())
        return progress

    def _finish(self, progress_result: dict[str, Any], message: str) -> dict[str, Any]:
        from airflow_provider_esign.exceptions import DocumentFailedError

        failures = progress_result["failed"]
        if failures and self.on_failure == "fail":
            first = failures[0]
            raise DocumentFailedError(
                first["document_id"], "FAILED", None, f"{len(failures)} document(s) failed: {message}"
            )
        return progress_result

    def poke(self, context: Context) -> PokeReturnValue:
        self.label_map_index(context, f"batch of {len(self.ids)}")
        progress = self._progress()
        if progress.finished(fail_fast=self.on_failure == "fail"):
            return PokeReturnValue(
                is_done=True, xcom_value=self._finish(progress.result(), progress.summary())
            )
        return PokeReturnValue(is_done=False)

    @closes_hook
    def execute(self, context: Context) -> Any:
        if not self.deferrable:
            return super().execute(context)
        first = self.poke(context)
        if first.is_done:
            return first.xcom_value
        from airflow_provider_esign.triggers.batch import BatchDocumentStatusTrigger

        self.defer(
            trigger=BatchDocumentStatusTrigger(
                conn_id=self.conn_id,
                document_ids=self.ids,
                target_status=self.target_status,
                fail_fast=self.on_failure == "fail",
                poll_interval=self.poke_interval,
                end_time=time.time() + self.timeout,
                list_filters=self.list_filters,
                hook_params=self.hook_params,
            ),
            method_name="execute_complete",
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Resume after the trigger: validate its event and succeed or fail accordingly."""
        from airflow_provider_esign.conditions import raise_for_trigger_event

        event = raise_for_trigger_event(event, f"the batch of {len(self.ids)} documents")
        self.label_map_index(context, f"batch of {len(self.ids)}")
        return self._finish(event["result"], event.get("message", ""))
