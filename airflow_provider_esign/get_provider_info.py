"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

The connection forms are declared here (``conn-fields`` / ``ui-field-behaviour``): the Airflow 3 UI
builds them from this metadata without importing the hooks.
"""

from __future__ import annotations

from typing import Any

_CONNECTION_TUNING = {
    "rate_limit_per_minute": {
        "label": "Rate limit (calls per minute)",
        "description": "Client-side budget shared by tasks on one host; 0 disables it.",
        "schema": {"type": ["integer", "null"], "minimum": 0},
    },
    "max_attempts": {
        "label": "Attempts per API call",
        "description": "Transient failures (429, 502-504, connection errors) are retried with backoff.",
        "schema": {"type": ["integer", "null"], "minimum": 1, "maximum": 20},
    },
    "max_retry_seconds": {
        "label": "Retry time budget (seconds)",
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
    "backoff_base": {
        "label": "First retry backoff (seconds)",
        "description": "Doubles per attempt, with jitter (default 1).",
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
    "backoff_max": {
        "label": "Longest retry backoff (seconds)",
        "description": "Also caps the vendor's Retry-After (default 60).",
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
    "create_settle_seconds": {
        "label": "Create settle time (seconds)",
        "description": "After an ambiguous create (timeout, reset, 502/504) that no lookup finds, wait "
        "this long and look again before sending a second time (default 30).",
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
    "timeout": {
        "label": "Read timeout (seconds)",
        "schema": {"type": ["number", "null"], "minimum": 1},
    },
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-esign",
        "name": "E-Signature",
        "description": "Send documents for e-signature, wait for signing and store the signed PDFs, "
        "with Legalesign, WeSignature and eSignBase.",
        "integrations": [
            {"integration-name": name, "external-doc-url": url, "tags": ["service"]}
            for name, url in (
                ("Legalesign", "https://apidocs.legalesign.com/"),
                ("WeSignature", "https://app.wesignature.com/integrations/api/documentation"),
                ("eSignBase", "https://esignbase.com/en/api_documentation"),
            )
        ],
        "connection-types": [
            {
                "connection-type": "legalesign",
                "hook-class-name": "airflow_provider_esign.hooks.legalesign.LegalesignHook",
                "hook-name": "Legalesign",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"host": "API base URL", "login": "API username", "password": "API secret"},
                    "placeholders": {
                        "host": "https://eu-api.legalesign.com/api/v1",
                        "login": "API username from the API Dashboard",
                        "password": "API key (secret)",
                    },
                },
                "conn-fields": {
                    "group": {
                        "label": "Group (team) slug",
                        "description": "Default group documents are sent from, e.g. 'acme-dev'.",
                        "schema": {"type": ["string", "null"], "pattern": "^[-a-z0-9_]{1,50}$"},
                    },
                    "user": {
                        "label": "User URI (optional)",
                        "description": "Assign sent documents to this group member, /api/v1/user/<id>/.",
                        "schema": {"type": ["string", "null"]},
                    },
                    **_CONNECTION_TUNING,
                },
            },
            {
                "connection-type": "wesignature",
                "hook-class-name": "airflow_provider_esign.hooks.wesignature.WeSignatureHook",
                "hook-name": "WeSignature",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {"host": "API base URL", "login": "Account email", "password": "Password"},
                    "placeholders": {
                        "host": "https://app.wesignature.com/apihandler",
                        "login": "Leave empty when a user id and API key are stored",
                    },
                },
                "conn-fields": {
                    "user_id": {
                        "label": "User id (instead of email/password)",
                        "schema": {"type": ["string", "null"]},
                    },
                    "api_key": {
                        "label": "API key (instead of email/password)",
                        "schema": {"type": ["string", "null"], "format": "password"},
                    },
                    **_CONNECTION_TUNING,
                },
            },
            {
                "connection-type": "esignbase",
                "hook-class-name": "airflow_provider_esign.hooks.esignbase.ESignBaseHook",
                "hook-name": "eSignBase",
                "ui-field-behaviour": {
                    "hidden-fields": ["schema", "port"],
                    "relabeling": {
                        "host": "Base URL",
                        "login": "OAuth2 client id",
                        "password": "Client secret",
                    },
                    "placeholders": {"host": "https://app.esignbase.com"},
                },
                "conn-fields": {
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
                    **_CONNECTION_TUNING,
                },
            },
        ],
        "hooks": [
            {
                "integration-name": name,
                "python-modules": [f"airflow_provider_esign.hooks.{module}"],
            }
            for name, module in (
                ("Legalesign", "legalesign"),
                ("WeSignature", "wesignature"),
                ("eSignBase", "esignbase"),
            )
        ],
        "operators": [
            {
                "integration-name": "E-Signature",
                "python-modules": [
                    "airflow_provider_esign.operators.send",
                    "airflow_provider_esign.operators.download",
                    "airflow_provider_esign.operators.manage",
                ],
            }
        ],
        "sensors": [
            {"integration-name": "E-Signature", "python-modules": ["airflow_provider_esign.sensors.status"]}
        ],
        "triggers": [
            {
                "integration-name": "E-Signature",
                "python-modules": [
                    "airflow_provider_esign.triggers.status",
                    "airflow_provider_esign.triggers.events",
                ],
            }
        ],
        "extra-links": ["airflow_provider_esign.links.ESignDocumentLink"],
    }
