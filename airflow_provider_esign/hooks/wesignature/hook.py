"""WeSignature API hook: https://app.wesignature.com/integrations/api/documentation

Connection (type ``wesignature``), one of:

* ``login`` = account email, ``password`` = account password: the hook calls ``login_api`` once per
  process and reuses the ``user_id``/``api_key`` it returns (the key may rotate on every login, so it
  is not fetched per task);
* extra ``user_id`` + ``api_key``, obtained once: no login call at all. When email/password are set
  too, a rejected stored key is replaced by one login.

``host`` = base URL (default ``https://app.wesignature.com/apihandler``). The status mapping, the
exactly-once strategy (no idempotency field: a fingerprint and a pre-send baseline) and the vendor's
limits (no cancel, no templates, public file URLs) are described in ``docs/vendors/wesignature.md``.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from dataclasses import replace
from typing import Any, ClassVar
from urllib.parse import urljoin

from airflow_provider_esign.exceptions import (
    DocumentFailedError,
    DocumentNotReadyError,
    ESignApiError,
    ESignAuthError,
    ESignBadRequestError,
    ESignUnsupportedError,
)
from airflow_provider_esign.hooks.api import DownloadSource, Flow, no_call, single_request
from airflow_provider_esign.hooks.wesignature import rules, wire
from airflow_provider_esign.hooks.wesignature.flows import WeSignatureFlows
from airflow_provider_esign.hooks.wesignature.info import WeSignatureInfo
from airflow_provider_esign.hooks.wesignature.ledger import DEFAULT_WINDOW, LedgerError, SendLedger
from airflow_provider_esign.hooks.wesignature.ledgers import open_ledger
from airflow_provider_esign.hooks.wesignature.wire import (
    BASELINE_KEY,
    COMPLETED,
    THEY_SIGN,
    THEY_SIGN_LABEL,
    WeSignatureCredentials,
    document_links,
)
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SendRequest, SignerInfo
from airflow_provider_esign.validation import require_signers, require_text


class WeSignatureHook(WeSignatureInfo, WeSignatureFlows):
    """Interact with WeSignature: send a document from a public URL, track it, download it.

    :param conn_id: Airflow connection of type ``wesignature``.
    """

    # An api key rejected with 401 is replaced by one login_api call, then the request is retried once.
    reauthenticate_on_401 = True
    supports_cancel = False
    supports_reminders = False
    send_options: ClassVar[frozenset[str]] = frozenset({"sign_type", "is_for_embedded_signing"})

    def __init__(self, conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(conn_id, **kwargs)
        # The shared send ledger once looked up, with the process that looked it up: (pid, ledger), the
        # ledger None when sharing is off. A forked child looks again (it must not share connections).
        self._send_ledger: tuple[int, SendLedger | None] | None = None

    # ---------------------------------------------------------------- sending
    def prepare_send_flow(self, request: SendRequest) -> Flow[SendRequest]:
        # senddocumentapi has no title field (https://app.wesignature.com/integrations/api/documentation):
        # WeSignature names the document after the file, so say so rather than drop document_name silently.
        self.log.warning(
            "WeSignature's send API takes no document name: the document will be titled after its file "
            "(%s), not %r",
            str(request.file).rsplit("/", 1)[-1].split("?", 1)[0],
            request.name,
        )
        # Coerce dict signers once, so fingerprint and body see the same Signer objects.
        return no_call(
            replace(request, signers=require_signers(request.signers), file=str(request.file).strip())
        )

    def validate_send_request(self, request: SendRequest) -> None:
        """Check a send request against what WeSignature accepts; no HTTP.

        ``file`` must be a public http(s) URL; ``vendor_options`` may hold ``sign_type`` (default 3,
        "they-sign") and ``is_for_embedded_signing`` (0, 1 or 2; default 0).
        """
        rules.validate_send_request(request, self.send_options)

    def _create_body(self, request: SendRequest) -> dict[str, Any]:
        return wire.create_body(request, rules.sign_type(request), rules.embedded(request))

    def create_flow(self, request: SendRequest, idempotency_key: str | None) -> Flow[DocumentInfo]:
        # WeSignature has no idempotency field: the key is used only for reconciliation.
        body = self._create_body(request)
        response = yield self._api("senddocumentapi", "send_document", body, idempotent=False)
        data = (response.json() or {}).get("data")
        data = data if isinstance(data, dict) else {}
        guid = data.get("guid")
        if not guid:
            raise ESignApiError(
                "the send answer has no data.guid; check the WeSignature account before sending again",
                conn_id=self.conn_id,
                operation="send_document",
                vendor_message=self.vendor_message(response),
            )
        self._claim_created(request, idempotency_key, str(guid))
        if body["sign_type"] == THEY_SIGN:
            # The documented sign_type table is unreliable, so the label is verified after sending.
            label = str(data.get("signature_type") or "").strip().lower()
            if label != THEY_SIGN_LABEL:
                raise ESignBadRequestError(
                    f"sign_type {THEY_SIGN} produced signature_type {data.get('signature_type')!r}, not "
                    f"{THEY_SIGN_LABEL!r}. Document {guid} may have been created: check it (and delete it "
                    "if unwanted) in the WeSignature web app, then set vendor_options['sign_type']",
                    conn_id=self.conn_id,
                    operation="send_document",
                )
        else:
            self.log.info(
                "sign_type %s produced signature_type %r", body["sign_type"], data.get("signature_type")
            )
        raw_status = data.get("document_status") or "draft"
        status = self._document_status(raw_status, [])
        if status is DocumentStatus.DRAFT:
            # The link itself is not logged: its authentication is undocumented.
            self.log.info(
                "WeSignature document %s is a draft: it may need fields placed in the WeSignature web app "
                "before it goes out (its edit_link is in the result's raw payload)",
                guid,
            )
        signers = [
            SignerInfo(email=s.email.strip(), name=s.name.strip(), order=index)
            for index, s in enumerate(request.signers)
        ]
        return DocumentInfo(
            document_id=str(guid),
            vendor=self.vendor,
            name=data.get("document_name"),
            status=status,
            raw_status=raw_status,
            signers=signers,
            raw=data,
        )

    # ---------------------------------------------------------------- exactly-once
    def _ledger(self) -> SendLedger | None:
        """The account's shared send ledger, or None when sharing is off (``baseline_window_seconds=0``);
        looked up once per hook and process."""
        if self._send_ledger is None or self._send_ledger[0] != os.getpid():
            self._send_ledger = (os.getpid(), self._open_ledger())
        return self._send_ledger[1]

    def _open_ledger(self) -> SendLedger | None:
        if self._baseline_window() <= 0:
            return None
        settings = self.loaded_settings()
        user = settings.login or str(settings.extra.get("user_id") or "")
        limiter = self.rate_limiter  # its storage option and folder: one place for shared state
        return open_ledger(
            f"wesignature|{settings.base_url}|{user}", limiter.storage, os.path.dirname(limiter.path)
        )

    def _baseline_window(self) -> float:
        return float(self.option("baseline_window_seconds", DEFAULT_WINDOW))

    def before_create_flow(
        self, request: SendRequest, checkpoint: MutableMapping[str, Any], idempotency_key: str | None = None
    ) -> Flow[None]:
        fingerprint = wire.fingerprint(request)
        ledger = self._ledger() if idempotency_key else None
        if ledger is None:
            # Only the guids of matching documents are kept while the account's list streams in.
            checkpoint[BASELINE_KEY] = yield from self._sent_documents_flow(
                None, "send_document", lambda item: wire.baseline_guid(item, fingerprint)
            )
            return
        assert idempotency_key is not None
        fps = wire.fingerprint_keys(fingerprint)
        now = ledger.now()
        baseline = ledger.baseline(fps, now, self._baseline_window())
        if baseline is None:  # no snapshot of this window yet: take one for every send that follows
            # Written to the ledger in batches while the list streams in: only this send's matches
            # are kept in memory.
            writer = ledger.snapshot_writer(now, fps)
            try:
                found = yield from self._sent_documents_flow(
                    None, "send_document", lambda item: writer.add(wire.ledger_entry(item))
                )
                writer.commit()
            except BaseException:
                writer.abort()
                raise
            baseline = sorted(set(found))
        # Documents other keyed sends created since the snapshot are theirs, not new matches of ours.
        claimed, _ = ledger.others(fps, idempotency_key, now)
        checkpoint[BASELINE_KEY] = sorted(set(baseline) | claimed)
        ledger.begin(idempotency_key, fps[0], checkpoint[BASELINE_KEY], now)

    def create_refused(self, idempotency_key: str | None) -> None:
        # The vendor answered the create with an error: it made no document, so this send's intent
        # no longer stands in the way of identical sends' adoptions.
        ledger = self._ledger() if idempotency_key else None
        if ledger is not None and idempotency_key is not None:
            try:
                ledger.abandon(idempotency_key)
            except LedgerError as exc:
                self.log.warning("Could not close this send's entry in the shared send ledger: %s", exc)

    def _claim_created(self, request: SendRequest, idempotency_key: str | None, guid: str) -> None:
        """File the guid a keyed send's create returned under its key in the shared ledger."""
        ledger = self._ledger() if idempotency_key else None
        if ledger is None or idempotency_key is None:
            return
        fp = wire.fingerprint_keys(wire.fingerprint(request))[0]
        try:
            if not ledger.claim(idempotency_key, fp, guid, ledger.now()):
                self.log.error("WeSignature document %s was already claimed by another send", guid)
        except LedgerError as exc:  # the document exists: report it rather than fail the send
            self.log.warning("Could not record document %s in the shared send ledger: %s", guid, exc)

    def find_sent_flow(
        self, request: SendRequest, idempotency_key: str, checkpoint: MutableMapping[str, Any]
    ) -> Flow[DocumentInfo | None]:
        fingerprint = wire.fingerprint(request)
        matches = yield from self._sent_documents_flow(
            None, "send_document", lambda item: item if wire.baseline_guid(item, fingerprint) else None
        )
        ledger = self._ledger()
        claimed: set[str] = set()
        open_others = 0
        if ledger is not None:
            fps = wire.fingerprint_keys(fingerprint)
            mine = ledger.owned(idempotency_key)
            own = next((i for i in matches if mine is not None and str(i["guid"]) == mine), None)
            if own is not None:  # an earlier try of this very key created or adopted it
                return self.parse_document(own)
            if BASELINE_KEY not in checkpoint:  # a try that crashed before its checkpoint was saved
                recorded = ledger.recorded_baseline(idempotency_key)
                if recorded is not None:
                    checkpoint[BASELINE_KEY] = recorded
            claimed, open_others = ledger.others(fps, idempotency_key, ledger.now())
            matches = [i for i in matches if str(i["guid"]) not in claimed]
        if BASELINE_KEY in checkpoint:
            baseline = {str(g) for g in checkpoint[BASELINE_KEY] or []}
            candidates = [i for i in matches if str(i["guid"]) not in baseline]
            if candidates and open_others:
                raise ESignApiError(
                    f"{len(candidates)} new WeSignature document(s) match this send, and {open_others} other "
                    "send(s) with the same file name and signers are still in progress on this account: "
                    "which document is this send's cannot be told yet, so none is adopted and nothing is "
                    "sent again. A later try decides once the other sends have recorded their documents",
                    conn_id=self.conn_id,
                    operation="send_document",
                )
            if len(candidates) > 1:
                self.log.warning(
                    "%d new WeSignature documents match this send; adopting the last listed", len(candidates)
                )
            # The list order is undocumented; the last item is taken as the newest.
            return self._adopt(ledger, request, idempotency_key, candidates)
        in_progress = [i for i in matches if not self.parse_document(i).status.is_terminal]
        if in_progress:
            self.log.warning(
                "No pre-send baseline was recorded, so the earlier attempt's document cannot be told apart "
                "from an older identical send (same file name and signers); adopting %s, the last such "
                "document still in progress, rather than risking a duplicate",
                in_progress[-1]["guid"],
            )
        return self._adopt(ledger, request, idempotency_key, in_progress)

    def _adopt(
        self, ledger: SendLedger | None, request: SendRequest, key: str, candidates: list[dict[str, Any]]
    ) -> DocumentInfo | None:
        """The last candidate this key can claim (another send may have claimed one meanwhile)."""
        fp = wire.fingerprint_keys(wire.fingerprint(request))[0]
        for item in reversed(candidates):
            if ledger is None or ledger.claim(key, fp, str(item["guid"]), ledger.now()):
                return self.parse_document(item)
        return None

    # ---------------------------------------------------------------- cancel, download, test
    def cancel_flow(self, document_id: str, notify: bool) -> Flow[None]:
        # delete_link's semantics are undocumented, so it is never called automatically.
        raise ESignUnsupportedError(
            f"WeSignature has no cancel API; to withdraw document {document_id}, open its delete_link "
            "(in the send_document result) or use the WeSignature web app"
        )

    def download_source_flow(self, document_id: str) -> Flow[DownloadSource]:
        # The guid-filtered list item carries the status, the download_link (present only once the
        # document is completed, per the API reference) and the names the status answer lacks: when it
        # says completed and has the link, it is all the download needs (one call, not two).
        item = yield from self._sent_item_flow(document_id, "download_document")
        listed = self.parse_document(item, document_id) if item else None
        link = (item or {}).get("download_link")
        if listed is not None and link and listed.status is DocumentStatus.COMPLETED:
            return self._link_source(link, listed)
        # Otherwise the status API decides (its numeric status is the documented one).
        body = yield from self._status_flow(document_id, "download_document")
        raw_data = body.get("data")
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        doc = self.parse_document(data, document_id)
        if doc.status.is_failure:
            raise DocumentFailedError(document_id, doc.status.value, doc.raw_status)
        if str(doc.raw_status).strip() != COMPLETED:
            raise DocumentNotReadyError(
                f"WeSignature document {document_id} has status {doc.raw_status!r}; the signed PDF is "
                f"available once it is {COMPLETED!r} (completed)"
            )
        link = data.get("download_link") or link
        if not link:
            raise DocumentNotReadyError(
                f"WeSignature document {document_id} is completed but has no download_link"
            )
        return self._link_source(link, wire.with_listed_details(doc, listed) if listed else None)

    def _link_source(self, link: Any, document: DocumentInfo | None) -> DownloadSource:
        settings = self.loaded_settings()
        # The link's authentication is undocumented: it is fetched without credentials, and an HTML
        # answer (a login page) is reported as not ready.
        return DownloadSource(
            url=urljoin(settings.base_url, str(link)), auth=False, supports_range=False, document=document
        )

    def _sent_item_flow(self, document_id: str, operation: str) -> Flow[dict[str, Any] | None]:
        """The sent-documents list item of one document (the list filtered by ``guid``)."""
        items = yield from self._sent_documents_flow(document_id, operation)
        item = next((i for i in items if str(i.get("guid")) == document_id), None)
        return items[0] if item is None and len(items) == 1 else item

    def document_details_flow(self, document_id: str) -> Flow[DocumentInfo]:
        # documentstatusapi has no document or signer names; the guid-filtered list has them.
        doc = yield from self.get_document_flow(document_id)
        item = yield from self._sent_item_flow(document_id, "get_document_details")
        return wire.with_listed_details(doc, self.parse_document(item, document_id) if item else None)

    def test_connection_flow(self) -> Flow[str]:
        # With email/password the first call implies a login_api call.
        # Counted while streaming: nothing of the documents is kept.
        items = yield from self._sent_documents_flow(None, "test_connection", lambda item: True)
        return f"Connected to WeSignature: {len(items)} sent document(s)"

    def document_url(self, document_id: str) -> str | None:
        """None: WeSignature documents no per-document page; see :meth:`links` for the send's links."""
        return None

    def web_url(self, document: DocumentInfo) -> str | None:
        """The send's ``edit_link`` (where a draft is prepared), else its ``signing_link``."""
        links = document_links(document)
        return links.get("edit_link") or links.get("signing_link")

    # ---------------------------------------------------------------- vendor extras
    def links(self, document: DocumentInfo) -> dict[str, str | None]:
        """The four WeSignature links of a document (``edit_link`` is where a draft is prepared).

        :param document: A result of :meth:`send_document` or :meth:`list_documents`.
        """
        return document_links(document)

    def login(self) -> dict[str, str]:
        """Obtain this process's WeSignature credentials and return the user id (never the key).

        Calls ``login_api`` only when no credentials are cached yet and the connection has no stored
        ``user_id``/``api_key``; logging in again might rotate the key.
        """
        creds = self.credentials()
        if not isinstance(creds, WeSignatureCredentials):
            raise ESignAuthError("no WeSignature credentials", conn_id=self.conn_id, operation="login")
        return {"user_id": creds.user_id}

    def list_sent_documents(self, guid: str | None = None) -> list[dict[str, Any]]:
        """The raw documents of ``getsentdocumentsapi``, with their links.

        :param guid: Only this document.
        """
        return self.run_flow(self._sent_documents_flow(guid, "list_sent_documents"))

    def get_status_raw(self, guid: str) -> dict[str, Any]:
        """The full ``documentstatusapi`` answer for one document.

        :param guid: The document's guid.
        """
        require_text("guid", guid)
        response = self.run_flow(
            single_request(self._api("documentstatusapi", "get_status_raw", {"guid": guid}))
        )
        return response.json()
