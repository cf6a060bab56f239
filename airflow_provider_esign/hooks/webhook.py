"""What a vendor hook says about a webhook delivery, before anything is trusted.

The receiver (:mod:`airflow_provider_esign.webhooks`) asks the connection's hook class to verify a
delivery; the hook answers with a :class:`WebhookClaim`: the document it names, and whether the
sender itself was authenticated (else only a re-read of the document over the API counts).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

#: Opaque vendor ids (UUIDs, 24-hex ObjectIds): anything else in a payload is not a document id.
_DOCUMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class WebhookClaim:
    """The outcome of verifying one delivery.

    :param document_id: The document the delivery names (None when it names none).
    :param verified_sender: Whether the sender was authenticated (a shared secret matched).
    :param rejection: Why the delivery cannot be verified (answered 401; logged, never returned).
    :param bad_request: Why an authenticated delivery is malformed (answered 400).
    """

    document_id: str | None = None
    verified_sender: bool = False
    rejection: str | None = None
    bad_request: str | None = None

    @classmethod
    def reject(cls, reason: str) -> WebhookClaim:
        return cls(rejection=reason)


def document_id_from(value: Any, *, uri: bool = False) -> str | None:
    """A document id from a payload value (with ``uri``: also a resource URI), if it looks like one."""
    if not isinstance(value, str):
        return None
    candidate = value.strip().rstrip("/").rsplit("/", 1)[-1] if uri else value
    return candidate if _DOCUMENT_ID.fullmatch(candidate) else None
