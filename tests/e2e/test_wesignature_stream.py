"""WeSignature against the sandbox with a real account's history: the sent-documents list (the whole
account in one answer) is parsed while it streams in, and a send stays exactly-once."""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_esign.hooks.wesignature import BASELINE_KEY, WeSignatureHook
from airflow_provider_esign.models import SendRequest, Signer

pytestmark = pytest.mark.e2e

HISTORY = 3000
FILE = "https://files.example.com/stream/contract-stream.pdf"
FAST = {"backoff_base": 0.01, "backoff_max": 0.05, "create_settle_seconds": 0.2}


@pytest.fixture
def account(esign_connections):
    esign_connections.seed_history(HISTORY, vendors=["wesignature"])
    return esign_connections


def request() -> SendRequest:
    return SendRequest(name="Streamed", signers=(Signer("Ada Lovelace", "ada@example.com"),), file=FILE)


def live(sandbox) -> list[str]:
    return [d["id"] for d in sandbox.documents("wesignature") if not d["deleted"]]


def test_an_ambiguous_send_in_a_large_account_leaves_one_new_document(account):
    hook = WeSignatureHook("wesignature_default", **FAST)
    earlier = hook.send_document(request()).document_id  # an older identical send: in the baseline
    before = set(live(account))
    account.queue_fault(
        "drop_after_commit", vendor="wesignature", path_contains="senddocumentapi", method="POST"
    )
    since = account.requests(vendor="wesignature")[-1]["seq"]
    checkpoint: dict = {}

    adopted = hook.send_document(request(), idempotency_key="af-stream-1", checkpoint=checkpoint)

    new = set(live(account)) - before
    assert new == {adopted.document_id}  # committed once, its lost answer recovered from the list
    assert adopted.document_id != earlier
    assert checkpoint[BASELINE_KEY] == [earlier]  # the baseline kept only the matching document
    calls = [r["path"].rsplit("/", 1)[-1] for r in account.requests(vendor="wesignature", since_seq=since)]
    # baseline list, the create (answer dropped), the lookup list: no second create
    assert calls == ["getsentdocumentsapi", "senddocumentapi", "getsentdocumentsapi"]


def test_sync_and_async_lists_return_the_whole_account(account):
    hook = WeSignatureHook("wesignature_default")
    synced = [d.document_id for d in hook.list_documents()]

    async def listed() -> list[str]:
        return [d.document_id async for d in WeSignatureHook("wesignature_default").alist_documents()]

    assert len(synced) == HISTORY
    assert asyncio.run(listed()) == synced
    assert set(synced) == set(live(account))
