"""WeSignature's declaration (plain data, no Airflow import): see :class:`~airflow_provider_esign.hooks.registry.VendorInfo`."""

from __future__ import annotations

from typing import Any, ClassVar

from airflow_provider_esign.hooks.registry import VendorInfo


class WeSignatureInfo(VendorInfo):
    """WeSignature: connection type, names, defaults and connection form."""

    hook_class_path = "airflow_provider_esign.hooks.wesignature.hook.WeSignatureHook"
    conn_type = "wesignature"
    default_conn_name = "wesignature_default"
    hook_name = "WeSignature"
    vendor = "wesignature"
    default_host = "https://app.wesignature.com/apihandler"
    # No rate limit is documented (left at 0); poll a document no faster than about once a minute.
    default_rate_limit_per_minute = 0
    external_doc_url = "https://app.wesignature.com/integrations/api/documentation"
    ui_field_behaviour: ClassVar[dict[str, Any]] = {
        "hidden-fields": ["schema", "port"],
        "relabeling": {"host": "API base URL", "login": "Account email", "password": "Password"},
        "placeholders": {
            "host": "https://app.wesignature.com/apihandler",
            "login": "Leave empty when a user id and API key are stored",
        },
    }
    conn_fields: ClassVar[dict[str, dict[str, Any]]] = {
        "user_id": {
            "label": "User id (instead of email/password)",
            "schema": {"type": ["string", "null"]},
        },
        "api_key": {
            "label": "API key (instead of email/password)",
            "schema": {"type": ["string", "null"], "format": "password"},
        },
    }
