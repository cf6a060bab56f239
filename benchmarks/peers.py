"""The provider beside what a user would pick instead, on the same sandbox in the same run.

Peers: the vendors' official SDKs (``legalesign`` 1.1.1, ``esignbase-sdk`` 1.2.0) and, for WeSignature,
which has no SDK, a bare ``requests`` loop. Contenders alternate (provider, peer, provider, ...) and the
median of their runs is kept, so machine noise hits every side alike. Calls are counted at the sandbox.

* sends: ``peer_sends`` mapped-style sends per contender, each made through its own client (each mapped
  task builds its own hook; a peer's task its own SDK client or ``requests.post``), in alternating
  blocks. The provider sends with its idempotency key (WeSignature: the shared pre-send baseline);
  peers send without one (they have none). Target: >= 1.0x the best peer's rate.
* batch status: the status of ``peer_tracked`` in-flight documents in accounts of each
  ``peer_accounts`` size (the rest old, final documents). Provider: one ``get_documents``. Peers: one
  status read per document, and a walk of the whole list (Legalesign and eSignBase SDKs, 100 per
  page; WeSignature's bare loop: its one whole-account list, parsed). Target: fewer calls than every
  peer.
* download: one ``peer_pdf_bytes`` final PDF to a file. Provider: ``download_document`` (its document
  read, SHA-256 and PDF checks included). Peers: the Legalesign SDK's streaming response, the
  eSignBase SDK's ``download_document`` generator, a bare ``requests`` streaming GET for WeSignature.
  Like with like: each timed section opens the destination file and makes the calls a user needs
  from a document id, on a client set up before the runs (the provider's hook warmed by one
  ``get_document``; the peers' SDK client or ``requests.Session``, its keep-alive connection reused).
  For WeSignature that is 2 calls on both sides: the guid-filtered list call for the
  ``download_link``, then the streaming GET (1 MiB chunks); the target compares those two. The GET
  alone (1 call, the link read before the runs) is reported beside it, not used for the target. The
  note also gives the time of SHA-256 over the same bytes in memory in the same run: the part of the
  provider's time the peers never spend. Throughput (median) and peak traced memory (tracemalloc, a
  separate run). Target: >= 0.8x the peer, peak memory under 4 MiB.
* dropped create: the sandbox commits a create and drops the connection before answering. Provider:
  ``send_document`` with its key and default retries. Peers: the Legalesign SDK with its default
  retries; the eSignBase SDK and the bare WeSignature loop with the retry a user would add (retry
  once on a connection error). Target: one document for the provider, where peers make two.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from benchmarks._peer_clients import SIGNER, esignbase_client, fresh, legalesign_client, wesignature_auth
from benchmarks.common import Result, SandboxProcess, Sizes, StatsDelta, set_connections

FILE = "https://files.example.com/peers/contract-{i}.pdf"  # never fetched by the sandbox


def _wesignature_body(file: str) -> dict[str, Any]:
    """The ``senddocumentapi`` body a user writes from the API reference (they-sign)."""
    return {
        "sign_type": 3,
        "file_list": [{"file_url": file}],
        "is_for_embedded_signing": 0,
        "signers": [{"name": SIGNER["name"], "email_address": SIGNER["email"]}],
    }


# ------------------------------------------------------------------ sends
def _stored_key_connection(sandbox: SandboxProcess) -> None:
    """``wesignature_default`` with a stored ``user_id``/``api_key`` (no login call), which is what a
    bare mapped task can use without logging in per task too."""
    import json
    import os

    from esign_sandbox import credentials as c

    os.environ["AIRFLOW_CONN_WESIGNATURE_DEFAULT"] = json.dumps(
        {
            "conn_type": "wesignature",
            "host": sandbox.client.vendor_url("wesignature"),
            "extra": {
                "user_id": c.WESIGNATURE_USER_ID,
                "api_key": c.WESIGNATURE_API_KEY,
                "rate_limit_per_minute": 0,
            },
        }
    )


def _connection(vendor: str) -> Any:
    from airflow.sdk import BaseHook

    return BaseHook.get_connection(f"{vendor}_default")


def _send_contenders(
    sandbox: SandboxProcess, vendor: str, template: str | None
) -> dict[str, Callable[[int], Any]]:
    """vendor -> {contender: send(i)}. Each call is what one mapped task does: read its Airflow
    connection, build its own client, send one document, close the client."""
    from airflow_provider_esign.hooks import get_hook
    from airflow_provider_esign.models import SendRequest, Signer

    signer = Signer(SIGNER["name"], SIGNER["email"])

    def provider(i: int) -> Any:
        source: dict[str, Any] = (
            {"file": FILE.format(i=f"p{i}")} if vendor == "wesignature" else {"template_id": template}
        )
        hook = get_hook(f"{vendor}_default")  # a mapped task's own hook
        try:
            request = SendRequest(name=f"Contract p{i}", signers=(signer,), **source)
            return hook.send_document(
                request, idempotency_key=f"peers-{vendor}-{i}", checkpoint={}
            ).document_id
        finally:
            hook.close()  # as the operator does when its task ends

    if vendor == "legalesign":
        import legalesign

        from esign_sandbox import credentials as c

        def peer(i: int) -> Any:
            conn = _connection(vendor)
            with legalesign.Legalesign(
                api_key=f"ApiKey {conn.login}:{conn.password}", base_url=conn.host, max_retries=0
            ) as sdk:
                return sdk.document.create(
                    group=f"/api/v1/group/{c.LEGALESIGN_GROUP}/",
                    name=f"Contract s{i}",
                    templatepdf=f"/api/v1/templatepdf/{template}/",
                    signers=[{"firstname": "Ada", "lastname": "Lovelace", "email": SIGNER["email"]}],
                )

        return {"provider": provider, "legalesign SDK": peer}
    if vendor == "esignbase":
        import esignbase_sdk

        esignbase_sdk.BASE_URL = sandbox.client.vendor_url("esignbase") + "/"

        def peer(i: int) -> Any:
            conn = _connection(vendor)
            client = esignbase_sdk.OAuth2Client(
                id=conn.login, secret=conn.password, scope=[esignbase_sdk.Scope.ALL]
            )
            esignbase_sdk.connect(client)  # a mapped task's own client: its own token too
            recipient = esignbase_sdk.Recipient(
                email=SIGNER["email"],
                first_name="Ada",
                last_name="Lovelace",
                role_name="signee_1",
                locale="en",
            )
            return esignbase_sdk.create_document(
                client, template_id=template, document_name=f"Contract s{i}", recipients=[recipient]
            )["document_id"]

        return {"provider": provider, "esignbase SDK": peer}

    import requests

    def bare(i: int) -> Any:
        conn = _connection(vendor)
        extra = conn.extra_dejson
        body = {
            "user_id": extra["user_id"],
            "api_key": extra["api_key"],
            **_wesignature_body(FILE.format(i=f"b{i}")),
        }
        response = requests.post(conn.host.rstrip("/") + "/senddocumentapi", json=body, timeout=60)
        response.raise_for_status()
        return response.json()["data"]["guid"]

    return {"provider": provider, "bare requests loop": bare}


def _sends(sandbox: SandboxProcess, sizes: Sizes) -> list[Result]:
    from airflow_provider_esign.hooks import get_hook

    _stored_key_connection(sandbox)
    results = []
    for vendor in ("legalesign", "esignbase", "wesignature"):
        client = fresh(sandbox, sign_delay=None, send_delay=0)
        template = None
        if vendor == "legalesign":
            from benchmarks.sends import SAMPLE_PDF

            template = get_hook("legalesign_default").upload_template_pdf(str(SAMPLE_PDF), title="Peers")
        elif vendor == "esignbase":
            template = "tpl-nda"
        contenders = _send_contenders(sandbox, vendor, template)
        n, blocks = sizes.peer_sends, sizes.peer_blocks
        seconds: dict[str, float] = dict.fromkeys(contenders, 0.0)
        calls: dict[str, int] = dict.fromkeys(contenders, 0)
        per_block = -(-n // blocks)
        for block in range(blocks):
            part = range(block * per_block, min(n, (block + 1) * per_block))
            for name, send in contenders.items():
                with StatsDelta(client, vendor) as delta:
                    started = time.perf_counter()
                    for i in part:
                        send(i)
                    seconds[name] += time.perf_counter() - started
                calls[name] += delta.requests
        created = len(client.documents(vendor))
        if created != n * len(contenders):
            raise RuntimeError(f"{vendor}: {created} documents after {n * len(contenders)} sends")
        rates = {name: n / s for name, s in seconds.items()}
        best = max((k for k in rates if k != "provider"), key=rates.__getitem__)
        mode = "exactly-once key, shared baseline" if vendor == "wesignature" else "exactly-once key"
        results.append(
            Result(
                figure=f"Peers: {n} mapped-style sends: {vendor}",
                value=round(rates["provider"], 1),
                unit="sends/s",
                baseline=round(rates[best], 1),
                baseline_label=f"{best}, no key",
                target=">= 1.0x the best peer",
                passed=rates["provider"] >= rates[best],
                note=(
                    f"provider with {mode}: {calls['provider']} calls; {best}: {calls[best]} calls; "
                    f"{rates['provider'] / rates[best]:.2f}x; {blocks} alternating blocks; each send reads its"
                    " Airflow connection and uses its own client, as a mapped task does"
                ),
                details={"seconds": seconds, "calls": calls},
            )
        )
    return results


# ------------------------------------------------------------------ dropped create answer
def _dropped_create(sandbox: SandboxProcess) -> list[Result]:
    import esignbase_sdk
    import requests

    from airflow_provider_esign.hooks import get_hook
    from airflow_provider_esign.models import SendRequest, Signer
    from benchmarks.sends import SAMPLE_PDF
    from esign_sandbox import credentials as c

    results = []
    for vendor in ("legalesign", "esignbase", "wesignature"):
        client = fresh(sandbox, sign_delay=None, send_delay=0)
        hook = get_hook(f"{vendor}_default", backoff_base=0.05, backoff_max=0.2, create_settle_seconds=0.5)
        if vendor == "legalesign":
            source: dict[str, Any] = {"template_id": hook.upload_template_pdf(str(SAMPLE_PDF), title="Drop")}
        elif vendor == "esignbase":
            source = {"template_id": "tpl-nda"}
        else:
            source = {"file": FILE.format(i="dropped")}
        made = {}
        # provider
        before = len(client.documents(vendor))
        client.queue_fault("drop_after_commit", vendor=vendor)
        request = SendRequest(name="Dropped", signers=(Signer(SIGNER["name"], SIGNER["email"]),), **source)
        hook.send_document(request, idempotency_key=f"drop-{vendor}", checkpoint={})
        made["provider"] = len(client.documents(vendor)) - before
        # peer
        before = len(client.documents(vendor))
        client.queue_fault("drop_after_commit", vendor=vendor)
        if vendor == "legalesign":
            peer = "legalesign SDK, default retries"
            with legalesign_client(sandbox, max_retries=2) as sdk:
                sdk.document.create(
                    group=f"/api/v1/group/{c.LEGALESIGN_GROUP}/",
                    name="Dropped",
                    templatepdf=f"/api/v1/templatepdf/{source['template_id']}/",
                    signers=[{"firstname": "Ada", "lastname": "Lovelace", "email": SIGNER["email"]}],
                )
        elif vendor == "esignbase":
            peer = "esignbase SDK, retried once on a connection error"
            sdk_client = esignbase_client(sandbox)
            recipient = esignbase_sdk.Recipient(
                email=SIGNER["email"],
                first_name="Ada",
                last_name="Lovelace",
                role_name="signee_1",
                locale="en",
            )
            for attempt in range(2):
                try:
                    esignbase_sdk.create_document(
                        sdk_client, template_id="tpl-nda", document_name="Dropped", recipients=[recipient]
                    )
                    break
                except requests.ConnectionError:
                    if attempt:
                        raise
        else:
            peer = "bare requests loop, retried once on a connection error"
            body = {**wesignature_auth(), **_wesignature_body(FILE.format(i="dropped-bare"))}
            for attempt in range(2):
                try:
                    requests.post(
                        sandbox.client.vendor_url("wesignature") + "/senddocumentapi", json=body, timeout=60
                    )
                    break
                except requests.ConnectionError:
                    if attempt:
                        raise
        made["peer"] = len(client.documents(vendor)) - before
        hook.close()
        results.append(
            Result(
                figure=f"Peers: documents made when the create answer is dropped after commit: {vendor}",
                value=made["provider"],
                unit="documents",
                baseline=made["peer"],
                baseline_label=peer,
                target="1 (no duplicate) where the peer makes 2",
                passed=made["provider"] == 1,
                note="the sandbox commits the create, then drops the connection before answering",
            )
        )
    return results


def run(sandbox: SandboxProcess, sizes: Sizes, workdir: str) -> list[Result]:
    set_connections(sandbox.url, rate_limit_per_minute=0)
    from airflow_provider_esign.hooks.credentials import CREDENTIALS

    CREDENTIALS.clear()
    from benchmarks._peer_reads import batch_status, downloads

    return (
        _sends(sandbox, sizes)
        + batch_status(sandbox, sizes)
        + downloads(sandbox, sizes, workdir)
        + _dropped_create(sandbox)
    )
