"""``ESignHook`` (``hooks/base.py``): what it adds around the vendor's flows: the connection read
once, settings loaded before a flow runs, send validation once, the swappable rate limiter."""

from __future__ import annotations

import pytest

from airflow_provider_esign.exceptions import ESignValidationError
from airflow_provider_esign.hooks import get_hook
from airflow_provider_esign.hooks.api import no_call
from airflow_provider_esign.hooks.esignbase import ESignBaseHook
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SendRequest

SENT = DocumentInfo("d-1", "esignbase", "NDA", DocumentStatus.SENT, "sent")


@pytest.fixture
def conn(make_connection):
    return make_connection(
        "esb_base", "esignbase", host="https://esignbase.test", login="id", password="secret"
    )


def test_get_hook_reads_the_connection_once(conn, monkeypatch):
    from airflow.sdk import BaseHook

    reads: list[str] = []
    real = BaseHook.get_connection.__func__

    def counting(cls, conn_id):
        reads.append(conn_id)
        return real(cls, conn_id)

    monkeypatch.setattr(BaseHook, "get_connection", classmethod(counting))
    hook = get_hook(conn)
    assert hook.settings.base_url.startswith("https://esignbase.test")
    assert reads == [conn]  # the read that picked the hook class served the settings too


def test_a_flow_finds_the_settings_loaded_and_never_reads_the_connection(conn):
    hook = ESignBaseHook(conn)
    with pytest.raises(RuntimeError, match="inside the hook's pipeline"):
        hook.loaded_settings()  # outside run_flow: nothing loaded

    def flow():
        return (yield from no_call(hook.loaded_settings().base_url))

    assert hook.run_flow(flow()).startswith("https://esignbase.test")


def test_send_document_validates_once_and_not_again_when_the_caller_did(conn, monkeypatch):
    hook = ESignBaseHook(conn)
    checked: list[SendRequest] = []
    monkeypatch.setattr(hook, "validate_send_request", checked.append)
    monkeypatch.setattr(hook, "run_flow", lambda flow: SENT)
    request = SendRequest(
        name="NDA", signers=[{"name": "Ada Lovelace", "email": "ada@example.com"}], template_id="t"
    )

    assert hook.send_document(request) is SENT
    assert hook.send_document(request, validated=True) is SENT
    assert len(checked) == 1


def test_a_bad_idempotency_key_fails_before_any_call(conn, monkeypatch):
    hook = ESignBaseHook(conn)
    monkeypatch.setattr(hook, "run_flow", lambda flow: pytest.fail("no call may be made"))
    request = SendRequest(
        name="NDA", signers=[{"name": "Ada Lovelace", "email": "ada@example.com"}], template_id="t"
    )
    with pytest.raises(ESignValidationError, match="idempotency_key"):
        hook.send_document(request, idempotency_key="x" * 501)


def test_the_rate_limiter_can_be_swapped_for_one_hook(conn):
    hook = ESignBaseHook(conn)
    hook.settings  # noqa: B018
    shared = hook.rate_limiter
    replacement = object()
    hook.rate_limiter = replacement  # type: ignore[assignment]
    assert hook.rate_limiter is replacement and ESignBaseHook(conn).rate_limiter is not replacement
    assert shared is not replacement
