"""Legalesign webhooks: subscription bodies, delivery verification and the document an event names.

Reference: https://apidocs.legalesign.com/docs/webhooks/ (realtime JSON events and the legacy
``notify`` kinds).

Verification: Legalesign documents no signature scheme for realtime events (its Power Automate
connector lists ``X-Hmac-Sha256`` / ``X-Signed-Sha256`` headers without algorithm, key or input), and a
subscription is only a URL (``POST /subscribe/`` takes ``url``, ``notify``, ``eventFilter``, ``group``),
so the one secret a delivery can carry is one we put into that URL ourselves: the connection's
``webhook_secret`` extra as ``?token=<secret>``. The receiver compares it in constant time and keeps it
out of its access log; whoever holds it can make the receiver re-read a document, nothing more.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.hooks.legalesign.wire import check_group, group_uri
from airflow_provider_esign.hooks.webhook import (
    WEBHOOK_TOKEN_PARAM,
    WebhookClaim,
    document_id_from,
    secret_mismatch,
)

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


def verify_delivery(
    extra: Mapping[str, Any], payload: dict[str, Any] | None, query: Mapping[str, str]
) -> WebhookClaim:
    """Authenticate one realtime delivery by the ``?token=`` the subscribed URL carries.

    Legalesign sends events for every change of a document, so a delivery does not announce a
    completion: only the re-read status counts.
    """
    problem = secret_mismatch(
        extra.get("webhook_secret"), query.get(WEBHOOK_TOKEN_PARAM), f"{WEBHOOK_TOKEN_PARAM} query parameter"
    )
    if problem is not None:
        return WebhookClaim.reject(problem)
    document_id = webhook_document_id(payload or {})
    if document_id is None:
        return WebhookClaim(
            verified_sender=True, bad_request="Body must be a Legalesign event naming a document"
        )
    return WebhookClaim(document_id=document_id, verified_sender=True)
