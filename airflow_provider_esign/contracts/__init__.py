"""The "Contracts" page: every document this Airflow sent, its live state, reminders and cancels.

Mounted in the API server by the provider's plugin (:mod:`airflow_provider_esign.plugins`) at
:data:`URL_PREFIX` and listed under Browse → Contracts. Modules: ``records`` (what was sent, from
Airflow's XCom table), ``status`` (the vendors' current state, one cached batch read per connection),
``auth`` (Airflow login and permissions), ``view`` (the page's JSON), ``actions`` (remind, cancel,
audit log), ``app`` (the routes) and ``static/`` (the page itself: HTML, JS, CSS, no build step).

Importing this package is cheap: the send operator imports :data:`CONTRACT_XCOM_KEY` from here.
"""

from __future__ import annotations

#: XCom key of the record each ``SendDocumentOperator`` task pushes for the page.
CONTRACT_XCOM_KEY = "esign_contract"
#: Where the plugin mounts the page's app (beside the webhook receiver's ``/esign``).
URL_PREFIX = "/esign-contracts"
