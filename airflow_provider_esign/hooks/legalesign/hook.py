"""Legalesign REST API v1 hook (static API key): https://apidocs.legalesign.com/docs/rest-v1/

Connection: ``login`` = API username, ``password`` = API secret (both from the API Dashboard,
Config → Generate Key), ``host`` = base URL (default ``https://eu-api.legalesign.com/api/v1``; the
sandbox uses the same host). Extra ``group`` is the slug of the Legalesign group (the web app's
"team"), lowercase, required for sending and listing; optional extra ``user`` is a
``/api/v1/user/<id>/`` URI sent on ``POST /document/`` to assign documents to that group member.
The status mapping is in ``docs/vendors/legalesign.md``.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import IO, Any
from urllib.parse import urlsplit

from airflow_provider_esign.exceptions import ESignBadRequestError, ESignValidationError
from airflow_provider_esign.hooks.api import (
    PDF_MAGIC,
    ApiRequest,
    DownloadSource,
    Flow,
    quote_id,
    single_request,
)
from airflow_provider_esign.hooks.legalesign.fields import parse_form_fields
from airflow_provider_esign.hooks.legalesign.flows import LegalesignFlows
from airflow_provider_esign.hooks.legalesign.info import LegalesignInfo
from airflow_provider_esign.hooks.legalesign.webhooks import WEBHOOK_NOTIFY, verify_delivery, webhook_body
from airflow_provider_esign.hooks.webhook import WebhookClaim
from airflow_provider_esign.models import (
    DocumentInfo,
    DownloadResult,
    FormField,
    ReminderResult,
    SignerStatus,
    nobody_to_remind,
)
from airflow_provider_esign.validation import require_text


class LegalesignHook(LegalesignInfo, LegalesignFlows):
    """Interact with Legalesign: template PDFs, documents, signers, downloads, webhooks.

    :param conn_id: Airflow connection of type ``legalesign``.
    """

    supports_reminders = True
    supports_audit_log = True
    supports_form_data = True
    #: A static key: a 401 fails fast, there is nothing to refresh.
    reauthenticate_on_401 = False

    # ---------------------------------------------------------------- event-driven DAGs
    @classmethod
    def verify_webhook(
        cls,
        extra: Mapping[str, Any],
        headers: Mapping[str, str],
        payload: dict[str, Any] | None,
        query: Mapping[str, str] | None = None,
    ) -> WebhookClaim:
        """Realtime webhooks carry ``X-Hmac-Sha256`` / ``X-Signed-Sha256`` computed in an undocumented
        way, so the sender is authenticated by the connection's ``webhook_secret`` coming back in the
        subscribed URL's ``?token=`` (see :func:`.legalesign.webhooks.verify_delivery`)."""
        return verify_delivery(extra, payload, query or {})

    @classmethod
    def completion_filters(cls, group: str | None, floor: float | None) -> tuple[dict[str, Any], bool]:
        # Completed ones only (30), including archived ones (auto_archive hides completed documents
        # from the default list), changed since the floor.
        filters: dict[str, Any] = {"status": 30, "archived": "all"}
        if group is not None:
            filters["group"] = group
        if floor is not None:
            filters["modified_gt"] = datetime.fromtimestamp(floor, timezone.utc).isoformat()
        return filters, floor is None

    def clock_request(self) -> ApiRequest | None:
        # One group (the smallest authenticated list); only its Date header is used.
        return ApiRequest("GET", "group/", operation="server_time", params={"limit": 1})

    @classmethod
    def needs_completion_confirmation(cls, document: DocumentInfo) -> bool:
        # List items carry `modified` only, which later edits (archiving) move too; the document
        # itself has the stable `sign_time`.
        return document.completed_at is None

    # ---------------------------------------------------------------- template PDFs
    def upload_template_pdf(
        self,
        path_or_bytes: str | os.PathLike[str] | bytes,
        title: str | None = None,
        process_tags: bool = False,
    ) -> str:
        """Upload a PDF as a template PDF of the connection's group (``POST /templatepdf/``).

        The whole base64 body is held in memory; Legalesign's uploads are limited to a few MB.

        :param path_or_bytes: Local path, ``file://`` or object-storage URL of the PDF, or its bytes.
        :param title: Template title (at most 120 chars; default: the file name).
        :param process_tags: Convert text tags in the PDF into signing fields.
        :return: The new template PDF's id (use it as ``template_id``).
        """
        if isinstance(path_or_bytes, (bytes, bytearray)):
            if not bytes(path_or_bytes).startswith(PDF_MAGIC):
                raise ESignValidationError("path_or_bytes", "is not a PDF (no %PDF- header)")
            pdf_base64 = base64.b64encode(path_or_bytes).decode("ascii")
            default_title = "Uploaded by Airflow"
        else:
            pdf_base64 = self._read_pdf_base64(path_or_bytes, "path_or_bytes")
            default_title = os.path.basename(urlsplit(os.fspath(path_or_bytes)).path) or "Uploaded by Airflow"
        title = require_text("title", title if title is not None else default_title, max_length=120)
        return self.run_flow(self._upload_flow(pdf_base64, title, process_tags))

    def get_template_pdf(self, template_id: str) -> dict[str, Any]:
        """One template PDF: ``uuid``, ``title``, ``group``, ``page_count``, ``valid`` (sendable), ...

        :param template_id: The template PDF id.
        """
        path = f"templatepdf/{quote_id(template_id)}/"
        response = self.run_flow(single_request(ApiRequest("GET", path, operation="get_template_pdf")))
        return response.json() or {}

    def list_template_pdfs(
        self, group: str | None = None, archived: bool | None = None
    ) -> list[dict[str, Any]]:
        """Every template PDF of a group, all pages.

        :param group: Group slug (default: the connection's ``group``).
        :param archived: Filter on archived templates (the vendor's ``archive`` parameter).
        """
        settings = self.settings
        params: dict[str, Any] = {"group": self._group_slug(settings, group, purpose="list template PDFs")}
        if archived is not None:
            params["archive"] = "true" if archived else "false"
        return self.run_flow(self._collect_flow("templatepdf/", params, "list_template_pdfs"))

    def get_template_pdf_fields(self, template_id: str) -> list[dict[str, Any]]:
        """The fields of a template PDF (``element_type``, ``label``, ``uuid``, ``signer``, ``page``, ...).

        Their ``label`` or ``uuid`` keys ``vendor_options['pdftext']`` and ``['signertext']``.

        :param template_id: The template PDF id.
        """
        path = f"templatepdf/{quote_id(template_id)}/fields/"
        response = self.run_flow(single_request(ApiRequest("GET", path, operation="get_template_pdf_fields")))
        body = response.json()
        if isinstance(body, dict):
            return list(body.get("objects") or [])
        return list(body or [])

    # ---------------------------------------------------------------- documents and signers
    def get_status(self, document_id: str) -> DocumentInfo:
        """The document's status from the fast ``GET /status/{id}/`` (no signers, so a status 10
        document is reported SENT even when nobody has been sent it yet).

        :param document_id: The document id.
        """
        path = f"status/{quote_id(document_id)}/"
        response = self.run_flow(single_request(ApiRequest("GET", path, operation="get_status")))
        body = response.json() or {}
        # The reference types this status with the signer enum; it is read as a document status.
        return self.parse_document({"uuid": document_id, **body})

    def remind_signers(
        self, document_id: str, signer_email: str | None = None, text: str = ""
    ) -> ReminderResult:
        """Remind the signers who were sent the document and have not signed yet.

        :param document_id: The document id.
        :param signer_email: Remind only this signer.
        :param text: Custom message (at most 10,000 chars; the vendor strips HTML).
        :return: The ids of the signers reminded, and why nobody was when nobody was waiting.
        """
        if len(text) > 10000:
            raise ESignValidationError("text", "must be at most 10000 characters")
        return self.run_flow(self._send_reminder_flow(document_id, signer_email, text))

    def _send_reminder_flow(
        self, document_id: str, signer_email: str | None, text: str
    ) -> Flow[ReminderResult]:
        doc = yield from self.get_document_flow(document_id)
        if doc.status.is_failure:
            raise ESignValidationError("document_id", f"document {document_id} is {doc.status.value}")
        waiting = (SignerStatus.SENT, SignerStatus.VIEWED)
        if signer_email:
            signer = doc.signer(signer_email)
            if signer is None:
                raise ESignValidationError(
                    "signer_email", f"{signer_email!r} is not a signer of {document_id}"
                )
            if signer.status not in waiting:
                raise ESignValidationError(
                    "signer_email", f"{signer_email!r} is {signer.status.value}; only sent, unsigned signers"
                )
            targets = [signer]
        else:
            targets = [s for s in doc.signers if s.status in waiting]
            if not targets:
                return ReminderResult([], nobody_to_remind(doc.signers))
        reminded = []
        for signer in targets:
            if not signer.signer_id:
                raise ESignValidationError(
                    "signer_email", f"Legalesign gave no id for signer {signer.email!r}"
                )
            response = yield ApiRequest(
                "POST",
                f"signer/{quote_id(signer.signer_id)}/send-reminder/",
                operation="send_reminder",
                json={"text": text},
                idempotent=False,  # a repeat would email the signer twice
                ok_statuses=frozenset({401}),
            )
            if response.status_code == 401:
                # On send-reminder a 401 means "failed to send", not bad credentials.
                raise ESignBadRequestError(
                    f"Legalesign failed to send the reminder to signer {signer.signer_id} (its 401 on "
                    "send-reminder means 'not sent', not rejected credentials)",
                    conn_id=self.conn_id,
                    operation="send_reminder",
                    status_code=401,
                    vendor_message=self.vendor_message(response),
                )
            reminded.append(signer.signer_id)
        return ReminderResult(reminded)

    def get_signer_rejection_reason(self, signer_id: str) -> str | None:
        """Why a signer rejected the document (``GET /signer/{id}/rejection/``), if they did.

        :param signer_id: The signer id (``SignerInfo.signer_id``).
        """
        path = f"signer/{quote_id(signer_id)}/rejection/"
        response = self.run_flow(
            single_request(ApiRequest("GET", path, operation="get_signer_rejection_reason"))
        )
        body = response.json() or {}
        return body.get("reason") or None

    def download_audit_log(
        self, document_id: str, destination: IO[bytes], *, chunk_size: int = 1024 * 1024
    ) -> DownloadResult:
        """Stream the document's audit log PDF into ``destination`` (checked to be a PDF).

        :param document_id: The document id.
        :param destination: A seekable binary file.
        :param chunk_size: Bytes per read.
        """
        source = DownloadSource(url=f"document/{quote_id(document_id)}/auditlog/")
        return self.download_from_source(
            source, destination, chunk_size=chunk_size, operation="download_audit_log"
        )

    def get_form_data(self, document_id: str, *, document: DocumentInfo | None = None) -> list[FormField]:
        """Form field values of a document (``GET /document/{id}/fields/``); see :func:`parse_form_fields`."""
        path = f"document/{quote_id(document_id)}/fields/"
        response = self.run_flow(single_request(ApiRequest("GET", path, operation="get_form_data")))
        return parse_form_fields(response.json(), document)

    def delete_document_permanently(self, document_id: str) -> None:
        """Delete the document for good (``DELETE /document/{id}/delete/``).

        Needs "automated deletion" enabled for the group; to void a document use
        :meth:`cancel_document`.

        :param document_id: The document id.
        """
        path = f"document/{quote_id(document_id)}/delete/"
        response = self.run_flow(single_request(ApiRequest("DELETE", path, operation="delete_document")))
        if response.status_code != 204:
            # Legalesign answers 200 when it did not delete (probably no automated deletion).
            raise ESignBadRequestError(
                "Legalesign did not delete the document (HTTP 200 means failure here; is automated "
                "deletion enabled for the group?)",
                conn_id=self.conn_id,
                operation="delete_document",
                status_code=response.status_code,
                vendor_message=self.vendor_message(response),
            )

    # ---------------------------------------------------------------- groups and webhooks
    def list_groups(self) -> list[dict[str, Any]]:
        """Every group (team) the API user belongs to: ``slug``, ``name``, ``is_active``, ..."""
        return self.run_flow(self._collect_flow("group/", {}, "list_groups"))

    def subscribe_webhook(
        self, url: str, notify: str = "realtime", event_filter: str = "", group: str | None = None
    ) -> str | None:
        """Register a webhook (``POST /subscribe/``).

        Webhooks get events from every account where the API user is an admin: pass ``group``.

        :param url: ``http(s)://`` endpoint receiving the events.
        :param notify: ``realtime`` (JSON events), or the legacy ``all``, ``signed``, ``sent``,
            ``rejected``.
        :param event_filter: E.g. ``document.finalPdfCreated``; ``""`` for every event.
        :param group: Group slug to limit events to.
        :return: The ``Location`` header (URL to delete the webhook), if any.
        """
        body = webhook_body(url, event_filter, group)
        if notify not in WEBHOOK_NOTIFY:
            raise ESignValidationError("notify", f"must be one of {sorted(WEBHOOK_NOTIFY)}")
        body["notify"] = notify
        response = self.run_flow(
            single_request(
                ApiRequest("POST", "subscribe/", operation="subscribe_webhook", json=body, idempotent=False)
            )
        )
        return response.header("Location")

    def unsubscribe_webhook(self, url: str, event_filter: str = "", group: str | None = None) -> None:
        """Remove a webhook (``POST /unsubscribe/``; succeeds whether or not it was registered).

        :param url: The registered URL, exactly.
        :param event_filter: The registered event filter.
        :param group: The registered group slug.
        """
        body = webhook_body(url, event_filter, group)
        self.run_flow(
            single_request(ApiRequest("POST", "unsubscribe/", operation="unsubscribe_webhook", json=body))
        )

    def list_webhooks(self) -> list[dict[str, Any]]:
        """The registered webhooks: ``active``, ``notify_when``, ``url``, ``group_id``, ``event_filter``."""
        response = self.run_flow(
            single_request(ApiRequest("GET", "notifications/", operation="list_webhooks"))
        )
        body = response.json()
        if isinstance(body, dict):
            return list(body.get("objects") or [])
        return list(body or [])
