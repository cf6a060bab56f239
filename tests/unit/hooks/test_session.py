"""A hook's ``requests`` session and the requests prepared for it (``hooks/session.py``): what
``Session.request`` would have taken from the environment still applies (proxies, CA bundle), read once
per origin; ``~/.netrc`` never replaces the connection's credentials; a request's headers win over the
session's. Requests go to a real server on loopback that records what it received."""

from __future__ import annotations

import http.server
import threading

import pytest
import requests

from airflow_provider_esign.hooks.api import ApiRequest, ApiResponse
from airflow_provider_esign.hooks.session import USER_AGENT, environment, new_session
from airflow_provider_esign.hooks.transport import SyncExecutor
from tests.unit.hooks.test_transport import FakeHook, one_send, streamed

TIMEOUT = (5.0, 5.0)


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, dict[str, str]]]

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.server.bodies.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))  # type: ignore[attr-defined]
        self._answer()

    def _answer(self) -> None:
        self.server.seen.append((self.requestline, dict(self.headers)))  # type: ignore[attr-defined]
        if self.path.startswith("/moved"):
            self.send_response(302)
            self.send_header("Location", "/api/documents")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = b'{"ok": true}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recorder():
    """A loopback HTTP server; ``.seen`` holds (request line, headers) of each request it got."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.seen = []  # type: ignore[attr-defined]
    server.bodies = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def clean_environment(monkeypatch, tmp_path):
    """No proxy, CA bundle or netrc from the machine running the tests."""
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
    ):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("NETRC", raising=False)
    return tmp_path


def _send(session: requests.Session, request: ApiRequest, url: str) -> ApiResponse:
    """``request`` sent by the sync executor on ``session``."""
    host = FakeHook(timeout=TIMEOUT)
    host.session = session
    return SyncExecutor(host).run(one_send(request, url))


def _url(server: http.server.ThreadingHTTPServer, path: str = "/api/documents") -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_a_prepared_request_carries_method_query_body_and_headers(recorder, clean_environment):
    session = new_session()
    request = ApiRequest(
        "POST",
        "documents",
        operation="send_document",
        params={"limit": 5},
        json={"name": "Contract"},
        headers={"Accept": "application/json", "User-Agent": "mine/1.0"},
    )
    response = _send(session, request, _url(recorder))
    assert response.status_code == 200 and response.json() == {"ok": True}
    line, headers = recorder.seen[-1]
    assert line == "POST /api/documents?limit=5 HTTP/1.1"
    assert headers["Content-Type"] == "application/json"
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"] == "mine/1.0"  # the request's own header wins over the session's
    # Without one of its own, the request gets the session's.
    _send(session, ApiRequest("GET", "documents", operation="list"), _url(recorder))
    assert recorder.seen[-1][1]["User-Agent"] == USER_AGENT


def test_a_netrc_entry_never_replaces_the_connections_credentials(recorder, clean_environment):
    (clean_environment / ".netrc").write_text("machine 127.0.0.1 login intruder password stolen\n")
    (clean_environment / ".netrc").chmod(0o600)
    # What requests' own call would do: the netrc entry becomes a Basic Authorization header.
    plain = requests.Session()
    plain.get(_url(recorder), headers={"Authorization": "ApiKey user:secret"}, timeout=TIMEOUT)
    assert recorder.seen[-1][1]["Authorization"].startswith("Basic ")

    session = new_session()
    request = ApiRequest(
        "GET", "documents", operation="list", headers={"Authorization": "ApiKey user:secret"}
    )
    _send(session, request, _url(recorder))
    assert recorder.seen[-1][1]["Authorization"] == "ApiKey user:secret"
    _send(session, ApiRequest("GET", "documents", operation="list"), _url(recorder))
    assert "Authorization" not in recorder.seen[-1][1]


def test_an_environment_proxy_is_used(recorder, clean_environment, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{recorder.server_address[1]}")
    session = new_session()
    # vendor.test does not resolve: only the proxy can have answered, and it got the absolute URL.
    _send(session, ApiRequest("GET", "documents", operation="list"), "http://vendor.test/api/documents")
    assert recorder.seen[-1][0] == "GET http://vendor.test/api/documents HTTP/1.1"


def test_no_proxy_is_honoured(recorder, clean_environment, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    response = _send(new_session(), ApiRequest("GET", "documents", operation="list"), _url(recorder))
    assert response.status_code == 200
    assert recorder.seen[-1][0] == "GET /api/documents HTTP/1.1"


def test_the_environment_ca_bundle_is_what_tls_verifies_against(clean_environment, monkeypatch, tmp_path):
    bundle = tmp_path / "corporate-ca.pem"
    bundle.write_text("")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    settings = environment(new_session(), "https://api.vendor.test/v1/documents")
    assert settings["verify"] == str(bundle)
    assert "stream" not in settings  # each request says whether it streams


def test_the_environment_is_read_once_per_session_and_origin(clean_environment, monkeypatch):
    session = new_session()
    reads: list[str] = []
    real = session.merge_environment_settings

    def counting(url, *args):
        reads.append(url)
        return real(url, *args)

    monkeypatch.setattr(session, "merge_environment_settings", counting)
    first = environment(session, "https://api.vendor.test/v1/documents?page=1")
    assert environment(session, "https://api.vendor.test/v1/documents/42") is first
    environment(session, "https://files.vendor.test/pdf/42")
    environment(session, "https://api.vendor.test:8443/v1/documents")
    assert reads == [
        "https://api.vendor.test/v1/documents?page=1",
        "https://files.vendor.test/pdf/42",
        "https://api.vendor.test:8443/v1/documents",
    ]
    # Another session reads the environment of its own time.
    other = new_session()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/other-ca.pem")
    assert environment(other, "https://api.vendor.test/v1/documents")["verify"] == "/etc/other-ca.pem"


def test_a_form_body_and_headers_set_to_none(recorder, clean_environment):
    session = new_session()
    request = ApiRequest(
        "POST",
        "documents",
        operation="login",
        data={"email": "ada@example.com", "password": "p&ss word"},
        headers={"Accept-Encoding": None},  # type: ignore[dict-item]  # a header a request removes
    )
    _send(session, request, _url(recorder))
    _, headers = recorder.seen[-1]
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert recorder.bodies[-1] == b"email=ada%40example.com&password=p%26ss+word"
    # The session's "gzip, deflate" is removed; http.client then says "identity" by itself.
    assert headers["Accept-Encoding"] == "identity"


def test_a_redirect_is_returned_not_followed(recorder, clean_environment):
    response = _send(new_session(), ApiRequest("GET", "moved", operation="get"), _url(recorder, "/moved"))
    assert response.status_code == 302
    assert response.header("Location") == "/api/documents"  # the pipeline decides where it goes
    assert [line for line, _ in recorder.seen] == ["GET /moved HTTP/1.1"]


def test_a_streamed_body_is_read_in_chunks(recorder, clean_environment):
    log: list = []
    SyncExecutor(FakeHook(timeout=TIMEOUT)).run(streamed(_url(recorder), 4, log))
    chunks = log[:-1]
    assert log[-1] == "closed"
    assert b"".join(chunks) == b'{"ok": true}' and max(map(len, chunks)) == 4


def test_the_sessions_own_query_auth_and_response_hooks_apply(recorder, clean_environment):
    """A hook subclass's ``get_conn`` may configure its session: that still applies."""
    session = new_session()
    session.params = {"tenant": "north"}
    session.auth = ("svc", "secret")
    answered: list[int] = []
    session.hooks["response"].append(lambda response, **kwargs: answered.append(response.status_code))
    _send(session, ApiRequest("GET", "documents", operation="list", params={"limit": 5}), _url(recorder))
    line, headers = recorder.seen[-1]
    assert line == "GET /api/documents?tenant=north&limit=5 HTTP/1.1"
    assert headers["Authorization"].startswith("Basic ")
    assert answered == [200]


def test_changed_session_settings_are_read_again(clean_environment):
    session = new_session()
    url = "https://api.vendor.test/v1/documents"
    assert environment(session, url)["verify"] is True
    session.verify = "/etc/pinned-ca.pem"
    assert environment(session, url)["verify"] == "/etc/pinned-ca.pem"
    session.proxies = {"https": "http://proxy.internal:3128"}
    assert environment(session, url)["proxies"]["https"] == "http://proxy.internal:3128"
