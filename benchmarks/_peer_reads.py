"""The peers group's reads (see :mod:`benchmarks.peers`): batch status and the large download."""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

from benchmarks._peer_clients import SIGNER, esignbase_client, fresh, legalesign_client, wesignature_auth
from benchmarks.common import MB, Result, SandboxProcess, Sizes, StatsDelta


# ------------------------------------------------------------------ batch status
def _status_peers(sandbox: SandboxProcess, vendor: str, ids: list[str]) -> dict[str, Callable[[], Any]]:
    if vendor == "legalesign":
        sdk = legalesign_client(sandbox)
        from esign_sandbox import credentials as c

        def walk() -> Any:
            wanted, found, offset = set(ids), {}, 0
            while True:
                page = sdk.document.list(group=c.LEGALESIGN_GROUP, limit=100, offset=offset)
                for doc in page.objects or []:
                    if doc.uuid in wanted:
                        found[doc.uuid] = doc.status
                if not page.meta or not page.meta.next:
                    return found
                offset += 100

        return {
            "SDK reads": lambda: {i: sdk.document.retrieve(i).status for i in ids},
            "SDK list walk": walk,
        }
    if vendor == "esignbase":
        import esignbase_sdk

        client = esignbase_client(sandbox)

        def walk() -> Any:
            wanted, found, offset = set(ids), {}, 0
            while True:
                page = esignbase_sdk.get_documents(client, limit=100, offset=offset)
                for doc in page["documents"]:
                    if doc["id"] in wanted:
                        found[doc["id"]] = doc["status"]
                offset += 100
                if offset >= page["count"]:
                    return found

        return {
            "SDK reads": lambda: {i: esignbase_sdk.get_document(client, i)["status"] for i in ids},
            "SDK list walk": walk,
        }
    import requests

    session = requests.Session()
    base = sandbox.client.vendor_url("wesignature")

    def reads() -> Any:
        return {
            i: session.post(base + "/documentstatusapi", json={**wesignature_auth(), "guid": i}, timeout=60)
            .json()["data"]
            .get("document_status")
            for i in ids
        }

    def whole_list() -> Any:
        answer = session.post(base + "/getsentdocumentsapi", json=wesignature_auth(), timeout=60).json()
        data = answer.get("data") or answer.get("message", {}).get("data") or []
        wanted = set(ids)
        return {d["guid"]: d.get("document_status") for d in data if d.get("guid") in wanted}

    return {"bare reads": reads, "bare whole list": whole_list}


def batch_status(sandbox: SandboxProcess, sizes: Sizes) -> list[Result]:
    from airflow_provider_esign.hooks import get_hook

    client = fresh(sandbox, sign_delay=None, send_delay=0)
    vendors = ("legalesign", "esignbase", "wesignature")
    tracked = {
        v: [
            client.create_document(v, signers=[SIGNER], status="sent")["id"]
            for _ in range(sizes.peer_tracked)
        ]
        for v in vendors
    }
    results, seeded = [], sizes.peer_tracked
    for size in sizes.peer_accounts:
        if size > seeded:
            client.seed_history(size - seeded, vendors=list(vendors))
            seeded = size
        for vendor in vendors:
            ids = tracked[vendor]
            hook = get_hook(f"{vendor}_default")
            contenders = {"provider": lambda hook=hook, ids=ids: hook.get_documents(ids)}
            contenders.update(_status_peers(sandbox, vendor, ids))
            seconds: dict[str, list[float]] = {k: [] for k in contenders}
            calls: dict[str, int] = {}
            for read in contenders.values():
                read()  # warm-up (tokens, connections), not counted
            for _ in range(sizes.peer_runs):
                for name, read in contenders.items():
                    with StatsDelta(client, vendor) as delta:
                        started = time.perf_counter()
                        answer = read()
                        seconds[name].append(time.perf_counter() - started)
                    if len(answer) != len(ids):
                        raise RuntimeError(f"{vendor} {name}: {len(answer)} of {len(ids)} documents")
                    calls[name] = delta.requests
            peers = [k for k in contenders if k != "provider"]
            fewest = min(peers, key=calls.__getitem__)
            reads = next(k for k in peers if k.endswith("reads"))
            fastest = min(peers, key=lambda k: statistics.median(seconds[k]))
            p_time = statistics.median(seconds["provider"])
            results.append(
                Result(
                    figure=f"Peers: batch status of {len(ids)} docs, account of {size:,}: {vendor}",
                    value=calls["provider"],
                    unit="calls",
                    baseline=calls[fewest],
                    baseline_label=f"{fewest} (fewest calls of the peers)",
                    target="<= the fewest peer's calls, < per-document reads",
                    passed=calls["provider"] <= calls[fewest] and calls["provider"] < calls[reads],
                    note=(
                        "; ".join(
                            f"{k}: {calls[k]} calls, {1000 * statistics.median(seconds[k]):.0f} ms"
                            for k in contenders
                        )
                        + f"; provider {p_time / statistics.median(seconds[fastest]):.2f}x the time of {fastest}"
                    ),
                    details={"seconds": seconds, "calls": calls},
                )
            )
            hook.close()
    return results


# ------------------------------------------------------------------ download
def _download_contenders(
    sandbox: SandboxProcess, vendor: str, doc: str, dest: str
) -> dict[str, Callable[[], int]]:
    from airflow_provider_esign.hooks import get_hook

    hook = get_hook(f"{vendor}_default")
    hook.get_document(doc)  # warm: connection settings, credentials

    def provider() -> int:
        with open(dest, "wb") as out:
            return hook.download_document(doc, out).size

    if vendor == "legalesign":
        sdk = legalesign_client(sandbox)

        def peer() -> int:
            size = 0
            with sdk.pdf.with_streaming_response.retrieve(doc) as answer, open(dest, "wb") as out:
                for chunk in answer.iter_bytes():
                    size += out.write(chunk)
            return size

        return {"provider": provider, "legalesign SDK streaming response": peer}
    if vendor == "esignbase":
        import esignbase_sdk

        client = esignbase_client(sandbox)

        def peer() -> int:
            with open(dest, "wb") as out:
                return sum(out.write(chunk) for chunk in esignbase_sdk.download_document(client, doc))

        return {"provider": provider, "esignbase SDK download_document": peer}
    from urllib.parse import urljoin

    import requests

    session = requests.Session()
    base = sandbox.client.vendor_url("wesignature") + "/"

    def link() -> str:
        answer = session.post(
            base + "getsentdocumentsapi", json={**wesignature_auth(), "guid": doc}, timeout=60
        )
        body = answer.json()
        items = body.get("data") or body.get("message", {}).get("data") or []
        return urljoin(base, items[0]["download_link"])

    fixed = link()

    def get(url: str) -> int:
        size = 0
        with session.get(url, stream=True, timeout=300) as answer, open(dest, "wb") as out:
            answer.raise_for_status()
            for chunk in answer.iter_content(1024 * 1024):
                size += out.write(chunk)
        return size

    return {
        "provider": provider,
        "bare list + streaming GET": lambda: get(link()),
        "bare streaming GET alone": lambda: get(fixed),
    }


def downloads(sandbox: SandboxProcess, sizes: Sizes, workdir: str) -> list[Result]:
    import os

    client = fresh(sandbox, sign_delay=None, legalesign_redirect_ratio=0.0)
    size = sizes.peer_pdf_bytes
    dest = os.path.join(workdir, "peers-download.pdf")
    results = []
    for vendor in ("legalesign", "esignbase", "wesignature"):
        doc = client.create_document(
            vendor, name="Large", signers=[SIGNER], status="completed", pdf_size=size
        )["id"]
        contenders = _download_contenders(sandbox, vendor, doc, dest)
        seconds: dict[str, list[float]] = {k: [] for k in contenders}
        calls: dict[str, int] = {}
        for _ in range(sizes.peer_download_runs):
            for name, fetch in contenders.items():
                with StatsDelta(client, vendor) as delta:
                    started = time.perf_counter()
                    got = fetch()
                    seconds[name].append(time.perf_counter() - started)
                if got != size:
                    raise RuntimeError(f"{vendor} {name}: {got} bytes, not {size}")
                calls[name] = delta.requests
        peaks = {}
        for name, fetch in contenders.items():  # memory apart: tracing slows every allocation
            tracemalloc.start()
            fetch()
            peaks[name] = tracemalloc.get_traced_memory()[1] / MB
            tracemalloc.stop()
        os.remove(dest)
        hashing = _sha256_seconds(size)
        rates = {k: size / MB / statistics.median(v) for k, v in seconds.items()}
        peer = next(k for k in contenders if k != "provider")
        ratio = rates["provider"] / rates[peer]
        results.append(
            Result(
                figure=f"Peers: {size // MB} MiB download: {vendor}",
                value=round(rates["provider"], 1),
                unit="MiB/s",
                baseline=round(rates[peer], 1),
                baseline_label=peer,
                target=">= 0.8x the peer, peak memory < 4 MiB",
                passed=ratio >= 0.8 and peaks["provider"] < 4,
                note=(
                    "; ".join(
                        f"{k}: {rates[k]:.0f} MiB/s, {calls[k]} calls, peak {peaks[k]:.2f} MiB"
                        for k in contenders
                    )
                    + f"; {ratio:.2f}x; provider verifies PDF magic, length and trailer, SHA-256"
                    f" (median of {sizes.peer_download_runs}); SHA-256 of the {size // MB} MiB in memory"
                    f" alone: {1000 * hashing:.1f} ms in this run"
                ),
                details={"seconds": seconds, "calls": calls, "peak_mib": peaks, "sha256_seconds": hashing},
            )
        )
    return results


def _sha256_seconds(size: int) -> float:
    """The best of 3 SHA-256 passes over ``size`` bytes in memory: what verifying costs by itself."""
    import hashlib
    import os

    data = os.urandom(size)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        hashlib.sha256(data).digest()
        best = min(best, time.perf_counter() - started)
    return best
