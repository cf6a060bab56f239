"""The one redirect policy of the request pipeline, for every request (API calls, logins, downloads),
under both executors: credentials never leave the connection's origin, a body is never re-sent to
another origin, no downgrade to http, no hop to an internal address from a public connection.

Each vendor is a small in-memory web (requests-mock for the blocking executor, an httpx mock
transport for the async one) that records every request it receives.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import requests_mock as requests_mock_lib

from airflow_provider_esign.exceptions import ESignAuthError, ESignRedirectError
from airflow_provider_esign.hooks.api import ApiRequest, single_request
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.hooks.legalesign import LegalesignHook
from airflow_provider_esign.hooks.transport import new_async_client
from airflow_provider_esign.hooks.wesignature import WeSignatureHook

PDF = b"%PDF-1.7\n" + b"x" * 64 + b"\n%%EOF\n"
DOC_ID = "d0d0d0d0-1111-2222-3333-444455556666"
ESB = "https://esignbase.test"
WES = "https://wesignature.test/apihandler"
LEG = "https://legalesign.test/api/v1/"
EXECUTORS = ["sync", "async"]


@dataclass
class Seen:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Web:
    """Routes by URL without query: ``(status, headers, body)``; every request is recorded."""

    routes: dict[tuple[str, str], tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def route(
        self, method: str, url: str, status: int = 200, *, headers=None, json_body: Any = None, content=b""
    ):
        body = json.dumps(json_body).encode() if json_body is not None else content
        self.routes[(method, url)] = (status, dict(headers or {}), body)

    def answer(self, method: str, url: str, headers: dict[str, str], body: bytes) -> tuple[int, dict, bytes]:
        self.seen.append(Seen(method, url, {k.lower(): v for k, v in headers.items()}, body or b""))
        key = url.split("?", 1)[0]
        return self.routes.get((method, key), (404, {}, b'{"message": "no route"}'))

    def at(self, host: str) -> list[Seen]:
        """The requests one host received."""
        return [s for s in self.seen if urlsplit(s.url).netloc == urlsplit(host).netloc]

    def install(self, executor: str, requests_mock, monkeypatch) -> None:
        if executor == "sync":

            def content(request, context):
                body = request.body or b""
                status, headers, answer = self.answer(
                    request.method,
                    request.url,
                    dict(request.headers),
                    body.encode() if isinstance(body, str) else body,
                )
                context.status_code = status
                context.headers.update(headers)
                return answer

            requests_mock.register_uri(requests_mock_lib.ANY, requests_mock_lib.ANY, content=content)
        else:

            def handler(request: httpx.Request) -> httpx.Response:
                status, headers, answer = self.answer(
                    request.method, str(request.url), dict(request.headers), request.read()
                )
                return httpx.Response(status, headers=headers, content=answer)

            client = new_async_client(transport=httpx.MockTransport(handler))
            monkeypatch.setattr("airflow_provider_esign.hooks.transport._async_client", lambda: client)


def run(executor: str, hook, make_flow):
    """Drive one flow with the blocking or the async executor."""
    if executor == "sync":
        return hook.run_flow(make_flow())
    return asyncio.run(hook.arun_flow(make_flow()))


@pytest.fixture(autouse=True)
def _reserved_names_do_not_resolve(monkeypatch):
    """``.test`` names (RFC 2606) never resolve: answered at once, as a resolver finally would, instead
    of a DNS query that waits out its timeout on a machine without a resolver. A test's own fake wraps
    this one."""
    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if isinstance(host, str) and host.endswith(".test"):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)


@pytest.fixture
def web(requests_mock, monkeypatch, request):
    return Web()


# --------------------------------------------------------------------------------------- eSignBase
@pytest.fixture
def esignbase(make_connection, clock):
    make_connection("esb_redirect", "esignbase", host=ESB, login="client-id", password="client-secret")
    return ESignBaseHook("esb_redirect", sleep=clock.sleep, clock=clock, max_attempts=1)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_esignbase_token_post_307_to_another_origin_is_refused(
    esignbase, web, executor, requests_mock, monkeypatch
):
    """The token POST carries ``Authorization: Basic <client id:secret>`` and a form body: a 307 to
    another origin would re-send both there, so the hop is refused and the other host hears nothing."""
    web.route("POST", f"{ESB}/oauth2/token", 307, headers={"Location": "https://attacker.test/oauth2/token"})
    web.route("POST", "https://attacker.test/oauth2/token", json_body={"access_token": "attacker-token"})
    web.install(executor, requests_mock, monkeypatch)

    with pytest.raises(ESignRedirectError, match="another origin") as err:
        run(executor, esignbase, lambda: esignbase.get_document_flow("doc-1"))

    assert web.at("https://attacker.test") == []
    assert "get_access_token" in str(err.value) and "client-secret" not in str(err.value)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_esignbase_token_post_307_on_the_same_origin_keeps_the_client_authentication(
    esignbase, web, executor, requests_mock, monkeypatch
):
    basic = "Basic " + base64.b64encode(b"client-id:client-secret").decode()
    web.route("POST", f"{ESB}/oauth2/token", 307, headers={"Location": "/oauth2/token/"})
    web.route("POST", f"{ESB}/oauth2/token/", json_body={"access_token": "token-1"})
    web.route("GET", f"{ESB}/api/document/doc-1", json_body={"id": "doc-1", "status": "SENT"})
    web.install(executor, requests_mock, monkeypatch)

    document = run(executor, esignbase, lambda: esignbase.get_document_flow("doc-1"))

    assert document.document_id == "doc-1"
    moved = [s for s in web.seen if s.url == f"{ESB}/oauth2/token/"]
    assert moved[0].headers["authorization"] == basic and b"grant_type=client_credentials" in moved[0].body


# -------------------------------------------------------------------------------------- WeSignature
@pytest.fixture
def wesignature(make_connection, clock):
    make_connection(
        "wes_redirect", "wesignature", host=WES, login="me@example.com", password="account-password"
    )
    return WeSignatureHook("wes_redirect", sleep=clock.sleep, clock=clock, max_attempts=1)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_wesignature_login_307_to_another_origin_never_re_posts_the_password(
    wesignature, web, executor, requests_mock, monkeypatch
):
    web.route("POST", f"{WES}/login_api", 307, headers={"Location": "https://attacker.test/login_api"})
    web.route(
        "POST",
        "https://attacker.test/login_api",
        json_body={"status": "authorized", "data": {"user": "1", "api_key": "k"}},
    )
    web.install(executor, requests_mock, monkeypatch)

    with pytest.raises(ESignRedirectError, match="another origin"):
        run(executor, wesignature, lambda: wesignature.get_document_flow("guid-1"))

    assert web.at("https://attacker.test") == []


@pytest.mark.parametrize("executor", EXECUTORS)
def test_wesignature_login_302_to_another_origin_arrives_without_body(
    wesignature, web, executor, requests_mock, monkeypatch
):
    web.route("POST", f"{WES}/login_api", 302, headers={"Location": "https://elsewhere.test/welcome"})
    web.route("GET", "https://elsewhere.test/welcome", json_body={"status": "authorized", "data": {}})
    web.install(executor, requests_mock, monkeypatch)

    with pytest.raises(ESignAuthError):
        run(executor, wesignature, lambda: wesignature.get_document_flow("guid-1"))

    (hop,) = web.at("https://elsewhere.test")
    assert hop.method == "GET" and hop.body == b""
    assert b"account-password" not in hop.body and "authorization" not in hop.headers


@pytest.mark.parametrize("executor", EXECUTORS)
def test_wesignature_307_on_the_same_origin_keeps_the_api_key_in_the_body(
    wesignature, web, executor, requests_mock, monkeypatch
):
    """WeSignature's credentials travel in the JSON body: a same-origin 307 must re-send them, or the
    moved endpoint answers "unauthorized"."""
    web.route(
        "POST",
        f"{WES}/login_api",
        json_body={"status": "authorized", "data": {"user": "7", "api_key": "key-7"}},
    )
    web.route("POST", f"{WES}/documentstatusapi", 307, headers={"Location": f"{WES}/v2/documentstatusapi"})
    web.route(
        "POST",
        f"{WES}/v2/documentstatusapi",
        json_body={"status": "success", "data": {"document_status": "1", "signer_data": []}},
    )
    web.install(executor, requests_mock, monkeypatch)

    document = run(executor, wesignature, lambda: wesignature.get_document_flow("guid-1"))

    assert document.document_id == "guid-1"
    moved = [s for s in web.seen if s.url == f"{WES}/v2/documentstatusapi"]
    assert json.loads(moved[0].body) == {"user_id": "7", "api_key": "key-7", "guid": "guid-1"}


# --------------------------------------------------------------------------------------- Legalesign
@pytest.fixture
def legalesign(make_connection, clock):
    make_connection("leg_redirect", "legalesign", host=LEG, login="user", password="secret", group="acme-dev")
    return LegalesignHook("leg_redirect", sleep=clock.sleep, clock=clock, max_attempts=1)


def pdf_flow(hook):
    request = ApiRequest(
        "GET",
        f"pdf/{DOC_ID}/",
        operation="download_document",
        headers={"Accept": "application/pdf"},
        redirect_credentials=False,
    )
    return lambda: single_request(request)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_legalesign_pdf_302_from_https_to_http_is_refused(
    legalesign, web, executor, requests_mock, monkeypatch
):
    web.route(
        "GET",
        f"{LEG}pdf/{DOC_ID}/",
        302,
        headers={"Location": "http://files.legalesign.test/final.pdf?sig=s3cr3t"},
    )
    web.route("GET", "http://files.legalesign.test/final.pdf", content=PDF)
    web.install(executor, requests_mock, monkeypatch)

    with pytest.raises(ESignRedirectError, match="plain http") as err:
        run(executor, legalesign, pdf_flow(legalesign))

    assert web.at("http://files.legalesign.test") == []
    assert "s3cr3t" not in str(err.value)  # a pre-signed link's query is never echoed


def test_legalesign_download_302_to_http_fails_the_download(legalesign, web, requests_mock, monkeypatch):
    """The same refusal through ``download_document`` (the blocking download pipeline)."""
    document = {"uuid": DOC_ID, "status": 30, "download_final": True, "signers": []}
    web.route("GET", f"{LEG}document/{DOC_ID}/", json_body=document)
    web.route(
        "GET", f"{LEG}pdf/{DOC_ID}/", 302, headers={"Location": "http://files.legalesign.test/final.pdf"}
    )
    web.route("GET", "http://files.legalesign.test/final.pdf", content=PDF)
    web.install("sync", requests_mock, monkeypatch)
    import io

    with pytest.raises(ESignRedirectError):
        legalesign.download_document(DOC_ID, io.BytesIO())
    assert web.at("http://files.legalesign.test") == []


INTERNAL_TARGETS = [
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.8/final.pdf",
    "https://192.168.1.20/final.pdf",
    "https://127.0.0.1:8443/final.pdf",
    "https://localhost/final.pdf",
    "https://[::1]/final.pdf",
    "https://[::ffff:127.0.0.1]/final.pdf",
    "https://[fe80::1]/final.pdf",
]


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize("target", INTERNAL_TARGETS)
def test_legalesign_pdf_302_to_an_internal_address_is_refused(
    legalesign, web, executor, target, requests_mock, monkeypatch
):
    web.route("GET", f"{LEG}pdf/{DOC_ID}/", 302, headers={"Location": target})
    web.route("GET", target.split("?", 1)[0], content=PDF)
    web.install(executor, requests_mock, monkeypatch)

    with pytest.raises(ESignRedirectError, match="loopback, private or link-local"):
        run(executor, legalesign, pdf_flow(legalesign))

    assert len(web.seen) == 1  # only the vendor's /pdf/


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_host_name_resolving_to_an_internal_address_is_refused(
    legalesign, web, executor, requests_mock, monkeypatch
):
    real = socket.getaddrinfo

    def fake(host, *args, **kwargs):
        if host == "metadata.rebind.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("169.254.169.254", 0))]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", fake)
    web.route("GET", f"{LEG}pdf/{DOC_ID}/", 302, headers={"Location": "https://metadata.rebind.test/x"})
    web.install(executor, requests_mock, monkeypatch)

    with pytest.raises(ESignRedirectError, match="loopback, private or link-local"):
        run(executor, legalesign, pdf_flow(legalesign))
    assert len(web.seen) == 1


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_connection_on_loopback_may_follow_to_loopback_but_drops_credentials_across_origins(
    make_connection, clock, web, executor, requests_mock, monkeypatch
):
    """As with the sandbox on 127.0.0.1: its own storage links are on loopback too. Another port is
    another origin, so the API key stays behind."""
    base = "http://127.0.0.1:9911/api/v1/"
    make_connection("leg_local", "legalesign", host=base, login="user", password="secret", group="acme-dev")
    hook = LegalesignHook("leg_local", sleep=clock.sleep, clock=clock, max_attempts=1)
    request = ApiRequest("GET", f"document/{DOC_ID}/auditlog/", operation="download_audit_log")
    web.route(
        "GET", f"{base}document/{DOC_ID}/auditlog/", 302, headers={"Location": "http://127.0.0.1:9912/a.pdf"}
    )
    web.route("GET", "http://127.0.0.1:9912/a.pdf", content=PDF)
    web.install(executor, requests_mock, monkeypatch)

    response = run(executor, hook, lambda: single_request(request))

    assert response.content == PDF
    (hop,) = web.at("http://127.0.0.1:9912")
    assert "authorization" not in hop.headers


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_cross_origin_hop_carries_no_credential_header_and_no_cookie(
    legalesign, web, executor, requests_mock, monkeypatch
):
    """A cookie the vendor set is never stored, so it cannot follow a redirect to another port of the
    same host (cookies are not scoped by port), and the API key stays on its origin."""
    document = {"uuid": DOC_ID, "status": 10, "signers": []}
    web.route(
        "GET",
        f"{LEG}document/{DOC_ID}/",
        json_body=document,
        headers={"Set-Cookie": "session=vendor-cookie; Path=/"},
    )
    web.route(
        "GET", f"{LEG}pdf/{DOC_ID}/", 302, headers={"Location": "https://legalesign.test:8443/final.pdf"}
    )
    web.route("GET", "https://legalesign.test:8443/final.pdf", content=PDF)
    web.install(executor, requests_mock, monkeypatch)

    run(executor, legalesign, lambda: legalesign.get_document_flow(DOC_ID))
    run(executor, legalesign, pdf_flow(legalesign))

    (hop,) = web.at("https://legalesign.test:8443")
    assert "cookie" not in hop.headers and "authorization" not in hop.headers
    assert all("cookie" not in s.headers for s in web.seen)


@pytest.mark.parametrize("executor", EXECUTORS)
def test_a_chain_that_left_the_origin_never_gets_the_credentials_back(
    legalesign, web, executor, requests_mock, monkeypatch
):
    request = ApiRequest("GET", f"document/{DOC_ID}/", operation="get_document")
    web.route("GET", f"{LEG}document/{DOC_ID}/", 302, headers={"Location": "https://bounce.test/x"})
    web.route("GET", "https://bounce.test/x", 302, headers={"Location": f"{LEG}group/"})
    web.route("GET", f"{LEG}group/", json_body={"objects": []})
    web.install(executor, requests_mock, monkeypatch)

    run(executor, legalesign, lambda: single_request(request))

    back = [s for s in web.seen if s.url.startswith(f"{LEG}group/")]
    assert back and "authorization" not in back[0].headers


@pytest.mark.parametrize("executor", EXECUTORS)
@pytest.mark.parametrize(
    ("link", "rule"),
    [
        ("https://169.254.169.254/latest/meta-data/", "loopback, private or link-local"),
        ("http://files.wesignature.test/doc.pdf", "plain http"),
        ("file:///etc/passwd", "file: URL"),
    ],
)
def test_a_vendor_given_link_obeys_the_same_rules_as_a_redirect(
    legalesign, web, executor, link, rule, requests_mock, monkeypatch
):
    """A download link from a vendor's answer is a first request to another origin: no internal
    address, no downgrade from the connection's https, before anything is sent."""
    request = ApiRequest("GET", link, operation="download_document", auth=False)
    web.install(executor, requests_mock, monkeypatch)

    with pytest.raises(ESignRedirectError, match=rule):
        run(executor, legalesign, lambda: single_request(request))
    assert web.seen == []
