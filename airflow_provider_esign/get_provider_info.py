"""Provider metadata read by Airflow's ProvidersManager (entry point ``apache_airflow_provider``).

The connection types and their forms (``conn-fields`` / ``ui-field-behaviour``: the Airflow 3 UI
builds the forms from this metadata) come from the vendor hook classes, through the registry in
:mod:`airflow_provider_esign.hooks.registry`; adding a vendor package adds its connection type here.
Operators, sensors and triggers are listed explicitly; a test checks the lists are complete.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_esign import __version__, config

PACKAGE = "airflow_provider_esign"
OPERATOR_MODULES = [
    f"{PACKAGE}.operators.send",
    f"{PACKAGE}.operators.download",
    f"{PACKAGE}.operators.manage",
    f"{PACKAGE}.operators.sync",
]
SENSOR_MODULES = [f"{PACKAGE}.sensors.status", f"{PACKAGE}.sensors.batch"]
TRIGGER_MODULES = [f"{PACKAGE}.triggers.status", f"{PACKAGE}.triggers.batch", f"{PACKAGE}.triggers.events"]


def connection_tuning(default_rate_limit: float) -> dict[str, dict[str, Any]]:
    """The tuning extras every connection accepts, their defaults in the descriptions."""
    from airflow_provider_esign.hooks import settings as d

    limit = f"{default_rate_limit:g} for this vendor" if default_rate_limit else "off for this vendor"
    return {
        "rate_limit_per_minute": {
            "label": "Rate limit (calls per minute)",
            "description": "Client-side budget shared by every task using this connection on one host, or "
            f"on every host with a Redis rate-limit store; 0 disables it (default {limit}).",
            "schema": {"type": ["integer", "null"], "minimum": 0},
        },
        "rate_limit_storage": {
            "label": "Rate-limit store",
            "description": "Where the budget is kept: 'local' (default: shared by the processes on one "
            "host) or a Redis URL such as redis://redis:6379/0 (shared by every host).",
            "schema": {"type": ["string", "null"]},
        },
        "max_attempts": {
            "label": "Attempts per API call",
            "description": "Transient failures (429, 502-504, connection errors) are retried with backoff "
            f"(default {d.DEFAULT_MAX_ATTEMPTS}).",
            "schema": {"type": ["integer", "null"], "minimum": 1, "maximum": 20},
        },
        "max_retry_seconds": {
            "label": "Retry time budget (seconds)",
            "description": f"Default {d.DEFAULT_MAX_RETRY_SECONDS:g}.",
            "schema": {"type": ["number", "null"], "minimum": 0},
        },
        "backoff_base": {
            "label": "First retry backoff (seconds)",
            "description": f"Doubles per attempt, with jitter (default {d.DEFAULT_BACKOFF_BASE:g}).",
            "schema": {"type": ["number", "null"], "minimum": 0},
        },
        "backoff_max": {
            "label": "Longest retry backoff (seconds)",
            "description": f"Also caps the vendor's Retry-After (default {d.DEFAULT_BACKOFF_MAX:g}).",
            "schema": {"type": ["number", "null"], "minimum": 0},
        },
        "create_settle_seconds": {
            "label": "Create settle time (seconds)",
            "description": "After an ambiguous create (timeout, reset, 502/504) that no lookup finds, wait "
            f"this long and look again before sending a second time (default {d.DEFAULT_CREATE_SETTLE_SECONDS:g}).",
            "schema": {"type": ["number", "null"], "minimum": 0},
        },
        "timeout": {
            "label": "Read timeout (seconds)",
            "description": f"Default {d.DEFAULT_READ_TIMEOUT:g}.",
            "schema": {"type": ["number", "null"], "minimum": 1},
        },
    }


def labelled_with_defaults(
    fields: dict[str, dict[str, Any]], defaults: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """The fields with their default in the label, "Attempts per API call (default 5)".

    The Airflow 3 connection form shows no placeholder in an extra field (``placeholders`` of the field
    behaviour reach only host, login, password, port and schema; 3.3.2's number inputs have none at all),
    and the description only as help text: the label is what the reader sees next to the empty field.
    """
    return {
        name: {**field, "label": f"{field['label']} (default {defaults[name]})"}
        if name in defaults
        else field
        for name, field in fields.items()
    }


def tuning_placeholders(default_rate_limit: float) -> dict[str, str]:
    """The tuning defaults as form placeholders."""
    from airflow_provider_esign.hooks import settings as d

    return {
        "rate_limit_per_minute": f"{default_rate_limit:g}",
        "rate_limit_storage": "local",
        "max_attempts": str(d.DEFAULT_MAX_ATTEMPTS),
        "max_retry_seconds": f"{d.DEFAULT_MAX_RETRY_SECONDS:g}",
        "backoff_base": f"{d.DEFAULT_BACKOFF_BASE:g}",
        "backoff_max": f"{d.DEFAULT_BACKOFF_MAX:g}",
        "create_settle_seconds": f"{d.DEFAULT_CREATE_SETTLE_SECONDS:g}",
        "timeout": f"{d.DEFAULT_READ_TIMEOUT:g}",
    }


def connection_type(hook: Any) -> dict[str, Any]:
    """The ``connection-types`` entry of one vendor hook class."""
    behaviour = dict(hook.ui_field_behaviour)
    behaviour["placeholders"] = {
        **tuning_placeholders(hook.default_rate_limit_per_minute),
        **behaviour.get("placeholders", {}),
    }
    return {
        "connection-type": hook.conn_type,
        "hook-class-name": hook.hook_class_path,
        "hook-name": hook.hook_name,
        "ui-field-behaviour": behaviour,
        "conn-fields": {
            **hook.conn_fields,
            **labelled_with_defaults(
                connection_tuning(hook.default_rate_limit_per_minute),
                tuning_placeholders(hook.default_rate_limit_per_minute),
            ),
        },
    }


def get_provider_info() -> dict[str, Any]:
    from airflow_provider_esign.hooks import registry

    hooks = registry.vendor_infos()
    return {
        "package-name": "airflow-provider-esign",
        "name": "E-Signature",
        "description": "Send documents for e-signature, wait for signing and store the signed PDFs, "
        "with Legalesign, WeSignature and eSignBase.",
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": hook.hook_name,
                "external-doc-url": hook.external_doc_url,
                "tags": ["service"],
            }
            for hook in hooks
        ],
        "connection-types": [connection_type(hook) for hook in hooks],
        "hooks": [
            {
                "integration-name": hook.hook_name,
                "python-modules": [
                    f"{PACKAGE}.hooks.{hook.conn_type}",
                    hook.hook_class_path.rpartition(".")[0],
                ],
            }
            for hook in hooks
        ],
        "operators": [{"integration-name": "E-Signature", "python-modules": OPERATOR_MODULES}],
        "sensors": [{"integration-name": "E-Signature", "python-modules": SENSOR_MODULES}],
        "triggers": [{"integration-name": "E-Signature", "python-modules": TRIGGER_MODULES}],
        "extra-links": [f"{PACKAGE}.links.ESignDocumentLink"],
        "config": config.CONFIG,
        # Airflow 3.2+ adds these to its CLI (`airflow esign ...`); older versions ignore the key.
        "cli": [f"{PACKAGE}.esignbase_auth.get_cli_commands"],
    }
