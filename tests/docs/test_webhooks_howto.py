"""docs/howto/webhooks.md as written: its curl block against a real sandbox and a real receiver, its
payloads through the vendors' parsers, its Python fragment parsed."""

from __future__ import annotations

import ast
import json
import os
import pathlib
import re
import socket
import subprocess
import textwrap
import threading
import time

import pytest

from airflow_provider_esign.hooks.legalesign.webhooks import webhook_document_id
from airflow_provider_esign.hooks.webhook import document_id_from
from tests.unit import test_webhooks as shared

HOWTO = pathlib.Path(__file__).parents[2] / "docs" / "howto" / "webhooks.md"
# The metadata DB with the completed-documents asset registered, as the receiver's tests set it up.
airflow_db = shared.airflow_db
asset = shared.asset


def blocks(language: str) -> list[str]:
    return re.findall(rf"^ *```{language}\n(.*?)^ *```", HOWTO.read_text(), flags=re.S | re.M)


@pytest.fixture
def receiver_url():
    """The webhook app the plugin mounts, served by uvicorn on a free loopback port (stopped after)."""
    import uvicorn

    from airflow_provider_esign.webhooks import create_app

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(), log_config=None, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the receiver did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_the_curl_block_records_a_completion_then_a_duplicate(esign_connections, asset, receiver_url):
    sandbox = esign_connections
    (script,) = blocks("bash")
    script = script.replace("http://127.0.0.1:8765", sandbox.url).replace(
        "http://localhost:8080/esign", receiver_url
    )
    sandbox.clear_requests()

    def run(code, **env):
        done = subprocess.run(
            ["bash", "-c", code],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
            env={**os.environ, **env},
        )
        return json.loads(done.stdout)

    first = run(script)
    assert first["status"] == "recorded"
    (document,) = sandbox.documents("legalesign")
    assert first["document_id"] == document["id"]
    delivery = script[script.index('curl -s -X POST "') :]  # "the last curl again", as the comment says
    assert run(delivery, DOC=document["id"])["status"] == "duplicate"
    assert [e["payload"]["document_id"] for e in shared.events(asset)] == [document["id"]]

    forged = script.replace("?token=sandbox-legalesign-webhook-token-0001", "?token=guess")
    sandbox.clear_requests()
    assert run(forged) == {"detail": "Webhook could not be verified"}
    assert sandbox.requests(vendor="legalesign") == []  # as the text says: no call at the vendor


def test_the_payload_examples_name_their_documents():
    esignbase, legalesign = (json.loads(b) for b in blocks("json"))
    assert document_id_from(esignbase["document_id"]) == "6650f0c2a1b2c3d4e5f60718"
    assert webhook_document_id(legalesign) == "d0d0d0d0-1111-2222-3333-444455556666"


def test_the_python_fragment_parses_and_uses_the_hook_api():
    from airflow_provider_esign.hooks.legalesign import LegalesignHook

    (fragment,) = blocks("python")
    ast.parse(textwrap.dedent(fragment))
    assert "subscribe_webhook(" in fragment and hasattr(LegalesignHook, "subscribe_webhook")
