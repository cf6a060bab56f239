"""The provider's Airflow plugin: the e-signature webhook receiver, mounted in the API server.

Registered through the ``airflow.plugins`` entry point (``pyproject.toml``), which Airflow 3.1+ always
loads. The provider-info ``plugins`` key is deliberately not used as well: Airflow loads that one only
with ``[core] lazy_discover_providers = False``, and a plugin registered twice is reported as an import
error ("already registered").

Webhook URL per connection: ``<API server base URL>/esign/webhooks/<conn_id>`` (see
:mod:`airflow_provider_esign.webhooks`).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from airflow_provider_esign.webhooks import URL_PREFIX, create_app, install_access_log_redaction

# Legalesign's webhook secret travels in the URL's query: keep it out of the API server's access log.
install_access_log_redaction()


class ESignWebhooksPlugin(AirflowPlugin):
    """Mounts the webhook receiver at ``/esign`` in the Airflow API server."""

    name = "esign_webhooks"
    fastapi_apps = [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "E-signature webhooks"}]
