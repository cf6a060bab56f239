"""Store a signed PDF in object storage, verified and atomically, and announce it as an Asset event."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_esign.operators.base import ESignHookMixin, closes_hook
from airflow_provider_esign.operators.map_index import MappedTaskNaming

if TYPE_CHECKING:
    from airflow.sdk import Context, ObjectStoragePath

    from airflow_provider_esign.hooks.base import ESignHook
    from airflow_provider_esign.models import DocumentInfo, DownloadResult

#: XCom key with the verified download's details (size, sha256, ...).
DOWNLOAD_XCOM_KEY = "download"


class DownloadDocumentOperator(MappedTaskNaming, ESignHookMixin, BaseOperator):
    """Stream a document's final signed PDF to any object-storage destination.

    The PDF streams in chunks to a temporary file, is verified (PDF signature, length, and the
    vendor's SHA-256 where published), and only then appears at the destination: an interrupted or
    failed download never leaves a partial file there. Local paths and ``file://`` work out of the
    box; ``s3://``, ``gs://``, ... through their Airflow providers. Returns the stored path and emits
    an event on each declared outlet Asset (by default
    :func:`~airflow_provider_esign.assets.signed_documents_asset`) whose ``extra`` is one flat
    record of the document (id, vendor,
    connection, name, status, signers with their states and signing times, creation and completion
    times, your metadata) and of the stored file (path, size, SHA-256, what it was verified against);
    the same record goes to XCom (key ``download``). Stored local files get the process umask's mode,
    like any other file the task writes.

    :param conn_id: The e-signature connection.
    :param document_id: The vendor's document id. (templated)
    :param destination: Folder, as a path or object-storage URL (``s3://bucket/signed/``). (templated)
    :param filename: File name pattern; ``{document_id}`` and ``{vendor}`` are filled in. (templated:
        ``"{{ params.prefix }}-{document_id}.pdf"``, or a name from the source row)
    :param document_name: The name the map index shows for this task (e.g. the source row's contract
        name; default: the vendor's document name, else the stored file's name). (templated)
    :param destination_conn_id: Airflow connection for the object store, if it needs one.
    :param audit_log: Also store the vendor's audit trail PDF next to the signed PDF, with the same
        verified, atomic write, and reference it in the event (Legalesign; other vendors' APIs offer
        none, and the task fails at once saying so).
    :param audit_log_filename: File name pattern of the audit log. (templated)
    :param include_form_data: Put the values entered in the document's form fields into the event
        and XCom (``form_data``; Legalesign; other vendors fail at once saying their API offers none).
    :param overwrite: Replace an existing file. Without it, an existing file that holds exactly the
        vendor's PDF (an earlier try stored it before its worker died) is kept and the task succeeds;
        any other existing file fails the task.
    :param hook_params: Extra hook arguments (``max_attempts``, ``timeout``, ...).
    """

    template_fields: Sequence[str] = (
        "conn_id",
        "document_id",
        "destination",
        "filename",
        "audit_log_filename",
        "destination_conn_id",
        "document_name",
    )
    ui_color = "#e6f0ff"

    def __init__(
        self,
        *,
        conn_id: str,
        document_id: str,
        destination: str,
        filename: str = "{document_id}.pdf",
        destination_conn_id: str | None = None,
        audit_log: bool = False,
        audit_log_filename: str = "{document_id}.audit.pdf",
        include_form_data: bool = False,
        overwrite: bool = False,
        hook_params: dict[str, Any] | None = None,
        document_name: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("outlets", _default_outlets())
        super().__init__(**kwargs)
        self.document_name = document_name
        self.conn_id = conn_id
        self.document_id = document_id
        self.destination = destination
        self.filename = filename
        self.destination_conn_id = destination_conn_id
        self.audit_log = audit_log
        self.audit_log_filename = audit_log_filename
        self.include_form_data = include_form_data
        self.overwrite = overwrite
        self.hook_params = hook_params or {}
        self._stored: tuple[str, str, str] | None = None  # (vendor, document id, path), for OpenLineage

    @classmethod
    def partial(cls, **kwargs: Any) -> Any:
        # Mapped tasks take their outlets from the partial kwargs at parse time, not from __init__.
        kwargs.setdefault("outlets", _default_outlets())
        return super().partial(**kwargs)

    def target_path(self, vendor: str, filename: str | None = None) -> ObjectStoragePath:
        from airflow.sdk import ObjectStoragePath

        folder = ObjectStoragePath(self.destination, conn_id=self.destination_conn_id)
        pattern = filename or self.filename
        return folder / pattern.format(document_id=_safe_name(str(self.document_id)), vendor=vendor)

    @closes_hook
    def execute(self, context: Context) -> str:
        from airflow_provider_esign.storage import store_verified

        hook = self.hook
        self._check_vendor_offers(hook)  # before any HTTP call
        document_id = str(self.document_id)
        target = self.target_path(hook.vendor)
        result = store_verified(
            target,
            lambda out: hook.download_document(document_id, out),
            overwrite=self.overwrite,
            log=self.log,
        )
        # When the vendor gives no completion time (WeSignature), the record says when we saw it completed.
        observed_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        path = str(target)
        self.log.info(
            "Stored %s (%d bytes, sha256 %s, verified: %s)",
            path,
            result.size,
            result.sha256,
            ", ".join(result.verified_against),
        )
        # One read at most for what the download did not already learn (name, signers, times).
        document = result.document or hook.get_document_details(document_id)
        # The name, not "<id>.pdf": a download that learnt no name (Legalesign) has read it just now.
        self.label_map_index(context, document.name or target.name)
        details = self._details(hook, document, path, result, observed_at=observed_at)
        if self.audit_log:
            audit_target = self.target_path(hook.vendor, self.audit_log_filename)
            audit = store_verified(
                audit_target,
                lambda out: hook.download_audit_log(document_id, out),
                overwrite=self.overwrite,
                log=self.log,
            )
            details["audit_log"] = {"path": str(audit_target), "size": audit.size, "sha256": audit.sha256}
        if self.include_form_data:
            fields = hook.get_form_data(document_id, document=document)
            details["form_data"] = [f.to_dict() for f in fields]
        context["ti"].xcom_push(key=DOWNLOAD_XCOM_KEY, value=details)
        for outlet in self.outlets:
            context["outlet_events"][outlet].extra.update(details)
        self._stored = (hook.vendor, document_id, path)
        return path

    def _check_vendor_offers(self, hook: ESignHook) -> None:
        from airflow_provider_esign.exceptions import ESignUnsupportedError

        if self.audit_log and not hook.supports_audit_log:
            raise ESignUnsupportedError(f"audit_log=True: {hook.hook_name}'s API offers no audit log")
        if self.include_form_data and not hook.supports_form_data:
            raise ESignUnsupportedError(
                f"include_form_data=True: {hook.hook_name}'s API offers no form field values"
            )

    def _details(
        self,
        hook: ESignHook,
        document: DocumentInfo,
        path: str,
        result: DownloadResult,
        *,
        observed_at: str | None = None,
    ) -> dict[str, Any]:
        """The event and XCom payload: one flat, JSON-native record per stored document.

        :param observed_at: When this task saw the document completed (ISO 8601, UTC): the record's
            ``completed_at`` where the vendor reports none, marked ``completed_at_source: "observed"``.
        """
        completed_at = document.completed_at
        completed_at_source: str | None = "vendor"
        if completed_at is None:
            # An upper bound, not the signing time: the download proved completion by then.
            completed_at = observed_at
            completed_at_source = "observed" if observed_at else None
        return {
            "document_id": str(self.document_id),
            "vendor": hook.vendor,
            "conn_id": self.conn_id,
            "name": document.name,
            "status": document.status.value,
            "signers": [
                {
                    "name": signer.name,
                    "email": signer.email,
                    "role": signer.role,
                    "status": signer.status.value,
                    "signed_at": signer.signed_at,
                }
                for signer in document.signers
            ],
            "created_at": document.created_at,
            "completed_at": completed_at,
            "completed_at_source": completed_at_source,
            "metadata": dict(document.metadata),
            "path": path,
            "size": result.size,
            "sha256": result.sha256,
            "verified_against": list(result.verified_against),
        }

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the vendor document in, the stored PDF out."""
        from airflow_provider_esign.lineage import operator_lineage, storage_dataset, vendor_dataset

        if self._stored is None:
            return operator_lineage([], [])
        vendor, document_id, path = self._stored
        return operator_lineage(
            [vendor_dataset(vendor, self.conn_id, "documents", document_id)], [storage_dataset(path)]
        )


def _safe_name(value: str) -> str:
    """Vendor ids are opaque: keep them file-name safe."""
    return re.sub(r"[^-\w.]", "_", value)


def _default_outlets() -> list[Any]:
    from airflow_provider_esign.assets import signed_documents_asset

    return [signed_documents_asset()]
