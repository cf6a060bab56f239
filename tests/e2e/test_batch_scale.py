"""Batch reads and lookups against a sandbox account with years of history (HTTP, request journal).

Every figure is counted from the sandbox's request journal, so it is what the vendor would see.
"""

from __future__ import annotations

import pytest

from airflow_provider_esign.hooks import get_hook
from airflow_provider_esign.models import DocumentStatus

HISTORY = 3_000
SIGNER = [{"name": "Ada Lovelace", "email": "ada@example.com"}]
CONN = {"esignbase": "esignbase_default", "legalesign": "legalesign_default"}


def calls(sandbox, vendor: str, since: int) -> list[dict]:
    return [r for r in sandbox.requests(vendor=vendor, since_seq=since) if "token" not in r["path"]]


def last_seq(sandbox) -> int:
    entries = sandbox.requests(limit=1)
    return entries[-1]["seq"] if entries else 0


@pytest.fixture
def account(sandbox):
    def make(vendor: str, order: str, tracked: int, **config):
        sandbox.configure(sign_delay=None, list_order=order, **config)
        sandbox.seed_history(HISTORY, vendors=[vendor])
        ids = [sandbox.create_document(vendor, signers=SIGNER, status="sent")["id"] for _ in range(tracked)]
        return ids

    return make


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
@pytest.mark.parametrize("vendor", ["esignbase", "legalesign"])
def test_a_batch_poll_costs_what_the_batch_spans(sandbox, account, vendor, order):
    ids = account(vendor, order, 150)
    hook = get_hook(CONN[vendor])
    hook.get_document(ids[0])  # log in outside the counted window
    since = last_seq(sandbox)
    found = hook.get_documents(ids)
    assert set(found) == set(ids)
    assert all(d.status is DocumentStatus.SENT for d in found.values())
    # 150 tracked span 2 pages of 100: at most the oldest page (order, total), 2 newest, one past.
    made = calls(sandbox, vendor, since)
    assert 1 <= len(made) <= 4, [(r["path"], r["query"]) for r in made]


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
def test_a_deleted_esignbase_document_ends_the_wait_as_voided(sandbox, account, order):
    ids = account("esignbase", order, 20)
    hook = get_hook("esignbase_default")
    hook.cancel_document(ids[3])  # eSignBase's DELETE: the document leaves the list
    since = last_seq(sandbox)
    found = hook.get_documents(ids)
    assert found[ids[3]].status is DocumentStatus.VOIDED
    assert {found[i].status for i in ids if i != ids[3]} == {DocumentStatus.SENT}
    reads = [r for r in calls(sandbox, "esignbase", since) if r["path"].endswith(ids[3])]
    assert len(reads) == 1  # the hidden id got its own read in the same poll


def test_voided_and_auto_archived_legalesign_documents_are_seen(sandbox, account):
    ids = account("legalesign", "oldest_first", 10, legalesign_auto_archive_delay=0)
    sandbox.void("legalesign", ids[1])
    sandbox.sign("legalesign", ids[2])
    sandbox.advance_clock(60)
    hook = get_hook("legalesign_default")
    found = hook.get_documents(ids)
    assert found[ids[1]].status is DocumentStatus.VOIDED
    assert found[ids[2]].status is DocumentStatus.COMPLETED
    assert {found[i].status for i in ids[3:]} == {DocumentStatus.SENT}


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
def test_a_retried_esignbase_send_finds_its_first_attempt_in_three_calls(sandbox, account, order):
    from datetime import datetime, timedelta, timezone

    from airflow_provider_esign.hooks.esignbase import IDEMPOTENCY_METADATA_KEY

    account("esignbase", order, 0)
    key = "af-retried-send-key"
    earlier = sandbox.create_document(
        "esignbase", signers=SIGNER, status="sent", metadata={IDEMPOTENCY_METADATA_KEY: key}
    )
    hook = get_hook("esignbase_default")
    hook.get_document(earlier["id"])
    since = last_seq(sandbox)
    bound = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat(timespec="seconds")
    found = hook.run_flow(hook.find_sent_flow(None, key, {"first_attempt_at": bound}))
    assert found is not None and found.document_id == earlier["id"]
    assert 1 <= len(calls(sandbox, "esignbase", since)) <= 3


def test_coalesced_waits_share_one_batch_read_over_http(sandbox, account):
    """50 deferred waits on one connection poll once: the sandbox sees one batch read, not 50 reads."""
    import asyncio
    import time

    from airflow_provider_esign.hooks import aget_hook
    from airflow_provider_esign.triggers.status import DocumentStatusTrigger

    ids = account("esignbase", "oldest_first", 50)

    async def one_tick():
        hook = await aget_hook("esignbase_default")
        await hook.aget_document(ids[0])  # log in before counting
        since = last_seq(sandbox)
        triggers = [
            DocumentStatusTrigger(
                conn_id="esignbase_default",
                document_id=i,
                poll_interval=60,
                end_time=time.time() + 60,
                coalesce=True,
            )
            for i in ids
        ]
        sandbox.sign("esignbase", ids[5])
        events = await asyncio.gather(*(t.poll(hook) for t in triggers))
        return since, events

    since, events = asyncio.run(one_tick())
    made = calls(sandbox, "esignbase", since)
    assert 1 <= len(made) <= 2 and all("/documents" in r["path"] for r in made), made
    assert sum(e is not None for e in events) <= 1  # only the signed one can have finished
