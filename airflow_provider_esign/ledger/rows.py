"""Documents as ledger rows: one documents row, its signers' rows, and a hash of what can change.

The hash covers everything a sync writes from the vendor (document, signers, expiry), so a page
whose documents have not changed writes nothing: a rerun of the same sync leaves every row as it was.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

from airflow_provider_esign.hooks.batch import timestamp
from airflow_provider_esign.models import DocumentInfo, FormField


def iso(value: Any) -> str | None:
    """A vendor time as ISO 8601 UTC (seconds, with offset), or None when absent or unreadable."""
    seconds = timestamp(value)
    if seconds is None:
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")


def now_iso(clock: float) -> str:
    return datetime.fromtimestamp(clock, timezone.utc).isoformat(timespec="seconds")


def document_values(
    doc: DocumentInfo, connection_id: str, expires_at: str | None, idempotency_key: str | None
) -> dict[str, Any]:
    """The vendor-owned columns of a document's row (not the ledger's first/last seen, sent by)."""
    metadata = dict(doc.metadata)
    return {
        "connection_id": connection_id,
        "document_id": doc.document_id,
        "vendor": doc.vendor,
        "name": doc.name,
        "status": doc.status.value,
        "vendor_status": None if doc.raw_status is None else str(doc.raw_status),
        "created_at": iso(doc.created_at),
        "modified_at": iso(doc.modified_at),
        "completed_at": iso(doc.completed_at),
        "expires_at": iso(expires_at),
        "metadata": json.dumps(metadata, sort_keys=True, default=str),
        "idempotency_key": idempotency_key,
    }


def signer_rows(doc: DocumentInfo, connection_id: str) -> list[dict[str, Any]]:
    return [
        {
            "connection_id": connection_id,
            "document_id": doc.document_id,
            "position": signer.order if signer.order is not None else index,
            "email": signer.email,
            "name": signer.name,
            "role": signer.role,
            "status": signer.status.value,
            "vendor_status": None if signer.raw_status is None else str(signer.raw_status),
            "signed_at": iso(signer.signed_at),
        }
        for index, signer in enumerate(doc.signers)
    ]


def field_rows(document_id: str, connection_id: str, fields: list[FormField]) -> list[dict[str, Any]]:
    return [
        {
            "connection_id": connection_id,
            "document_id": document_id,
            "position": index,
            "label": field.label,
            "value": field.value
            if field.value is None or isinstance(field.value, str)
            else json.dumps(field.value),
            "field_type": field.field_type,
            "signer_email": field.signer_email,
        }
        for index, field in enumerate(fields)
    ]


def row_hash(values: dict[str, Any], signers: list[dict[str, Any]]) -> str:
    """A digest of the vendor-owned values: equal hashes mean nothing to write."""
    payload = json.dumps([values, signers], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:32]
