"""What a vendor hook says about a webhook delivery, before anything is trusted.

The receiver (:mod:`airflow_provider_esign.webhooks`) asks the connection's hook class to verify a
delivery; the hook answers with a :class:`WebhookClaim`: the document it names, and whether the
sender was authenticated by a secret the connection holds. Only an authenticated delivery may cost a
vendor API call (the re-read of the document, whose fetched status is what counts).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Any

#: Query parameter carrying the connection's ``webhook_secret`` for vendors that cannot send a header.
WEBHOOK_TOKEN_PARAM = "token"

#: Opaque vendor ids (UUIDs, 24-hex ObjectIds): anything else in a payload is not a document id.
_DOCUMENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True)
class WebhookClaim:
    """The outcome of verifying one delivery.

    :param document_id: The document the delivery names (None when it names none).
    :param verified_sender: Whether the sender was authenticated (a shared secret matched).
    :param rejection: Why the delivery cannot be verified (answered 401; logged, never returned).
    :param bad_request: Why an authenticated delivery is malformed (answered 400).
    :param announces_completion: The vendor sends this kind of delivery only for completed documents,
        so a re-read that is not completed yet means the API lags (answered 503: deliver again later).
    """

    document_id: str | None = None
    verified_sender: bool = False
    rejection: str | None = None
    bad_request: str | None = None
    announces_completion: bool = False

    @classmethod
    def reject(cls, reason: str) -> WebhookClaim:
        return cls(rejection=reason)


def document_id_from(value: Any, *, uri: bool = False) -> str | None:
    """A document id from a payload value (with ``uri``: also a resource URI), if it looks like one."""
    if not isinstance(value, str):
        return None
    candidate = value.strip().rstrip("/").rsplit("/", 1)[-1] if uri else value
    return candidate if _DOCUMENT_ID.fullmatch(candidate) else None


def secret_mismatch(expected: Any, received: str | None, where: str) -> str | None:
    """Why ``received`` does not authenticate a delivery (None when it matches ``expected``).

    Compared in constant time; the reason names where the secret was looked for, never a value.

    :param expected: The connection's ``webhook_secret`` extra.
    :param received: What the delivery carried.
    :param where: e.g. ``"X-Signature-Secret header"``, for the server log.
    """
    if not isinstance(expected, str) or not expected:
        return "the connection has no webhook_secret extra"
    if received is None:
        return f"no {where}"
    if not hmac.compare_digest(received.encode("utf-8", "surrogateescape"), expected.encode("utf-8")):
        return f"wrong {where}"
    return None
