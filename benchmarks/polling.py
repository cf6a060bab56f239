"""API calls per poll cycle to track N in-flight documents: batch sensor vs one sensor per document.

Setup per vendor: a freshly reset sandbox account holding exactly the N batch documents, all sent and
in flight (nobody signs), so neither side can finish early. Calls are counted at the sandbox (``stats()``
deltas), so they are what really went over the wire, logins and token requests included.

* batch: one ``BatchDocumentStatusSensor.poke()`` = one poll cycle (the sensor pages the vendor's list
  endpoint until it has seen every id). The first cycle also logs in (cold); the figure is a warm cycle.
* baseline: one ``DocumentStatusSensor.poke()`` per document = one poll cycle of per-document sensors.
"""

from __future__ import annotations

from typing import Any

from benchmarks.common import PAGE_SIZE, VENDORS, Result, SandboxProcess, Sizes, StatsDelta, ceil_div


def run(sandbox: SandboxProcess, sizes: Sizes, workdir: str) -> list[Result]:
    from airflow_provider_esign.hooks import get_hook
    from airflow_provider_esign.hooks.credentials import CREDENTIALS
    from airflow_provider_esign.sensors.batch import BatchDocumentStatusSensor
    from airflow_provider_esign.sensors.status import DocumentStatusSensor
    from benchmarks.common import set_connections

    n = sizes.documents
    results = []
    for vendor in VENDORS:
        client = sandbox.fresh(sign_delay=None, send_delay=0)
        set_connections(sandbox.url, rate_limit_per_minute=0)
        CREDENTIALS.clear()
        ids = [
            client.create_document(
                vendor,
                name=f"Batch contract {i}",
                signers=[{"name": "Ada Lovelace", "email": f"ada{i}@example.com"}],
                status="sent",
            )["id"]
            for i in range(n)
        ]
        conn_id = f"{vendor}_default"
        batch = BatchDocumentStatusSensor(task_id=f"wait_all_{vendor}", conn_id=conn_id, document_ids=ids)
        context: Any = {}
        with StatsDelta(client, vendor) as cold:
            first = batch.poke(context)
        warm = []
        for _ in range(sizes.warm_cycles):
            with StatsDelta(client, vendor) as cycle:
                outcome = batch.poke(context)
            warm.append(cycle)
        assert not first.is_done and not outcome.is_done, "the batch must still be in flight"
        seen = get_hook(conn_id).get_documents(ids)  # outside the counted cycles: a sanity check
        if len(seen) != n:
            raise RuntimeError(f"{vendor}: the batch sensor's list walk sees {len(seen)} of {n} documents")

        sensors = [
            DocumentStatusSensor(task_id=f"wait_{i}", conn_id=conn_id, document_id=doc_id)
            for i, doc_id in enumerate(ids)
        ]
        with StatsDelta(client, vendor) as per_document:
            pending = sum(not sensor.poke(context).is_done for sensor in sensors)
        assert pending == n

        value = max(cycle.requests for cycle in warm)
        baseline = per_document.requests
        page = PAGE_SIZE[vendor]
        allowed = ceil_div(n, page) if page else 1
        routes = ", ".join(f"{k.split(' ', 1)[1]} x{v}" for k, v in warm[-1].routes().items())
        results.append(
            Result(
                figure=f"API calls per poll cycle, {n:,} in-flight docs: {vendor}",
                value=value,
                unit="calls",
                baseline=baseline,
                baseline_label=f"{n:,} DocumentStatusSensor pokes",
                target=f"<= {allowed} and >= 50x fewer",
                passed=value <= allowed and baseline >= 50 * value,
                note=(
                    f"account holds exactly the {n:,} batch documents, all in flight; warm cycle: {routes}; "
                    f"first (cold) cycle {cold.requests} calls, incl. any login or token request; "
                    f"{baseline / max(value, 1):.0f}x fewer calls than per-document polling"
                ),
                details={
                    "cold_cycle_calls": cold.requests,
                    "warm_cycle_calls": [c.requests for c in warm],
                    "warm_routes": warm[-1].routes(),
                    "per_document_routes": per_document.routes(),
                },
            )
        )
    return results
