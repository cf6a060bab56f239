"""Helpers shared by the sandbox tests (a uniquely named module, so it never clashes with a conftest)."""

from __future__ import annotations

import base64
import http.server
import json
import threading
import time
from typing import Any

import requests

from esign_sandbox.server import Sandbox

LEGALESIGN_AUTH = {"Authorization": "ApiKey sandbox-api-user:sandbox-legalesign-secret-0001"}
GROUP_URI = "/api/v1/group/sandbox-team/"
WESIGNATURE_CREDS = {"user_id": "sandbox-user-1", "api_key": "sandbox-wesignature-api-key-0001"}
ESIGNBASE_CLIENT = ("sandbox-client", "sandbox-esignbase-client-secret-0001")

# Long delays so that real time passing during a test never matters; tests move the clock explicitly.
SEND_DELAY = 5.0
SIGN_DELAY = 30.0
PDF_DELAY = 5.0


def wait_for(predicate: Any, timeout: float = 10.0) -> bool:
    """Poll ``predicate`` until true: for real asynchronous HTTP deliveries (webhooks), not for time."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


class Legalesign:
    """Tiny client for the Legalesign emulation."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.base = sandbox.vendor_url("legalesign")

    def upload_template(self) -> str:
        pdf = base64.b64encode(b"%PDF-1.4\n1 0 obj << /Type /Page >> endobj\n%%EOF").decode()
        response = requests.post(
            self.base + "/templatepdf/",
            json={"group": GROUP_URI, "pdf_file": pdf, "title": "Template"},
            headers=LEGALESIGN_AUTH,
            timeout=10,
        )
        assert response.status_code == 201, response.text
        return "/api/v1/templatepdf/" + response.headers["Location"].rstrip("/").rsplit("/", 1)[-1] + "/"

    def body(self, template: str, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "group": GROUP_URI,
            "name": "Supplier agreement",
            "templatepdf": template,
            "signers": [
                {"firstname": "Joe", "lastname": "Biggins", "email": "joe.biggins@example.com"},
                {"firstname": "Betty", "lastname": "MacLean", "email": "betty.maclean@example.com"},
            ],
            "tag": "airflow:run_1",
        }
        body.update(overrides)
        return body

    def post(self, body: dict[str, Any]) -> requests.Response:
        return requests.post(self.base + "/document/", json=body, headers=LEGALESIGN_AUTH, timeout=10)

    def create(self, **overrides: Any) -> str:
        response = self.post(self.body(self.upload_template(), **overrides))
        assert response.status_code == 201, response.text
        return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("headers", LEGALESIGN_AUTH)
        return requests.get(self.base + path, timeout=30, **kwargs)


class WeSignature:
    """Tiny client for the WeSignature emulation."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.base = sandbox.vendor_url("wesignature")

    def call(self, endpoint: str, body: dict[str, Any]) -> requests.Response:
        return requests.post(f"{self.base}/{endpoint}", json=body, timeout=10)

    def send_body(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            **WESIGNATURE_CREDS,
            "sign_type": 3,
            "file_list": [{"file_url": "https://files.example.com/contracts/contract.pdf"}],
            "is_for_embedded_signing": 0,
            "signers": [
                {"name": "Jack", "email_address": "jack@demo-mail.com"},
                {"name": "Jill", "email_address": "jill@demo-mail.com"},
            ],
            "mail_data": {"mail_subject": "Please sign", "mail_message": "Kindly sign."},
        }
        body.update(overrides)
        return body

    def send(self, **overrides: Any) -> dict[str, Any]:
        response = self.call("senddocumentapi", self.send_body(**overrides))
        assert response.status_code == 200, response.text
        return response.json()["data"]

    def status(self, guid: str) -> dict[str, Any]:
        response = self.call("documentstatusapi", {**WESIGNATURE_CREDS, "guid": guid})
        assert response.status_code == 200, response.text
        return response.json()


class ESignBase:
    """Tiny client for the eSignBase emulation."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.base = sandbox.vendor_url("esignbase")

    def token_response(self, scope: str = "all sandbox", auth: Any = ESIGNBASE_CLIENT) -> requests.Response:
        return requests.post(
            self.base + "/oauth2/token",
            data={"grant_type": "client_credentials", "scope": scope},
            auth=auth,
            timeout=10,
        )

    def token(self, scope: str = "all sandbox") -> str:
        response = self.token_response(scope)
        assert response.status_code == 200, response.text
        return response.json()["access_token"]

    def headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    def create_body(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": "Employment contract",
            "template_id": "tpl-employment",
            "recipients": [
                {"email": "emp@example.com", "first_name": "Erin", "last_name": "Employee", "role_name": "employee",
                 "locale": "en"},
                {"email": "boss@example.com", "first_name": "Bob", "last_name": "Boss", "role_name": "employer",
                 "locale": "de"},
            ],
            "user_defined_metadata": {"run_id": "manual__1"},
        }  # fmt: skip
        body.update(overrides)
        return body

    def create(self, token: str, **overrides: Any) -> requests.Response:
        return requests.post(
            self.base + "/api/document",
            json=self.create_body(**overrides),
            headers=self.headers(token),
            timeout=10,
        )

    def get(self, token: str, path: str, **kwargs: Any) -> requests.Response:
        headers = {**self.headers(token), **kwargs.pop("headers", {})}
        return requests.get(self.base + path, headers=headers, timeout=60, **kwargs)


class Receiver:
    """A loopback HTTP server recording webhook calls; fails the first ``fail_first`` with 500."""

    def __init__(self, fail_first: int = 0) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_first = fail_first
        self.event = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                receiver.calls.append({"headers": dict(self.headers), "body": json.loads(body)})
                failing = len(receiver.calls) <= receiver.fail_first
                self.send_response(500 if failing else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if not failing:
                    receiver.event.set()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
