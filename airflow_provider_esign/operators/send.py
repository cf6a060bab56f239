"""Send a document for signature with any supported vendor."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, MutableMapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_esign.contracts import CONTRACT_XCOM_KEY
from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.links import DOCUMENT_URL_ATTRIBUTE, DOCUMENT_URL_XCOM_KEY, ESignDocumentLink
from airflow_provider_esign.operators.base import ESignHookMixin, closes_hook
from airflow_provider_esign.operators.map_index import MappedTaskNaming

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_esign.models import DocumentInfo, SendRequest

#: XCom key of the sent document's info (``DocumentInfo.to_dict`` without the raw payload).
DOCUMENT_XCOM_KEY = "document"
DEFAULT_MAP_INDEX_TEMPLATE = (
    "{{ task.document_name }}: {{ task.signers | map(attribute='email') | join(', ') }}"
)


class SendDocumentOperator(MappedTaskNaming, ESignHookMixin, BaseOperator):
    """Create a document and send it for signature, exactly once per task instance.

    The vendor comes from the connection's type (``legalesign``, ``wesignature``, ``esignbase``), so
    switching vendor means switching ``conn_id`` and the document source. Returns the vendor's
    document id; pushes the document info (XCom key ``document``) and its web link.

    Exactly once: an idempotency key derived from the task instance (DAG, task, run, map index) is
    stored with the document at the vendor where the API allows it. A retried try first looks for the
    document an earlier try created and adopts it. On Airflow 3.3+ the created id is also kept in the
    task state store, so a retry reconnects without searching.

    :param conn_id: The e-signature connection.
    :param document_name: Document name shown to signers. (templated)
    :param signers: Signers: dicts with ``name``, ``email`` and optional ``role``, ``order``,
        ``first_name``, ``last_name``. (templated)
    :param template_id: eSignBase template id, or Legalesign template PDF id. (templated)
    :param file: Legalesign: local path or object-storage URL of a PDF to upload and send;
        WeSignature: public http(s) URL of the file. (templated)
    :param subject: Email subject, where supported. (templated)
    :param message: Email message, where supported. (templated)
    :param metadata: Your own string references stored at the vendor (eSignBase metadata,
        Legalesign ``tag``/``tag1``). (templated)
    :param expires_at: ISO 8601 expiry, where supported. (templated)
    :param vendor_options: Vendor-specific fields, e.g. Legalesign ``signers_in_order``, ``pdftext``;
        WeSignature ``sign_type``, ``is_for_embedded_signing``; eSignBase ``locale``. (templated)
    :param idempotency_key: Override the derived key (e.g. to send again on purpose). (templated)
    :param hook_params: Extra hook arguments (``max_attempts``, ``rate_limit_per_minute``, ...).
    :param document_link: Show an "E-Signature document" button (the document's page in the vendor's web
        app) on the task in the UI. Only WeSignature has such a page (its edit or signing link); with
        the other vendors the button would stay empty, so it is off unless asked for. Airflow reads a
        mapped task's links from the class, so mapped sends never show it.
    """

    template_fields: Sequence[str] = (
        "conn_id",
        "document_name",
        "signers",
        "template_id",
        "file",
        "subject",
        "message",
        "metadata",
        "expires_at",
        "vendor_options",
        "idempotency_key",
    )
    template_fields_renderers = {"signers": "json", "metadata": "json", "vendor_options": "json"}
    # Registered per task with document_link=True: an empty "Extra Links" heading is all the UI shows
    # for a link that stays empty, which it does for every vendor without a per-document page.
    operator_extra_links: tuple[ESignDocumentLink, ...] = ()
    ui_color = "#e8f4ea"
    map_index_default = DEFAULT_MAP_INDEX_TEMPLATE

    def __init__(
        self,
        *,
        conn_id: str,
        document_name: str,
        signers: list[dict[str, Any]] | Any,
        template_id: str | None = None,
        file: str | None = None,
        subject: str | None = None,
        message: str | None = None,
        metadata: dict[str, Any] | None = None,
        expires_at: str | None = None,
        vendor_options: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
        hook_params: dict[str, Any] | None = None,
        document_link: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if document_link:
            self.operator_extra_links = (ESignDocumentLink(),)
        self.conn_id = conn_id
        self.document_name = document_name
        self.signers = signers
        self.template_id = template_id
        self.file = file
        self.subject = subject
        self.message = message
        self.metadata = metadata or {}
        self.expires_at = expires_at
        self.vendor_options = vendor_options or {}
        self.idempotency_key = idempotency_key
        self.hook_params = hook_params or {}
        self._sent: tuple[str, str] | None = None  # (vendor, document id), for OpenLineage

    def build_request(self) -> SendRequest:
        """The vendor-neutral request, validated for shape (vendor rules run in the hook)."""
        from airflow_provider_esign.models import SendRequest
        from airflow_provider_esign.validation import require_mapping, require_signers

        return SendRequest(
            name=self.document_name,
            signers=require_signers(self.signers),
            template_id=self.template_id or None,
            file=self.file or None,
            subject=self.subject or None,
            message=self.message or None,
            metadata=require_mapping("metadata", self.metadata or None),
            expires_at=self.expires_at or None,
            vendor_options=require_mapping("vendor_options", self.vendor_options or None),
        )

    @closes_hook
    def execute(self, context: Context) -> str:
        setattr(self, DOCUMENT_URL_ATTRIBUTE, "")  # the extra link, until a document exists
        request = self.build_request()
        hook = self.hook
        try:
            hook.validate_send_request(request)  # fail on bad input before any other work
        except ESignValidationError as error:
            raise _as_operator_error(error) from None
        checkpoint = task_checkpoint(context)
        key = self.idempotency_key or derive_idempotency_key(context)
        saved_id = checkpoint.get("document_id")
        if saved_id:
            self.log.info("Reconnecting to document %s sent by an earlier try (task state store)", saved_id)
            document = hook.get_document(saved_id)
        else:
            from airflow_provider_esign.hooks.reconcile import FIRST_ATTEMPT_AT

            checkpoint.setdefault(FIRST_ATTEMPT_AT, _first_attempt_bound(context))
            retried = int(getattr(context.get("ti"), "try_number", 1) or 1) > 1
            document = hook.send_document(
                request, idempotency_key=key, checkpoint=checkpoint, adopt_existing=retried, validated=True
            )
            checkpoint["document_id"] = document.document_id
        # Right after a send the vendor often still says DRAFT/CREATED: the document *is* sent (the
        # vendor mails the signers shortly), so say "sent" first and the vendor's status second.
        self.log.info(
            "Sent document %s (%s) with %s; the vendor's status right after the send: %s",
            document.document_id,
            document.name,
            hook.vendor,
            document.status.value,
        )
        ti = context["ti"]
        ti.xcom_push(key=DOCUMENT_XCOM_KEY, value=document.to_dict(include_raw=False))
        url = hook.web_url(document) or ""
        setattr(self, DOCUMENT_URL_ATTRIBUTE, url)
        ti.xcom_push(key=DOCUMENT_URL_XCOM_KEY, value=url)
        ti.xcom_push(key=CONTRACT_XCOM_KEY, value=self._contract_record(document, request, url))
        self._sent = (hook.vendor, document.document_id)
        return document.document_id

    def _contract_record(self, document: DocumentInfo, request: SendRequest, url: str) -> dict[str, Any]:
        """What the Contracts page lists and filters on: one small XCom per sent document."""
        return {
            "conn_id": self.conn_id,
            "vendor": document.vendor,
            "document_id": document.document_id,
            "name": document.name or self.document_name,
            # The vendor's signer list where it returns one, else the request's (same people).
            "signers": [{"name": s.name, "email": s.email} for s in (document.signers or request.signers)],
            "status": document.status.value,
            "sent_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "expires_at": self.expires_at or None,
            "url": url or None,
        }

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """OpenLineage: the uploaded file or vendor template in, the vendor document out."""
        from airflow_provider_esign.lineage import operator_lineage, storage_dataset, vendor_dataset

        if self._sent is None:
            return operator_lineage([], [])
        vendor, document_id = self._sent
        inputs = []
        if self.file:
            inputs.append(storage_dataset(self.file))
        if self.template_id:
            inputs.append(vendor_dataset(vendor, self.conn_id, "templates", str(self.template_id)))
        return operator_lineage(inputs, [vendor_dataset(vendor, self.conn_id, "documents", document_id)])


#: Request fields whose operator argument has another name: errors name what the DAG author wrote.
_OPERATOR_ARGUMENTS = {"name": "document_name"}


def _as_operator_error(error: ESignValidationError) -> ESignValidationError:
    argument = _OPERATOR_ARGUMENTS.get(error.field)
    return error if argument is None else ESignValidationError(argument, error.rule)


def derive_idempotency_key(context: Context) -> str:
    """A stable key per task instance: the same across tries, different per map index and run."""
    ti = context["ti"]
    parts = [ti.dag_id, ti.task_id, ti.run_id, str(getattr(ti, "map_index", -1))]
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:40]
    # Only [-0-9a-f]: fits Legalesign's tag pattern and eSignBase's 500-character metadata values.
    return f"af-{digest}"


def _first_attempt_bound(context: Context) -> str:
    """When the run started: no earlier try can have created the document before (the hook that
    searches by it adds whatever margin its vendor's timestamps need)."""
    run = context.get("dag_run")
    start = getattr(run, "start_date", None) or datetime.now(timezone.utc)
    return start.astimezone(timezone.utc).isoformat(timespec="seconds")


class _StateStoreCheckpoint(MutableMapping[str, Any]):
    """A mapping that writes through to Airflow 3.3's task state store (survives crashes and retries)."""

    def __init__(self, store: Any) -> None:
        self._store = store

    def __getitem__(self, key: str) -> Any:
        value = self._store.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __setitem__(self, key: str, value: Any) -> None:
        self._store.set(key, value)

    def __delitem__(self, key: str) -> None:
        self._store.delete(key)

    def __iter__(self) -> Iterator[str]:
        raise TypeError("the task state store cannot be iterated")

    def __len__(self) -> int:
        raise TypeError("the task state store has no length")


def task_checkpoint(context: Context) -> MutableMapping[str, Any]:
    """The task state store as a mapping on Airflow 3.3+, else a dict that lives for this try only."""
    store = context.get("task_state_store")  # type: ignore[call-overload]
    return _StateStoreCheckpoint(store) if store is not None else {}
