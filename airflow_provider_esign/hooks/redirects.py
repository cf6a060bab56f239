"""The one redirect policy of the request pipeline: which hops are followed, and with what.

Every request the hooks send (API calls, logins, downloads) follows redirects through
:func:`airflow_provider_esign.hooks.pipeline.http`, which asks this module about each hop:

* **same origin** (scheme, host and port of the connection's request): the request is sent again as
  it was, credentials included (a vendor moving ``/oauth2/token`` to ``/oauth2/token/`` still gets
  the client authentication), unless the request says its redirect target is a pre-signed link that
  must not see them (``ApiRequest.redirect_credentials``);
* **cross origin**: every credential header (``Authorization``, ``Proxy-Authorization``, ``Cookie``
  and API-key headers) and the body are dropped, so nothing the connection holds reaches the other
  host. A 307/308 demands the same method *and body* again: such a hop of a request with a body
  (eSignBase's token POST, every WeSignature call, whose credentials travel in the JSON body) is
  refused rather than sent without it. Once a chain has left the origin, it never gets the
  credentials back (a foreign host cannot bounce us to the vendor with our key);
* **never**: a scheme other than http/https, a downgrade from https to http, or a loopback,
  private, link-local or otherwise non-public address, unless the connection's own host is such an
  address (a local sandbox, a vendor behind an internal proxy). The same holds for a first request
  to another origin than the connection's (a link the vendor handed out, such as a download link).

Host names are resolved before the hop (the ``Resolve`` effect) and every address must pass. A name
that cannot be resolved is let through: the request then fails to connect. A name that resolves
differently between the check and the connect (DNS rebinding) is not covered by this check; an
egress proxy is the place for that.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from airflow_provider_esign.hooks.api import ApiRequest

#: Header names (lowercase) that carry credentials and never cross an origin.
CREDENTIAL_HEADERS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "apikey",
        "api-key",
        "x-api-key",
        "x-auth-token",
        "x-access-token",
        "x-signature-secret",
    }
)
#: Statuses that demand the same method and body at the new location (RFC 9110 15.4.8, 15.4.9).
BODY_KEEPING = frozenset({307, 308})


@dataclass(frozen=True)
class Origin:
    scheme: str
    host: str
    port: int | None

    @classmethod
    def of(cls, url: str) -> Origin:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        try:
            port = parts.port
        except ValueError:
            port = None
        default = {"http": 80, "https": 443}.get(scheme)
        return cls(scheme, (parts.hostname or "").lower(), port or default)


def where(url: str) -> str:
    """A URL reduced to scheme, host and port, for messages: a pre-signed link's query is a secret."""
    origin = Origin.of(url)
    return f"{origin.scheme}://{origin.host}" + (f":{origin.port}" if origin.port else "")


def scheme_refusal(current: str, target: str) -> str | None:
    """Why a hop from ``current`` to ``target`` is refused on its scheme alone, or None."""
    scheme = Origin.of(target).scheme
    if scheme not in ("http", "https"):
        return f"a {scheme or 'relative'}: URL is never followed"
    if scheme == "http" and Origin.of(current).scheme == "https":
        return f"https to {where(target)} (plain http) is never followed: no scheme downgrade"
    return None


def literal_is_internal(host: str) -> bool | None:
    """Whether a host is loopback/private/link-local by its spelling; None when DNS must tell."""
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    return address_is_internal(address)


#: The well-known NAT64 prefix (RFC 6052): its last 32 bits are an IPv4 address.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def address_is_internal(address: ipaddress.IPv4Address | ipaddress.IPv6Address | str) -> bool:
    """Anything not publicly routable: loopback, private, link-local, shared, reserved, multicast."""
    if isinstance(address, str):
        try:
            address = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return True  # not an address we understand: never trusted
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address carried inside IPv6 (mapped, 6to4, NAT64) is judged as that IPv4 address.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            address = embedded
    return not address.is_global or address.is_multicast


def followed_request(
    prepared: ApiRequest, original: ApiRequest, status: int, same_origin: bool
) -> ApiRequest | None:
    """The request for a redirect target, or None when the hop must be refused.

    :param prepared: The request as sent, with the vendor's credentials applied.
    :param original: The request as the flow built it, before credentials were applied.
    :param status: The redirect status.
    :param same_origin: Whether the target keeps the connection's origin (and the chain never left it).
    """
    if same_origin and original.redirect_credentials:
        base = prepared
    else:
        has_body = original.json is not None or original.data is not None
        if status in BODY_KEEPING and has_body and not same_origin:
            return None
        headers = {k: v for k, v in original.headers.items() if k.lower() not in CREDENTIAL_HEADERS}
        base = replace(original, headers=headers, auth=False)
        if not same_origin:
            base = replace(base, json=None, data=None)
    if status == 303 or (status in (301, 302) and base.method not in ("GET", "HEAD")):
        headers = {k: v for k, v in base.headers.items() if k.lower() != "content-type"}
        return replace(base, method="GET", params=None, json=None, data=None, headers=headers)
    # The Location carries its own query.
    return replace(base, params=None)
