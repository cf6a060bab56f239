"""eSignBase access tokens expiring in the middle of a batch: no failure, one token per expiry.

A batch of 30 documents runs through the real operators (send → sensor poke → store) with the hook
clock injected; between documents both clocks move on, so no test ever waits for a token to expire.
"""

from __future__ import annotations

import math

import pytest

from airflow_provider_esign.operators.download import DownloadDocumentOperator
from airflow_provider_esign.operators.send import SendDocumentOperator
from airflow_provider_esign.sensors.status import DocumentStatusSensor
from tests.conftest import FakeClock
from tests.reliability.conftest import FakeTI, fake_context

pytestmark = pytest.mark.e2e
BATCH = 30
REFRESH_MARGIN = 30.0  # the hook refreshes a 300 s token 30 s early


def run_batch(sandbox, tmp_path, clock: FakeClock, step: float, *, move_hook_clock: bool) -> None:
    """Send, wait for and store BATCH documents, moving the clocks ``step`` seconds per document."""
    hook_params = {"clock": clock, "sleep": clock.sleep}
    for index in range(BATCH):
        ti = FakeTI("send", map_index=index)
        send = SendDocumentOperator(
            task_id="send",
            conn_id="esignbase_default",
            document_name=f"Token batch {index}",
            signers=[{"name": "Ada Lovelace", "email": f"ada{index}@example.com"}],
            template_id="tpl-nda",
            hook_params=hook_params,
        )
        document_id = send.execute(fake_context(ti))
        sandbox.advance_clock(step)  # the document gets signed, tokens age
        if move_hook_clock:
            clock.now += step
        sensor = DocumentStatusSensor(
            task_id="wait", conn_id="esignbase_default", document_id=document_id, hook_params=hook_params
        )
        assert sensor.poke(fake_context()).is_done
        store = DownloadDocumentOperator(
            task_id="store",
            conn_id="esignbase_default",
            document_id=document_id,
            destination=str(tmp_path),
            hook_params=hook_params,
        )
        store.execute(fake_context())
        assert (tmp_path / f"{document_id}.pdf").read_bytes() == sandbox.pdf_bytes("esignbase", document_id)


def test_tokens_refresh_ahead_of_expiry(sandbox, tmp_path):
    """Hook and vendor clocks agree (token_ttl 300 s, the documented lifetime): the hook renews each
    token 30 s before it lapses, so no request ever carries an expired token (no 401 at all)."""
    sandbox.configure(token_ttl=300)
    clock, step = FakeClock(), 40.0
    run_batch(sandbox, tmp_path, clock, step, move_hook_clock=True)

    stats = sandbox.stats()
    elapsed = BATCH * step  # 1,200 s: four token lifetimes
    assert stats["status_codes_by_vendor"]["esignbase"].get("401", 0) == 0
    assert stats["token_requests"] == 1 + math.floor(elapsed / (300 - REFRESH_MARGIN))  # 5, not 90
    assert stats["token_requests"] <= 1 + math.ceil(elapsed / 300)  # at most one per expiry
    assert len(sandbox.documents("esignbase")) == BATCH


def test_tokens_expiring_early_at_the_vendor_are_renewed_once(sandbox, tmp_path):
    """The vendor expires tokens after 60 s while the hook, seeing no ``expires_in``, expects 300 s:
    each expiry costs exactly one 401 and one new token, and nothing fails."""
    sandbox.configure(token_ttl=60)
    clock, step = FakeClock(), 25.0
    run_batch(sandbox, tmp_path, clock, step, move_hook_clock=False)

    stats = sandbox.stats()
    unauthorized = stats["status_codes_by_vendor"]["esignbase"].get("401", 0)
    elapsed = BATCH * step  # 750 s: twelve and a half lifetimes
    # A token serves three 25 s clock points (0, 25, 50 < 60): about ten expiries in the batch.
    assert unauthorized >= math.floor(elapsed / 75)  # the expiries really happened mid-batch
    assert stats["token_requests"] == 1 + unauthorized  # each expiry: one 401, one new token
    assert stats["token_requests"] <= 1 + math.ceil(elapsed / 60)
    assert len(sandbox.documents("esignbase")) == BATCH
