"""Legalesign's form field values, ``GET /document/{id}/fields/``, as vendor-neutral records."""

from __future__ import annotations

from typing import Any

from airflow_provider_esign.hooks.legalesign.wire import id_from_uri, int_or_none
from airflow_provider_esign.models import DocumentInfo, FormField


def parse_form_fields(body: Any, document: DocumentInfo | None = None) -> list[FormField]:
    """``GET /document/{id}/fields/`` as :class:`FormField` records, in field order.

    Legalesign's OpenAPI spec lists ``element_type, fieldorder, label, label_extra, signer, state,
    validation, value`` per field and does not define ``signer``: a signer URI or id is matched to
    that signer's email (from ``document``), any other value is kept as given.
    """
    items = body.get("objects", []) if isinstance(body, dict) else body or []
    emails = {s.signer_id: s.email for s in (document.signers if document else []) if s.signer_id}
    fields = []
    for item in sorted(items, key=lambda f: int_or_none(f.get("fieldorder")) or 0):
        ref = None if item.get("signer") is None else str(item["signer"])
        fields.append(
            FormField(
                label=item.get("label"),
                value=item.get("value"),
                field_type=item.get("element_type"),
                signer=ref,
                signer_email=emails.get(id_from_uri(ref) or "") if ref else None,
                raw=item,
            )
        )
    return fields
