"""Legalesign webhooks: subscription bodies and the document an event names.

Reference: https://apidocs.legalesign.com/docs/webhooks/ (realtime JSON events and the legacy
``notify`` kinds).
"""

from __future__ import annotations

import re
from typing import Any

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.hooks.legalesign.wire import check_group, group_uri
from airflow_provider_esign.hooks.webhook import document_id_from

WEBHOOK_URL = re.compile(r"^https?://")
WEBHOOK_NOTIFY = frozenset({"all", "signed", "sent", "rejected", "realtime"})
WEBHOOK_EVENT_FILTERS = frozenset(
    {
        "",
        "document.*",
        "document.created",
        "document.rejected",
        "document.finalPdfCreated",
        "recipient.*",
        "recipient.completed",
        "recipient.rejected",
        "recipient.emailOpened",
        "recipient.visiting",
        "recipient.bounced",
    }
)


def webhook_body(url: str, event_filter: str, group: str | None) -> dict[str, Any]:
    """The body of ``POST /subscribe/`` and ``/unsubscribe/`` (validated)."""
    if not isinstance(url, str) or not WEBHOOK_URL.match(url):
        raise ESignValidationError("url", "must start with http:// or https://")
    if event_filter not in WEBHOOK_EVENT_FILTERS:
        raise ESignValidationError("event_filter", f"must be one of {sorted(WEBHOOK_EVENT_FILTERS)}")
    body: dict[str, Any] = {"url": url, "eventFilter": event_filter}
    if group:
        # The form is not documented for webhooks; POST bodies elsewhere use the group URI.
        body["group"] = group_uri(check_group("group", group))
    return body


def webhook_document_id(payload: dict[str, Any]) -> str | None:
    """The document a realtime webhook event is about: ``data.uuid`` (or ``resourceUri``) for
    document events, ``data.document`` / ``documentResourceUri`` for recipient events
    (https://apidocs.legalesign.com/docs/webhooks/)."""
    data = payload.get("data")
    if not isinstance(data, dict):
        return None
    if str(payload.get("object", "")).lower() == "recipient" or "documentResourceUri" in data:
        return document_id_from(data.get("document"), uri=True) or document_id_from(
            data.get("documentResourceUri"), uri=True
        )
    return document_id_from(data.get("uuid")) or document_id_from(data.get("resourceUri"), uri=True)
