"""
Default credentials accepted by the e-signature sandbox.

These are fixed, public test values: they only ever unlock the local emulator. Every one of them can be
overridden through :class:`~esign_sandbox.config.SandboxConfig`.
"""

from __future__ import annotations

import hmac


def same_secret(received: str, expected: str) -> bool:
    """Constant-time comparison of two credentials, as UTF-8 bytes (``compare_digest`` raises a
    TypeError, a 500, on a ``str`` with non-ASCII characters)."""
    return hmac.compare_digest(received.encode("utf-8", "surrogateescape"), expected.encode("utf-8"))


# Legalesign: ``Authorization: ApiKey <username>:<secret>``.
LEGALESIGN_USERNAME = "sandbox-api-user"
LEGALESIGN_SECRET = "sandbox-legalesign-secret-0001"
LEGALESIGN_GROUP = "sandbox-team"
# The REST API references users by URI; the sandbox has exactly one API user.
LEGALESIGN_USER_ID = "5a4d8c1e-0b7f-4c6a-9d3e-2f1b0a9c8d7e"
# Not a vendor credential: the secret a Legalesign connection expects back as ``?token=`` in the URL it
# subscribed for webhooks (Legalesign signs nothing verifiable).
LEGALESIGN_WEBHOOK_TOKEN = "sandbox-legalesign-webhook-token-0001"

# WeSignature: ``login_api`` exchanges email/password for ``user`` + ``api_key``.
WESIGNATURE_EMAIL = "sandbox@wesignature.test"
WESIGNATURE_PASSWORD = "sandbox-wesignature-password-0001"
WESIGNATURE_USER_ID = "sandbox-user-1"
WESIGNATURE_API_KEY = "sandbox-wesignature-api-key-0001"

# eSignBase: OAuth2 client credentials plus the "Document Completed Hook Secret".
ESIGNBASE_CLIENT_ID = "sandbox-client"
ESIGNBASE_CLIENT_SECRET = "sandbox-esignbase-client-secret-0001"
ESIGNBASE_WEBHOOK_SECRET = "sandbox-webhook-secret-0001"

#: Templates available in the eSignBase account: id -> (form_role_names, page_standard, pages, filename).
ESIGNBASE_TEMPLATES: dict[str, tuple[tuple[str, ...], str, int, str]] = {
    "tpl-nda": (("signee_1",), "a4", 1, "nda.pdf"),
    "tpl-employment": (("employee", "employer"), "a4", 2, "employment.pdf"),
}
ESIGNBASE_INITIAL_CREDITS = 1000
