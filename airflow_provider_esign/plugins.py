"""The provider's Airflow plugin: the webhook receiver and the Contracts page, mounted in the API server.

Registered through the ``airflow.plugins`` entry point (``pyproject.toml``), which Airflow 3.1+ always
loads. The provider-info ``plugins`` key is deliberately not used as well: Airflow loads that one only
with ``[core] lazy_discover_providers = False``, and a plugin registered twice is reported as an import
error ("already registered").

- Webhook URL per connection: ``<API server base URL>/esign/webhooks/<conn_id>`` (see
  :mod:`airflow_provider_esign.webhooks`).
- Contracts page: Browse → Contracts, served at ``<API server base URL>/esign-contracts/`` (see
  :mod:`airflow_provider_esign.contracts`). Both apps build their state on first request, so importing
  the plugin stays cheap.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_esign.contracts import URL_PREFIX as CONTRACTS_PREFIX
from airflow_provider_esign.contracts.app import create_app as create_contracts_app
from airflow_provider_esign.webhooks import URL_PREFIX, create_app, install_access_log_redaction

# Legalesign's webhook secret travels in the URL's query: keep it out of the API server's access log.
install_access_log_redaction()


class ESignWebhooksPlugin(AirflowPlugin):
    """Mounts the webhook receiver at ``/esign`` and the Contracts page at ``/esign-contracts``."""

    name = "esign_webhooks"
    fastapi_apps = [
        {"app": create_app(), "url_prefix": URL_PREFIX, "name": "E-signature webhooks"},
        {"app": create_contracts_app(), "url_prefix": CONTRACTS_PREFIX, "name": "E-signature contracts"},
    ]
    external_views = [
        {
            "name": "Contracts",
            "href": f"{CONTRACTS_PREFIX}/",
            "url_route": "esign-contracts",
            "category": "browse",
            "destination": "nav",
        }
    ]
