"""The operator/sensor base: one hook per task, reused across pokes and closed at the end (real DAG run)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import run_dag

pytestmark = pytest.mark.e2e


def test_a_poking_sensor_builds_one_hook_and_closes_it(sandbox, monkeypatch):
    import airflow_provider_esign.hooks as hooks

    sandbox.configure(sign_delay=None, pdf_delay=0.1)  # nobody signs until the test does
    document = sandbox.create_document(
        "esignbase",
        name="Cached hook",
        status="sent",
        signers=[{"name": "Ada Lovelace", "email": "ada@example.com"}],
    )
    built, reads, closed = [], [], []
    real_get_hook = hooks.get_hook

    def counting_get_hook(conn_id, **params):
        hook = real_get_hook(conn_id, **params)
        built.append(hook)
        real_read, real_close = hook.get_document, hook.close

        def read(document_id):
            reads.append(document_id)
            if len(reads) == 3:  # the signer signs between the third and the fourth poke
                sandbox.sign("esignbase", document_id)
            return real_read(document_id)

        hook.get_document = read
        hook.close = lambda: closed.append(hook) or real_close()
        return hook

    monkeypatch.setattr(hooks, "get_hook", counting_get_hook)
    run = run_dag("e2e_cached_hook", document_id=document["id"])

    assert run.state == "success"
    assert len(reads) >= 4  # it really poked several times
    assert len(built) == 1  # ... through one hook (one HTTP session)
    assert closed == built  # closed once, when execute ended
    assert built[0]._session is None
