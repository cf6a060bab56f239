"""Legalesign's declaration (plain data, no Airflow import): see :class:`~airflow_provider_esign.hooks.registry.VendorInfo`."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow_provider_esign.hooks.registry import VendorInfo


class LegalesignInfo(VendorInfo):
    """Legalesign: connection type, names, defaults and connection form."""

    hook_class_path = "airflow_provider_esign.hooks.legalesign.hook.LegalesignHook"
    conn_type = "legalesign"
    default_conn_name = "legalesign_default"
    hook_name = "Legalesign"
    vendor = "legalesign"
    default_host = "https://eu-api.legalesign.com/api/v1"
    external_doc_url = "https://apidocs.legalesign.com/"
    #: The documented sandbox throttle (100 calls/min); the production limit is undocumented.
    default_rate_limit_per_minute = 100
    ui_field_behaviour: ClassVar[dict[str, Any]] = {
        "hidden-fields": ["schema", "port"],
        "relabeling": {
            "host": "API base URL",
            "login": "API username (required)",
            "password": "API secret (required)",
        },
        "placeholders": {
            "host": "https://eu-api.legalesign.com/api/v1",
            "login": "API username from the API Dashboard",
            "password": "API key (secret)",
        },
    }
    conn_fields: ClassVar[dict[str, dict[str, Any]]] = {
        "group": {
            "label": "Group (team) slug",
            "description": "Default group documents are sent from, e.g. 'acme-dev' (required).",
            "schema": {"type": "string", "minLength": 1, "pattern": "^[-a-z0-9_]{1,50}$"},
        },
        "user": {
            "label": "User URI (optional)",
            "description": "Assign sent documents to this group member, /api/v1/user/<id>/.",
            "schema": {"type": ["string", "null"]},
        },
        "webhooks_enabled": {
            "label": "Receive webhooks",
            "description": (
                "Opt in to the webhook endpoint <API server>/esign/webhooks/<conn_id> (off: it answers "
                "404). Deliveries must carry the webhook secret; see docs/howto/webhooks.md."
            ),
            "schema": {"type": ["boolean", "null"], "default": False},
        },
        "webhook_secret": {
            "label": "Webhook token",
            "description": (
                "A long random value of your choice; subscribe the URL "
                "<API server>/esign/webhooks/<conn_id>?token=<this value> (Legalesign signs nothing "
                "verifiable, so the URL carries the secret)."
            ),
            "schema": {"type": ["string", "null"], "format": "password"},
        },
    }
