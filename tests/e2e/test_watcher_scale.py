"""The completion watcher's first polls on an account with 10,000 old documents (HTTP, request journal).

A new watcher has no reason to read old completions: its baseline asks the vendor for its time now (the
Date header of one cheap call) and starts from there. Every figure is counted from the sandbox's request
journal, so it is what the vendor would see.
"""

from __future__ import annotations

import asyncio

import pytest

from airflow_provider_esign.triggers.events import DocumentCompletedEventTrigger

HISTORY = 10_000
SIGNER = [{"name": "Ada Lovelace", "email": "ada@example.com"}]


def _calls_since(sandbox, vendor: str, since: int) -> list[dict]:
    return sandbox.requests(vendor=vendor, since_seq=since)


def _last_seq(sandbox) -> int:
    entries = sandbox.requests(limit=1)
    return entries[-1]["seq"] if entries else 0


@pytest.mark.parametrize("order", ["oldest_first", "newest_first"])
@pytest.mark.parametrize("vendor", ["esignbase", "legalesign"])
def test_a_new_watcher_reads_no_history_and_still_announces_new_completions(sandbox, vendor, order):
    sandbox.configure(sign_delay=None, send_delay=0, pdf_delay=0, list_order=order)
    sandbox.seed_history(HISTORY, vendors=[vendor])
    # Open before the watcher starts (sent 10 days ago), completed after: must be announced.
    waiting = sandbox.create_document(vendor, signers=SIGNER, status="sent")["id"]
    done_before = sandbox.create_document(vendor, signers=SIGNER, status="sent")["id"]
    sandbox.sign(vendor, done_before)
    sandbox.advance_clock(10 * 86400)

    async def scenario():
        from airflow_provider_esign.hooks import aget_hook

        hook = await aget_hook(f"{vendor}_default")
        trigger = DocumentCompletedEventTrigger(conn_id=f"{vendor}_default")
        since = _last_seq(sandbox)
        cursor, announced = await trigger.poll(hook, None)
        first = _calls_since(sandbox, vendor, since)
        assert announced == []
        # One call for the vendor's time (plus eSignBase's token): not 91 or 101 list pages.
        assert len(first) <= 2, [(c["path"], c["query"]) for c in first]

        sandbox.advance_clock(60)
        sandbox.sign(vendor, waiting)
        fresh = sandbox.create_document(vendor, signers=SIGNER, status="sent")["id"]
        sandbox.sign(vendor, fresh)
        since = _last_seq(sandbox)
        cursor, announced = await trigger.poll(hook, cursor)
        second = _calls_since(sandbox, vendor, since)
        assert sorted(p["document_id"] for p in announced) == sorted([waiting, fresh])
        # eSignBase (no time filter) reads the newest 90 days (~500 documents here, 100 a page, from
        # the newest end); Legalesign lists what changed since the baseline and re-reads the two.
        assert len(second) <= 8, [(c["path"], c["query"]) for c in second]

        since = _last_seq(sandbox)
        cursor, announced = await trigger.poll(hook, cursor)
        third = _calls_since(sandbox, vendor, since)
        assert announced == []  # each completion once; done_before never
        assert len(third) <= 3, [(c["path"], c["query"]) for c in third]

    asyncio.run(scenario())
