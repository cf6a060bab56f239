"""Runs in a spawned process for test_wesignature_shared_baseline: one task process sending."""

from __future__ import annotations

FILE = "https://files.example.com/shared/contract.pdf"
SIGNERS = [{"name": "Ada Lovelace", "email": "ada@example.com"}]
FAST = {"max_attempts": 3, "backoff_base": 0.01, "backoff_max": 0.05, "create_settle_seconds": 0.2}


def _request():
    from airflow_provider_esign.models import SendRequest

    return SendRequest(name="Shared", signers=SIGNERS, file=FILE)


def send(key: str, adopt_existing: bool = False) -> str:
    """One keyed send through a fresh hook, as a mapped task's process makes it; the document id."""
    from airflow_provider_esign.hooks.wesignature import WeSignatureHook

    hook = WeSignatureHook("wesignature_default", **FAST)
    return hook.send_document(
        _request(), idempotency_key=key, checkpoint={}, adopt_existing=adopt_existing
    ).document_id


def create_then_die(key: str) -> str:
    """A try that records its baseline, gets its create committed and dies before learning the id.

    The create is POSTed directly (the answer is dropped on the floor): what a worker killed right after
    sending it leaves behind. Nothing is checkpointed (Airflow < 3.3: no task state store).
    """
    from airflow_provider_esign.hooks.wesignature import WeSignatureHook

    hook = WeSignatureHook("wesignature_default", **FAST)
    request = hook.run_flow(hook.prepare_send_flow(_request()))
    hook.run_flow(hook.before_create_flow(request, {}, key))
    created = hook.run_flow(hook.create_flow(request, None))  # committed; the key is never recorded with it
    return created.document_id
