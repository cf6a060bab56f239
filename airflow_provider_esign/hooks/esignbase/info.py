"""eSignBase's declaration (plain data, no Airflow import): see :class:`~airflow_provider_esign.hooks.registry.VendorInfo`."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow_provider_esign.hooks.registry import VendorInfo


class ESignBaseInfo(VendorInfo):
    """eSignBase: connection type, names, defaults and connection form."""

    hook_class_path = "airflow_provider_esign.hooks.esignbase.hook.ESignBaseHook"
    conn_type = "esignbase"
    default_conn_name = "esignbase_default"
    hook_name = "eSignBase"
    vendor = "esignbase"
    default_host = "https://app.esignbase.com"
    external_doc_url = "https://esignbase.com/en/api_documentation"
    ui_field_behaviour: ClassVar[dict[str, Any]] = {
        "hidden-fields": ["schema", "port"],
        "relabeling": {
            "host": "Base URL",
            "login": "OAuth2 client id (required)",
            "password": "Client secret (required)",
        },
        "placeholders": {"host": "https://app.esignbase.com"},
    }
    conn_fields: ClassVar[dict[str, dict[str, Any]]] = {
        "scopes": {
            "label": "Scopes",
            "description": "Space separated: all, read, create_document, delete.",
            "schema": {"type": ["string", "null"], "default": "all"},
        },
        "sandbox": {
            "label": "Sandbox mode",
            "description": "Adds the 'sandbox' scope: no credits used, sandbox templates only.",
            "schema": {"type": ["boolean", "null"], "default": False},
        },
        "grant_type": {
            "label": "OAuth2 grant",
            "description": (
                "client_credentials (default: your own account) or authorization_code (acting for an "
                "eSignBase user who approved access). For authorization_code run "
                "`airflow esign esignbase-authorize --conn-id <this id>` (Airflow 3.2+; else "
                "`python -m airflow_provider_esign.esignbase_auth authorize --conn-id <id>`): it prints "
                "the authorize URL, waits on the Redirect URI and stores the refresh token; "
                "`... esignbase-revoke` / `... revoke` revokes it. See docs/howto/esignbase-authorization-code.md."
            ),
            "schema": {
                "type": ["string", "null"],
                "enum": ["client_credentials", "authorization_code", None],
            },
        },
        "refresh_token_store": {
            "label": "Refresh token store (authorization_code)",
            "description": "Redis URL every worker, host and the triggerer reach, e.g. redis://redis:6379/2 "
            "(default: $AIRFLOW_ESIGN_GRANT_STORE). Tokens are stored Fernet-encrypted.",
            "schema": {"type": ["string", "null"], "format": "password"},
        },
        "redirect_uri": {
            "label": "Redirect URI (authorization_code)",
            "description": "Loopback URI the authorize command listens on; register it on the eSignBase "
            "OAuth2 client exactly (default http://127.0.0.1:8765/callback).",
            "schema": {"type": ["string", "null"]},
        },
        "webhook_secret": {
            "label": "Document Completed Hook secret",
            "description": "Verifies eSignBase webhooks (X-Signature-Secret).",
            "schema": {"type": ["string", "null"], "format": "password"},
        },
        "webhooks_enabled": {
            "label": "Receive webhooks",
            "description": (
                "Opt in to the webhook endpoint <API server>/esign/webhooks/<conn_id> (off: it answers "
                "404). Deliveries must carry the webhook secret; see docs/howto/webhooks.md."
            ),
            "schema": {"type": ["boolean", "null"], "default": False},
        },
    }
