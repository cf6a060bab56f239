"""The contract ledger: what a first and an incremental sync cost at the vendor, the sync's memory,
and how fast rows go into SQLite and PostgreSQL against a bare ``executemany`` of the same rows.

Per vendor and account size (old final documents seeded over five years, plus 100 open ones):

* first sync: vendor calls (sandbox journal) against the list pages the account takes (the limit);
* incremental sync after the 100 open documents are signed: calls, target <= ceil(100 / page) + 2 on
  Legalesign and eSignBase (WeSignature has one streamed list and no change filter: one call);
* peak RSS growth of the first sync (kernel high-water mark, reset before each sync): flat across sizes.

Write rate: the same synthetic documents (two signers each) in pages of 100, committed per page, once
through the ledger's store (hash lookup, insert, cursor) and once as a bare ``executemany`` into
tables of the same shape; target >= 0.7x the bare rate, into SQLite and into a throw-away PostgreSQL.
"""

from __future__ import annotations

import math
import os
import time
from typing import Any

from benchmarks.common import (
    PAGE_SIZE,
    VENDORS,
    Result,
    SandboxProcess,
    Sizes,
    peak_rss_mb,
    reset_peak_rss,
    rss_mb,
)

CHANGES = 100
SEEN_AT = "2026-01-01T00:00:00+00:00"
SIGNER = [
    {"name": "Ada Lovelace", "email": "ada@example.com"},
    {"name": "Bob Byron", "email": "bob@example.com"},
]


def run(sandbox: SandboxProcess, sizes: Sizes, workdir: str) -> list[Result]:
    from benchmarks.common import set_connections

    results: list[Result] = []
    for vendor in VENDORS:
        memory: list[tuple[int, float]] = []
        for size in sizes.accounts:
            client = sandbox.fresh(sign_delay=None, send_delay=0, pdf_delay=0)
            set_connections(sandbox.url, rate_limit_per_minute=0)
            results += _account(client, vendor, size, workdir, memory)
        results.append(_memory_result(vendor, memory))
    rows = 1_000 if sizes.smoke else 20_000
    results.append(_write_rate("SQLite", _sqlite(workdir), rows))
    from tests.deployment.services import postgres_server

    with postgres_server() as server:
        results.append(_write_rate("PostgreSQL", _postgres(server.port), rows))
    return results


def _last_seq(client: Any) -> int:
    entries = client.requests(limit=1)
    return entries[-1]["seq"] if entries else 0


def _journal(client: Any, vendor: str, since: int) -> list[dict[str, Any]]:
    """The vendor calls since ``since`` (token requests left out), as path, query and status."""
    return [
        {"path": r["path"], "query": r["query"], "status": r["status"], "fault": r["fault"]}
        for r in client.requests(vendor=vendor, since_seq=since)
        if "token" not in r["path"]
    ]


def _calls(client: Any, vendor: str, since: int) -> int:
    return len(_journal(client, vendor, since))


def _account(
    client: Any, vendor: str, size: int, workdir: str, memory: list[tuple[int, float]]
) -> list[Result]:
    from airflow_provider_esign.hooks import get_hook
    from airflow_provider_esign.hooks.credentials import CREDENTIALS
    from airflow_provider_esign.ledger import engine
    from airflow_provider_esign.ledger.store import LedgerStore
    from airflow_provider_esign.operators.sync import embedded_hook

    client.seed_history(size, vendors=[vendor])
    open_ids = [client.create_document(vendor, signers=SIGNER, status="sent")["id"] for _ in range(CHANGES)]
    path = os.path.join(workdir, f"ledger-{vendor}-{size}.db")
    CREDENTIALS.clear()
    hook = get_hook(f"{vendor}_default")
    hook.test_connection()  # log in outside the counted window
    store = LedgerStore(embedded_hook(path))
    store.ensure_schema()
    since = _last_seq(client)
    base = rss_mb()
    reset_peak_rss()
    started = time.perf_counter()
    first = engine.sync(hook, store)
    seconds = time.perf_counter() - started
    memory.append((size, max(0.0, peak_rss_mb() - base)))
    first_calls = _calls(client, vendor, since)
    total = size + CHANGES
    page = PAGE_SIZE[vendor]
    pages = math.ceil(total / page) if page else 1
    if first.new_count != total:
        raise RuntimeError(f"{vendor}: the first sync stored {first.new_count} of {total} documents")
    for doc_id in open_ids:
        client.sign(vendor, doc_id)
    since = _last_seq(client)
    second = engine.sync(hook, store)
    journal = _journal(client, vendor, since)
    incremental = len(journal)
    store.close()
    if sorted(second.changed) != sorted(open_ids):
        raise RuntimeError(
            f"{vendor}: the incremental sync moved {len(second.changed)} rows, not the {CHANGES} changed"
        )
    allowed = math.ceil(CHANGES / page) + 2 if page else None
    return [
        Result(
            figure=f"Ledger first sync calls, {size:,} old docs: {vendor}",
            value=first_calls,
            unit="calls",
            baseline=pages,
            baseline_label="list pages of the account",
            target="<= list pages",
            passed=first_calls <= pages,
            note=f"{total:,} documents stored in {seconds:.1f}s ({total / seconds:,.0f} docs/s); walk {first.walks}",
        ),
        Result(
            figure=f"Ledger incremental sync calls after {CHANGES} changes, {size:,} old docs: {vendor}",
            value=incremental,
            unit="calls",
            baseline=pages,
            baseline_label="a full walk's list pages",
            target=f"<= {allowed}" if allowed else "",
            passed=(incremental <= allowed) if allowed else None,
            note=f"walks {second.walks}; {len(second.changed)} rows changed, the rest untouched",
            details={"calls": journal},
        ),
    ]


def _memory_result(vendor: str, memory: list[tuple[int, float]]) -> Result:
    (small, small_mb), (large, large_mb) = memory[0], memory[-1]
    return Result(
        figure=f"Ledger first-sync peak RSS growth, {large:,} old docs: {vendor}",
        value=round(large_mb, 1),
        unit="MB",
        baseline=round(small_mb, 1),
        baseline_label=f"the same at {small:,} old docs",
        target="flat: <= smallest + 20 MB",
        passed=large_mb <= small_mb + 20,
        note="peak RSS above the RSS before the sync, per size: "
        + ", ".join(f"{s:,}: {m:.1f} MB" for s, m in memory),
    )


# ------------------------------------------------------------------------------------- write rate
def _sqlite(workdir: str) -> Any:
    from airflow_provider_esign.operators.sync import embedded_hook

    return lambda name: embedded_hook(os.path.join(workdir, f"rate-{name}.db"))


def _postgres(port: int) -> Any:
    def make(name: str) -> Any:
        import psycopg2
        from airflow.providers.postgres.hooks.postgres import PostgresHook

        conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="airflow")
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        conn.close()
        os.environ["AIRFLOW_CONN_LEDGER_BENCH_PG"] = f"postgresql://postgres@127.0.0.1:{port}/airflow"
        return PostgresHook(postgres_conn_id="ledger_bench_pg")

    return make


def _pages(count: int) -> list[list[Any]]:
    from airflow_provider_esign.ledger.engine import _row
    from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SignerInfo, SignerStatus

    class Hook:
        def document_expires_at(self, doc: Any) -> None:
            return None

        def idempotency_key_of(self, doc: Any) -> str:
            return f"af-{doc.document_id}"

    hook = Hook()
    signers = [
        SignerInfo("ada@example.com", "Ada", SignerStatus.SIGNED, 1),
        SignerInfo("bob@example.com", "Bob"),
    ]
    docs = [
        _row(
            hook,
            DocumentInfo(
                f"doc-{i:07d}",
                "bench",
                f"Contract {i}",
                DocumentStatus.COMPLETED,
                30,
                signers,
                "2024-01-01T10:00:00Z",
                "2024-01-03T10:00:00Z",
                "2024-01-03T10:00:00Z",
                metadata={"team": "sales"},
            ),
            "bench",
        )
        for i in range(count)
    ]
    return [docs[i : i + 100] for i in range(0, count, 100)]


def _write_rate(database: str, make_hook: Any, count: int) -> Result:
    from airflow_provider_esign.ledger import schema
    from airflow_provider_esign.ledger.store import LedgerStore

    pages = _pages(count)
    rows = count * 3  # a document and its two signers
    best_ledger = best_bare = float("inf")
    for attempt in range(2):  # alternate, keep each side's best: both share the machine's noise
        store = LedgerStore(make_hook(f"ledger-{attempt}"))
        store.ensure_schema()
        started = time.perf_counter()
        for index, page in enumerate(pages):  # a first sync's pages: insert, cursor, commit
            store.write_page("bench", "bench", page, {"phase": "full", "cursor": index}, assume_new=True)
        best_ledger = min(best_ledger, time.perf_counter() - started)
        store.close()

        bare = LedgerStore(make_hook(f"bare-{attempt}"))
        bare.ensure_schema()
        conn, p = bare.conn, bare.dialect.placeholder
        doc_columns = [*pages[0][0].values, "first_seen_at", "last_seen_at", "row_hash"]
        signer_columns = list(pages[0][0].signers[0])
        doc_sql = f"INSERT INTO esign_documents ({', '.join(doc_columns)}) VALUES ({', '.join([p] * len(doc_columns))})"
        signer_sql = (
            f"INSERT INTO {schema.SIGNERS.name('esign_')} ({', '.join(signer_columns)}) "
            f"VALUES ({', '.join([p] * len(signer_columns))})"
        )
        started = time.perf_counter()
        for page in pages:
            cursor = conn.cursor()
            cursor.executemany(doc_sql, [(*r.values.values(), SEEN_AT, SEEN_AT, r.row_hash) for r in page])
            cursor.executemany(signer_sql, [tuple(s.values()) for r in page for s in r.signers])
            conn.commit()
            cursor.close()
        best_bare = min(best_bare, time.perf_counter() - started)
        bare.close()
    ledger_rate, bare_rate = rows / best_ledger, rows / best_bare
    # Later syncs compare each page with the stored hashes first (one SELECT ... IN per page).
    store = LedgerStore(make_hook("lookup"))
    store.ensure_schema()
    started = time.perf_counter()
    for index, page in enumerate(pages):
        store.write_page("bench", "bench", page, {"phase": "full", "cursor": index})
    lookup_rate = rows / (time.perf_counter() - started)
    store.close()
    return Result(
        figure=f"Ledger write rate into {database}, {count:,} documents",
        value=round(ledger_rate),
        unit="rows/s",
        baseline=round(bare_rate),
        baseline_label="bare executemany of the same rows, committed per page",
        target=">= 0.7x the bare rate",
        passed=ledger_rate >= 0.7 * bare_rate,
        note=(
            f"{ledger_rate / bare_rate:.2f}x; a first sync's pages (100 documents + 200 signers, committed "
            f"with the cursor); best of 2 alternating runs; the same rows through the hash-compare upsert "
            f"of later syncs: {lookup_rate:,.0f} rows/s"
        ),
        details={"hash_compare_rows_per_second": round(lookup_rate)},
    )
