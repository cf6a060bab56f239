"""
Webhook delivery, driven by one background task per server: eSignBase's "Document Completed Hook" and
Legalesign's realtime events for ``POST /subscribe/`` subscriptions.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from esign_sandbox import journal
from esign_sandbox.esignbase import COMPLETED_STEPS, VENDOR
from esign_sandbox.models import iso_utc
from esign_sandbox.state import SandboxState

log = logging.getLogger(__name__)


class WebhookDispatcher:
    """
    Watches eSignBase documents and POSTs the completed hook once per document.

    Document progress is computed lazily, so something has to look at pending documents for the hook to
    fire without a client polling; a single periodic task does that for all of them.

    :param state: the sandbox state.
    """

    def __init__(self, state: SandboxState) -> None:
        self.state = state
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: Any = None

    async def run(self) -> None:
        """Check pending documents every ``tick_interval`` real seconds until cancelled."""
        while True:
            try:
                self.check()
            except Exception:  # a bug in one check must not stop all future deliveries
                log.exception("webhook check failed")
            await asyncio.sleep(self.state.config.tick_interval)

    def check(self) -> None:
        """Start every delivery now due (eSignBase completions, Legalesign realtime events)."""
        self._check_esignbase()
        # Without a subscription no event can go anywhere (and later ones only get later events).
        if self.state.webhook_subscriptions and self.state.legalesign_events_pending:
            from esign_sandbox.legalesign.events import due_events

            for url, payload in due_events(self.state):
                self._start(
                    url, payload["data"]["uuid"], payload, {}, vendor="legalesign", event=payload["event"]
                )

    def _start(
        self, url: str, doc_id: str, payload: dict[str, Any], headers: dict[str, str], **extra: str
    ) -> None:
        task = asyncio.ensure_future(self._deliver(url, doc_id, payload, headers, extra))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _check_esignbase(self) -> None:
        """Start a delivery for every eSignBase document that reached COMPLETED while the hook was set."""
        state = self.state
        if not state.config.webhook_url:
            # Nothing can fire: documents completing now will predate any hook configured later.
            return
        now = state.now()
        for doc_id in list(state.hooks_pending):
            doc = state.documents[VENDOR].get(doc_id)
            if doc is None or doc.deleted:
                state.hooks_pending.discard(doc_id)
                continue
            doc.refresh(now)
            if doc.voided_at is not None or doc.declined_signer is not None:
                state.hooks_pending.discard(doc_id)
                continue
            completed_at = doc.stage_at(COMPLETED_STEPS)
            if completed_at is None or now < completed_at:
                continue
            state.hooks_pending.discard(doc_id)
            url = state.config.webhook_url
            enabled_at = state.webhook_configured_at
            if url and enabled_at is not None and completed_at >= enabled_at and not doc.hook_done:
                doc.hook_done = True
                payload = {"document_id": doc_id, "status": "COMPLETED"}
                headers = {"X-Signature-Secret": state.config.esignbase_webhook_secret}
                self._start(url, doc_id, payload, headers)

    async def _deliver(
        self, url: str, doc_id: str, payload: dict[str, Any], headers: dict[str, str], extra: dict[str, str]
    ) -> None:
        import httpx

        state = self.state
        if self._client is None:
            self._client = httpx.AsyncClient(trust_env=False, timeout=state.config.webhook_timeout)
        delay = state.config.webhook_retry_delay
        for attempt in range(1, state.config.webhook_attempts + 1):
            record: dict[str, Any] = {
                "document_id": doc_id,
                "url": journal.redact_url(url),
                "attempt": attempt,
                "at": iso_utc(state.now()),
                "status_code": None,
                "error": None,
                "ok": False,
                **extra,
            }
            try:
                response = await self._client.post(url, json=payload, headers=headers)
                record["status_code"] = response.status_code
                record["ok"] = 200 <= response.status_code < 300
            except httpx.HTTPError as exc:
                record["error"] = type(exc).__name__
            state.webhook_deliveries.append(record)
            if record["ok"]:
                return
            if attempt < state.config.webhook_attempts:
                await asyncio.sleep(delay)
                delay *= 2

    def cancel_all(self) -> None:
        """Cancel deliveries in flight (used by reset, so old deliveries do not leak into new state)."""
        for task in list(self._tasks):
            task.cancel()

    async def close(self) -> None:
        """Cancel deliveries in flight and close the HTTP client."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()
            self._client = None
