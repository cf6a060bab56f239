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
        "relabeling": {"host": "Base URL", "login": "OAuth2 client id", "password": "Client secret"},
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
