"""
Legalesign realtime webhook events for ``POST /subscribe/`` subscriptions (``notify: realtime``).

Payload fields from Legalesign's Power Automate connector spec (``legalesign-api-v1-swagger-ms.yaml`` in
https://github.com/legalesign/Legalesign-V1-OpenAPI3): ``{version, object, event, id, created, data}``, with
``data`` holding the document and its ``recipients``. The exact ``object``/``event`` strings and the unit of
``created`` are not documented; the sandbox sends ``object: "document"``, ``event: "finalPdfCreated"`` or
``"rejected"`` (Legalesign's webhook guide says to filter for "document" and "finalPdfCreated") and
``created`` in epoch seconds. The legacy form-posted callbacks (``notify`` all/signed/sent/rejected) are not
emulated.
"""

from __future__ import annotations

from typing import Any

from esign_sandbox.legalesign.models import (
    FINAL_STEPS,
    VENDOR,
    document_status,
    signer_status,
)
from esign_sandbox.models import Document
from esign_sandbox.state import SandboxState

_STATUS_TEXT = {10: "Sent", 20: "Fields complete", 30: "Signed", 40: "Removed", 50: "Rejected"}
_SIGNER_TEXT = {4: "Unsent", 10: "Sent", 15: "Email opened", 20: "Visited", 40: "Signed", 60: "Rejected"}


def _filter_matches(event_filter: str, event: str) -> bool:
    return event_filter in ("", "document.*", f"document.{event}")


def payload(doc: Document, event: str, at: float, group: str) -> dict[str, Any]:
    """:return: the realtime event body for ``doc``."""
    status = document_status(doc, at)
    return {
        "version": "1",
        "object": "document",
        "event": event,
        "id": f"evt-{doc.id}-{event}",
        "created": int(at),
        "data": {
            "uuid": doc.id,
            "name": doc.name,
            "status": status,
            "statusText": _STATUS_TEXT.get(status, str(status)),
            "tag": doc.data.get("tag", ""),
            "tag1": doc.data.get("tag1", ""),
            "tag2": doc.data.get("tag2", ""),
            "group": group,
            "groupResourceUri": f"/api/v1/group/{group}/",
            "resourceUri": f"/api/v1/document/{doc.id}/",
            "recipients": [
                {
                    "uuid": s.id,
                    "email": s.email,
                    "order": s.order,
                    "status": signer_status(doc, i, at),
                    "statusText": _SIGNER_TEXT.get(signer_status(doc, i, at), ""),
                    "firstname": s.first_name,
                    "lastname": s.last_name,
                    "roleText": (s.role or "signer").title(),
                    "resourceUri": f"/api/v1/signer/{s.id}/",
                    "rejectReason": s.data.get("reject_reason") if s.declined_at is not None else None,
                }
                for i, s in enumerate(doc.signers)
            ],
        },
    }


def due_events(state: SandboxState) -> list[tuple[str, dict[str, Any]]]:
    """
    Collect the realtime deliveries now due: ``(url, payload)`` per matching subscription for each pending
    document that produced its final PDF or was rejected. Each document leaves the pending set once final.
    """
    now = state.now()
    due: list[tuple[str, dict[str, Any]]] = []
    for doc_id in list(state.legalesign_events_pending):
        doc = state.documents[VENDOR].get(doc_id)
        if doc is None or doc.deleted or doc.voided_at is not None:
            state.legalesign_events_pending.discard(doc_id)
            continue
        doc.refresh(now)
        event, at = None, None
        declined = doc.declined_signer
        if declined is not None and declined.declined_at is not None:
            event, at = "rejected", declined.declined_at
        elif doc.stage_reached(FINAL_STEPS, now):
            event, at = "finalPdfCreated", doc.stage_at(FINAL_STEPS)
        if event is None or at is None:
            continue
        state.legalesign_events_pending.discard(doc_id)
        group = doc.data["group"]
        for hook in state.webhook_subscriptions:
            wanted = hook["active"] and hook["notify_when"] == 10 and hook["group"] in (None, group)
            # An event fires to the subscriptions that exist when it happens.
            if wanted and _filter_matches(hook["event_filter"], event) and hook["created"] <= at:
                due.append((hook["url"], payload(doc, event, at, group)))
    return due
