"""Wait conditions: signing progress in wait logs and the batch progress summary."""

from __future__ import annotations

from airflow_provider_esign.conditions import BatchProgress, WaitCondition, describe_wait, signing_progress
from airflow_provider_esign.models import DocumentInfo, DocumentStatus, SignerInfo, SignerStatus
from tests.unit.sensors.test_batch import IDS, C, D, S, states


def document(status: DocumentStatus, *signers: tuple[SignerStatus, object]) -> DocumentInfo:
    return DocumentInfo(
        "doc-1", "legalesign", "NDA", status, status.value,
        signers=[SignerInfo(email=f"s{i}@example.com", status=s, raw_status=raw) for i, (s, raw) in enumerate(signers)],
    )  # fmt: skip


def test_progress_counts_signers_who_signed():
    doc = document(DocumentStatus.PARTIALLY_SIGNED, (SignerStatus.SIGNED, 10), (SignerStatus.SENT, 4))
    assert signing_progress(doc) == "1 of 2 signed"
    line = describe_wait(doc, WaitCondition.of("COMPLETED"), done=False)
    assert line.endswith("1 of 2 signed; waiting for status COMPLETED")


def test_a_finished_wait_does_not_say_waiting():
    doc = document(DocumentStatus.COMPLETED, (SignerStatus.SIGNED, 10), (SignerStatus.PENDING, None))
    line = describe_wait(doc, WaitCondition.of("COMPLETED"), done=True)
    assert "waiting" not in line and line.endswith("2 of 2 signed: status COMPLETED reached")


def test_no_progress_where_the_vendor_reports_no_per_signer_state():
    # eSignBase: every signer SENT with no raw state until the end; "0 of 2 signed" would be false.
    doc = document(DocumentStatus.PARTIALLY_SIGNED, (SignerStatus.SENT, None), (SignerStatus.SENT, None))
    assert signing_progress(doc) == ""


def test_the_deferred_wait_logs_progress_once_per_change(monkeypatch):
    import asyncio

    from airflow_provider_esign.triggers.status import DocumentStatusTrigger

    states = iter(
        [
            document(DocumentStatus.SENT, (SignerStatus.SENT, 4), (SignerStatus.SENT, 4)),
            document(DocumentStatus.SENT, (SignerStatus.SENT, 4), (SignerStatus.SENT, 4)),
            document(DocumentStatus.PARTIALLY_SIGNED, (SignerStatus.SIGNED, 10), (SignerStatus.SENT, 4)),
        ]
    )

    class Hook:
        async def aget_document(self, _id):
            return next(states)

    trigger = DocumentStatusTrigger(conn_id="c", document_id="doc-1", end_time=0)
    lines: list[str] = []
    monkeypatch.setattr(
        type(trigger),
        "log",
        property(lambda self: type("L", (), {"info": lambda _s, f, a: lines.append(a)})()),
    )
    for _ in range(3):
        assert asyncio.run(trigger.poll(Hook())) is None
    assert [line.rsplit(", ", 1)[-1] for line in lines] == [
        "0 of 2 signed; waiting for status COMPLETED",
        "1 of 2 signed; waiting for status COMPLETED",
    ]


def test_progress_summary_counts():
    found = states([C, C, D, S, None])[0]
    progress = BatchProgress.evaluate(WaitCondition.of("COMPLETED"), IDS, found)
    assert progress.done == ["d0", "d1"]
    assert list(progress.failed) == ["d2"]
    assert progress.pending == ["d3", "d4"]  # d4 not visible yet: still pending
    assert progress.summary() == "2/5 done, 1 declined, 0 voided/failed, 2 pending"
