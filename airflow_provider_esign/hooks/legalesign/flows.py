"""The Legalesign flows: the vendor interface of :class:`~.hook.LegalesignHook`, on top of :mod:`.wire`.

Every call carries ``Authorization: ApiKey <username>:<secret>`` (a static key: nothing to refresh,
so a 401 fails fast). API reference: https://apidocs.legalesign.com/docs/rest-v1/
"""

from __future__ import annotations

import base64
import os
from collections.abc import MutableMapping
from dataclasses import replace
from datetime import datetime, timezone
from functools import partial
from typing import Any, ClassVar

from airflow_provider_esign.exceptions import (
    DocumentNotReadyError,
    ESignApiError,
    ESignAuthError,
    ESignBadRequestError,
    ESignValidationError,
)
from airflow_provider_esign.hooks import batch
from airflow_provider_esign.hooks.api import (
    PDF_MAGIC,
    ApiRequest,
    ApiResponse,
    DownloadSource,
    Flow,
    Page,
    quote_id,
    truthy,
)
from airflow_provider_esign.hooks.base import ESignHook
from airflow_provider_esign.hooks.credentials import Credentials, amask, mask
from airflow_provider_esign.hooks.effects import Offload
from airflow_provider_esign.hooks.legalesign import rules, wire
from airflow_provider_esign.hooks.legalesign.wire import (
    CREATED_GT_MARGIN,
    IDEMPOTENCY_TAG,
    PAGE_SIZE,
    RATE_LIMITED_WAIT,
    READ_CHUNK_BYTES,
    group_uri,
    id_from_uri,
)
from airflow_provider_esign.hooks.retry import RetryPolicy
from airflow_provider_esign.hooks.settings import ConnectionSettings
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SendRequest


class LegalesignFlows(ESignHook):
    """Legalesign's implementation of the hook interface (flows, auth, error rules)."""

    send_options: ClassVar[frozenset[str]] = wire.SEND_OPTIONS
    #: `GET /document/` takes `limit` and `offset` (https://apidocs.legalesign.com/docs/api/).
    list_at_offset = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_masked = False
        self._group_as_uri = False

    # ---------------------------------------------------------------- connection and auth
    def validate_settings(self, settings: ConnectionSettings) -> None:
        rules.validate_settings(settings)

    def _group_slug(self, settings: ConnectionSettings, override: Any = None, *, purpose: str) -> str:
        return wire.group_slug(settings, override, purpose=purpose)

    async def asettings(self) -> ConnectionSettings:
        settings = await super().asettings()
        if not self._header_masked:
            self._header_masked = True
            await amask(wire.auth_header(settings))
        return settings

    def apply_auth(self, request: ApiRequest, creds: Credentials | None) -> ApiRequest:
        header = wire.auth_header(self.loaded_settings())
        if not self._header_masked:
            self._header_masked = True
            mask(header)
        headers = {**request.headers, "Authorization": header}
        headers.setdefault("Accept", "application/json")  # downloads ask for application/pdf
        if request.json is not None:
            headers["Content-Type"] = "application/json"
        return replace(request, headers=headers)

    @property
    def retry_policy(self) -> RetryPolicy:
        # No Retry-After is documented on a 429: wait out the per-minute throttle window.
        return replace(super().retry_policy, rate_limited_wait=RATE_LIMITED_WAIT)

    # ---------------------------------------------------------------- errors
    def vendor_message(self, response: ApiResponse) -> str | None:
        body = response.json()
        if isinstance(body, dict) and any(isinstance(v, (dict, list)) for v in body.values()):
            return wire.error_text(body)
        return super().vendor_message(response)

    def raise_for_response(self, request: ApiRequest, response: ApiResponse) -> None:
        status = response.status_code
        if status in (400, 401) and status not in request.ok_statuses:
            kwargs: dict[str, Any] = {
                "conn_id": self.conn_id,
                "operation": request.operation,
                "status_code": status,
                "vendor_message": self.vendor_message(response),
            }
            if status == 401 and request.operation == "send_document":
                # A Legalesign sandbox answers 401 for a recipient outside its five preset addresses.
                raise ESignAuthError(
                    "credentials rejected, or (sandbox) a recipient is not one of the sandbox's preset "
                    "addresses",
                    **kwargs,
                )
            if status == 400 and wire.rejects_user(response.json()):
                # A rejected `user` URI is a configuration error, not bad input.
                raise ESignBadRequestError(
                    "the 'user' URI was rejected; fix the connection's extra.user or vendor_options['user']",
                    **kwargs,
                )
        super().raise_for_response(request, response)

    # ---------------------------------------------------------------- parsing
    def parse_document(self, raw: dict[str, Any]) -> DocumentInfo:
        """Normalize a Legalesign document: ``GET /document/{id}/``, a list item or a status object."""
        signers = wire.parse_signers(raw)
        raw_status = raw.get("status")
        code = wire.int_or_none(raw_status)
        download_final = truthy(raw.get("download_final"))
        status = wire.map_document_status(
            code, [s.raw_status for s in signers if s.raw_status is not None], download_final
        )
        if status is None:
            self.log.warning("Unknown Legalesign status %r; treating it as SENT (in progress)", raw_status)
            status = DocumentStatus.SENT
        metadata = {key: str(raw[key]) for key in ("tag", "tag1", "tag2") if raw.get(key)}
        return DocumentInfo(
            document_id=wire.document_id(raw) or "",
            vendor=self.vendor,
            name=raw.get("name"),
            status=status,
            raw_status=code if code is not None else raw_status,
            signers=signers,
            created_at=raw.get("created"),
            modified_at=raw.get("modified"),
            completed_at=raw.get("sign_time"),
            downloadable=code == 30 and download_final,
            metadata=metadata,
            raw=raw,
        )

    # ---------------------------------------------------------------- documents
    def get_document_flow(self, document_id: str) -> Flow[DocumentInfo]:
        response = yield ApiRequest(
            "GET",
            f"document/{quote_id(document_id)}/",
            operation="get_document",
            check_answer=wire.document_object,
        )
        return self.parse_document(response.checked)

    def list_page_flow(self, cursor: Any, filters: dict[str, Any]) -> Flow[Page]:
        settings = self.loaded_settings()
        if isinstance(cursor, str) and cursor:
            response = yield ApiRequest(
                "GET",
                wire.resolve_next(settings, cursor),
                operation="list_documents",
                check_answer=wire.list_objects,
            )
        else:
            params = wire.list_params(settings, filters, group_as_uri=self._group_as_uri)
            if isinstance(cursor, int):
                params["offset"] = max(0, cursor)
            response = yield ApiRequest(
                "GET",
                "document/",
                operation="list_documents",
                params=params,
                ok_statuses=frozenset() if self._group_as_uri else frozenset({400}),
                check_answer=wire.list_objects,
            )
            if response.status_code == 400:
                # The reference does not say whether `group` is a slug or a URI here: the slug is sent
                # first, and on a 400 the URI once (then for the rest of this hook's life).
                params["group"] = group_uri(params["group"])
                response = yield ApiRequest(
                    "GET",
                    "document/",
                    operation="list_documents",
                    params=params,
                    check_answer=wire.list_objects,
                )
                self._group_as_uri = True
        body = response.checked
        objects = body["objects"]
        next_url = (body.get("meta") or {}).get("next")
        # An empty page ends the walk even if `next` is set: never loop on a misbehaving server.
        total = (body.get("meta") or {}).get("total_count")
        return Page(
            [self.parse_document(d) for d in objects],
            next_url if next_url and objects else None,
            total=int(total) if isinstance(total, (int, str)) and str(total).isdigit() else None,
        )

    def batch_list_filters(self, filters: dict[str, Any]) -> dict[str, Any]:
        # `GET /document/` hides archived documents by default, and a voided (status 40) or
        # auto-archived completed document is archived: `archived=all` keeps them in a batch's view.
        return filters if "archived" in filters else {**filters, "archived": "all"}

    def changed_since_filters(self, since: float) -> dict[str, Any] | None:
        # `GET /document/?modified_gt=` (documented list filter): `modified` moves with every status
        # change, so a tracked document it does not list has not changed since.
        return {"modified_gt": datetime.fromtimestamp(since, timezone.utc).isoformat()}

    def sync_walk(self, ctx: Any) -> Any:
        # After one full walk, `modified_gt` lists only what changed: about one call per page of
        # changes, plus one for the account's total (a deleted document leaves no change behind).
        from airflow_provider_esign.hooks import sync

        if ctx.synced_before and not ctx.full_refresh and (ctx.state or {}).get("phase") == sync.IDLE:
            return sync.changes_walk(self, ctx)
        return sync.full_walk(self, ctx)

    def idempotency_key_of(self, document: DocumentInfo) -> str | None:
        return document.metadata.get(IDEMPOTENCY_TAG) or None

    # ---------------------------------------------------------------- sending
    def validate_send_request(self, request: SendRequest) -> None:
        rules.validate_send_request(request, self.settings, self.send_options)

    def validate_idempotency_key(self, key: str) -> None:
        rules.validate_idempotency_key(key)

    # ---------------------------------------------------------------- sending
    @staticmethod
    def _read_pdf_base64(location: str | os.PathLike[str], field: str) -> str:
        """Read a PDF (local path, ``file://`` or any object-storage URL) into base64, chunk by chunk.

        The file is streamed into the encoder, but the JSON body holding the base64 text is built in
        memory: fine for Legalesign's uploads, which are limited to a few MB.
        """
        from airflow.sdk import ObjectStoragePath

        try:
            with ObjectStoragePath(os.fspath(location)).open("rb") as handle:
                carry = handle.read(len(PDF_MAGIC))
                if carry != PDF_MAGIC:
                    raise ESignValidationError(
                        field, f"{os.fspath(location)!r} is not a PDF (no %PDF- header)"
                    )
                pieces = []
                while chunk := handle.read(READ_CHUNK_BYTES):
                    data = carry + chunk
                    cut = len(data) - len(data) % 3
                    pieces.append(base64.b64encode(data[:cut]))
                    carry = data[cut:]
                pieces.append(base64.b64encode(carry))
        except FileNotFoundError:
            raise ESignValidationError(field, f"{os.fspath(location)!r} does not exist") from None
        except IsADirectoryError:
            raise ESignValidationError(
                field, f"{os.fspath(location)!r} is a folder, not a PDF file"
            ) from None
        return b"".join(pieces).decode("ascii")

    def _upload_flow(self, pdf_base64: str, title: str, process_tags: bool) -> Flow[str]:
        settings = self.loaded_settings()
        group = self._group_slug(settings, purpose="upload template PDFs")
        body: dict[str, Any] = {"group": group_uri(group), "pdf_file": pdf_base64, "title": title}
        if process_tags:
            body["process_tags"] = True
        # A repeated upload only leaves an unused template behind, so retrying it is harmless.
        response = yield ApiRequest(
            "POST", "templatepdf/", operation="upload_template_pdf", json=body, idempotent=True
        )
        return self._location_id(response, "upload_template_pdf", "the upload answer has no Location header")

    def _location_id(self, response: ApiResponse, operation: str, missing: str) -> str:
        """The created resource's id from the ``Location`` header of a 201, or a clear error."""
        # The Location header may be absolute or a path: its last non-empty segment is the id.
        resource_id = id_from_uri(response.header("Location"))
        if not resource_id:
            raise ESignApiError(
                missing, conn_id=self.conn_id, operation=operation, status_code=response.status_code
            )
        return resource_id

    def prepare_send_flow(self, request: SendRequest) -> Flow[SendRequest]:
        """Upload a ``file`` as a template PDF; a ``template_id`` needs no preparation."""
        if not request.file:
            return request
        # Read (and check the %PDF- header) before the first request goes out; the executor reads it
        # (in a worker thread under an event loop): a flow does no I/O.
        pdf_base64 = yield Offload(partial(self._read_pdf_base64, request.file, "file"))
        template_id = yield from self._upload_flow(
            pdf_base64, request.name, truthy(request.vendor_options.get("process_tags"))
        )
        return replace(request, template_id=template_id, file=None)

    def _create_body(self, request: SendRequest, idempotency_key: str | None) -> dict[str, Any]:
        return wire.create_body(self.loaded_settings(), request, idempotency_key)

    def create_flow(self, request: SendRequest, idempotency_key: str | None) -> Flow[DocumentInfo]:
        # The key was validated by send_document before any call.
        body = self._create_body(request, idempotency_key)
        response = yield ApiRequest(
            "POST", "document/", operation="send_document", json=body, idempotent=False
        )
        # No body unless return_signer_links. A 201 without Location is created but unidentifiable:
        # not retried here (a resend could duplicate it); a task retry with adopt_existing finds it
        # through tag2.
        document_id = self._location_id(
            response, "send_document", "the document was created but the answer has no Location header"
        )
        return self.parse_document(wire.created_document(body, document_id, response.json()))

    def find_sent_flow(
        self, request: SendRequest, idempotency_key: str, checkpoint: MutableMapping[str, Any]
    ) -> Flow[DocumentInfo | None]:
        # Archived documents count too (a fast signer plus auto_archive).
        filters: dict[str, Any] = {"archived": "all", "page_size": PAGE_SIZE}
        first_attempt = checkpoint.get("first_attempt_at")
        if first_attempt:
            since = datetime.fromisoformat(str(first_attempt).replace("Z", "+00:00"))
            filters["created_gt"] = since - CREATED_GT_MARGIN
        return (
            yield from batch.find_first_flow(
                self, filters, lambda doc: doc.metadata.get(IDEMPOTENCY_TAG) == idempotency_key
            )
        )

    def cancel_flow(self, document_id: str, notify: bool) -> Flow[None]:
        # The documented void: status 40 and archived. `email=1` tells the recipients.
        yield ApiRequest(
            "DELETE",
            f"document/{quote_id(document_id)}/",
            operation="cancel_document",
            params={"email": "1"} if notify else None,
        )

    def download_source_flow(self, document_id: str) -> Flow[DownloadSource]:
        doc = yield from self.get_document_flow(document_id)
        if not doc.downloadable:
            raise DocumentNotReadyError(
                f"Legalesign document {document_id} is {doc.status.value} (status {doc.raw_status!r}, "
                f"download_final {truthy(doc.raw.get('download_final'))}); the final PDF is downloadable "
                "once status is 30 and download_final is true"
            )
        # While the final PDF is generated or de-archived /pdf/ answers 201 or 202 (the reference names
        # both); either, or any non-PDF body, means "not ready". hash_value may be hex or base64.
        return DownloadSource(
            url=f"pdf/{quote_id(document_id)}/",
            sha256=doc.raw.get("hash_value") or None,
            not_ready_statuses=frozenset({201, 202}),
            supports_range=False,
            # /pdf/ may answer 302 with a short-lived pre-signed storage link, which must be fetched
            # without the API key even on the API's own host.
            redirect_credentials=False,
        )

    def test_connection_flow(self) -> Flow[str]:
        settings = self.loaded_settings()
        objects, total = yield from self._groups_page_flow()
        slugs = [str(g.get("slug")) for g in objects]
        group = settings.extra.get("group")
        if group and group not in slugs and total <= len(slugs):
            raise ESignValidationError(
                f"connection {settings.conn_id!r} extra.group",
                f"{group!r} is not a group this API user can see; visible: {slugs}",
            )
        return f"Connected to Legalesign as {settings.login!r}; {total} group(s) visible: {', '.join(slugs)}"

    def _groups_page_flow(self) -> Flow[tuple[list[dict[str, Any]], int]]:
        response = yield ApiRequest("GET", "group/", operation="test_connection", params={"limit": PAGE_SIZE})
        body = wire.list_objects(
            response.json(), conn_id=self.conn_id, operation="test_connection", documents=False
        )
        objects = body["objects"]
        return objects, int((body.get("meta") or {}).get("total_count") or len(objects))

    # ---------------------------------------------------------------- generic lists
    def _collect_flow(self, path: str, params: dict[str, Any], operation: str) -> Flow[list[dict[str, Any]]]:
        settings = self.loaded_settings()
        url: str = path
        query: dict[str, Any] | None = {"limit": PAGE_SIZE, "offset": 0, **params}
        items: list[dict[str, Any]] = []
        while True:
            response = yield ApiRequest("GET", url, operation=operation, params=query)
            body = response.json()
            if isinstance(body, list):  # an unpaginated list
                return items + body
            body = wire.list_objects(body, conn_id=self.conn_id, operation=operation, documents=False)
            objects = body["objects"]
            items.extend(objects)
            next_url = (body.get("meta") or {}).get("next")
            if not next_url or not objects:
                return items
            url, query = wire.resolve_next(settings, next_url), None

    # ---------------------------------------------------------------- template PDFs
