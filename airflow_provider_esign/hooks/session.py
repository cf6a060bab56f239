"""The blocking HTTP client of a hook: its ``requests`` session, and a request prepared for it.

The sync executor prepares each request here and hands it to :meth:`requests.Session.send`, the
"prepared requests" way of the requests documentation
(https://requests.readthedocs.io/en/latest/user/advanced/#prepared-requests), rather than calling
:meth:`requests.Session.request`, which on every call merges the session's cookie jar, looks for
``~/.netrc`` credentials and reads the environment's proxy and CA-bundle settings. Here:

* the environment (``HTTPS_PROXY``/``NO_PROXY``, ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE``) is read once
  per session, origin and session settings (``proxies``, ``verify``, ``cert``), and applies as it does
  to any ``requests`` call;
* ``~/.netrc`` is never applied: a hook's credentials come from its Airflow connection only (a netrc
  entry for the vendor's host would otherwise replace the ``Authorization`` header the hook set);
* the session's own ``params``, ``auth``, ``hooks`` and cookies still apply (a subclass's
  ``get_conn`` may set them); the provider's sessions keep no cookie (:class:`NoCookies`).

Each task of a batch of mapped sends has its own session, so what ``Session.request`` does per call
is paid per task: this way a request to a local server takes about 0.25 ms less client time (measured
before and after, ``docs/performance-peers.md``).
"""

from __future__ import annotations

import http.cookiejar
import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from airflow_provider_esign import __version__

if TYPE_CHECKING:
    import requests

    from airflow_provider_esign.hooks.api import ApiRequest

USER_AGENT = f"airflow-provider-esign/{__version__}"

# Session -> (origin, the session's own proxies, verify, cert, trust_env) -> the send settings for it.
_ENVIRONMENT: weakref.WeakKeyDictionary[requests.Session, dict[tuple[Any, ...], dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


class NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Keep no cookie: the vendors authenticate by header or body, and a stored cookie would be sent
    on to any host that shares the domain (ports are not part of a cookie's scope)."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        return False


def new_session() -> requests.Session:
    """A pooled ``requests`` session without urllib3 retries (the pipeline retries) and without a
    cookie store."""
    import requests
    from requests.adapters import HTTPAdapter

    session = requests.Session()
    session.cookies.set_policy(NoCookies())
    session.headers["User-Agent"] = USER_AGENT
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=16, max_retries=0)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def prepare(session: requests.Session, request: ApiRequest, url: str) -> requests.PreparedRequest:
    """``request`` ready for :meth:`requests.Session.send` to ``url``: method, query, JSON or form body,
    merged with the session's headers and query (the request's own win), with the session's auth,
    response hooks and cookies, as :meth:`requests.Session.prepare_request` merges them (without its
    ``~/.netrc`` lookup)."""
    import requests
    from requests.sessions import merge_setting
    from requests.structures import CaseInsensitiveDict

    prepared = requests.PreparedRequest()
    prepared.prepare(
        method=request.method,
        url=url,
        headers=merge_setting(request.headers, session.headers, dict_class=CaseInsensitiveDict),
        params=merge_setting(request.params, session.params),
        json=request.json,
        data=request.data,
        auth=session.auth,
        cookies=session.cookies,
        hooks=session.hooks,
    )
    return prepared


def environment(session: requests.Session, url: str) -> dict[str, Any]:
    """The proxies, ``verify`` and ``cert`` a request to ``url`` gets from the session and the process
    environment (what :meth:`requests.Session.request` computes per call), read once per origin and
    session settings: a session whose ``proxies``, ``verify`` or ``cert`` change gets new ones."""
    parts = urlsplit(url)
    key = (
        f"{parts.scheme}://{parts.netloc}",
        tuple(sorted(session.proxies.items())),
        session.verify,
        session.cert,
        session.trust_env,
    )
    known = _ENVIRONMENT.setdefault(session, {})
    settings = known.get(key)
    if settings is None:
        settings = dict(session.merge_environment_settings(url, {}, None, None, None))
        settings.pop("stream", None)  # each request says whether it streams
        known[key] = settings
    return settings
