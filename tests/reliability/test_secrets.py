"""No secret ever shows up in task logs, XCom, rendered fields, exception messages or sandbox logs.

A dedicated sandbox runs with credentials unique to this test (so a hit cannot come from anywhere
else) and its server logging at DEBUG. The ``reliability_secrets`` DAG sends, waits and stores one
document per vendor, then fails on purpose: a sensor on a connection with a wrong secret (HTTP 401)
and one whose next vendor call gets an injected HTTP 500.
"""

from __future__ import annotations

import json
import logging
import traceback

import pytest

from esign_sandbox import Sandbox, SandboxConfig
from tests.reliability.conftest import run_dag, task_states

pytestmark = pytest.mark.e2e

SECRETS = {
    "legalesign_secret": "lgs-S3cret-4b1f9e2a7c55",
    "wesignature_password": "wsg-Passw0rd-8d2e61f0aa",
    "wesignature_api_key": "wsg-ApiKey-5c7a13e9b2d4",
    "esignbase_client_secret": "esb-ClientSecret-9f04d2c6",
    "esignbase_webhook_secret": "esb-Webhook-1e8b7a3d90",
}
WRONG = {  # secrets of the "wrong" connections: still secrets, never to be shown either
    "legalesign": "lgs-Wrong-0c3d5e7f9a1b",
    "wesignature": "wsg-Wrong-2b4d6f8a0c1e",
    "esignbase": "esb-Wrong-3e5a7c9b1d2f",
}
VENDORS = ("legalesign", "wesignature", "esignbase")


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info:
            text += "\n" + "".join(traceback.format_exception(*record.exc_info))
        self.lines.append(f"{record.name}: {text}")


@pytest.fixture
def secret_sandbox(monkeypatch, airflow_db):
    handler = Collect()
    loggers = [logging.getLogger(name) for name in ("uvicorn", "uvicorn.error", "uvicorn.asgi", "fastapi")]
    loggers.append(logging.getLogger("esign_sandbox"))
    for logger in loggers:
        logger.addHandler(handler)
    config = SandboxConfig(sign_delay=0.1, send_delay=0.05, pdf_delay=0.05, **SECRETS)
    sandbox = Sandbox(config=config, log_level="debug").start()
    try:
        connections = sandbox.airflow_connections(rate_limit_per_minute=0)
        for name, value in connections.items():
            monkeypatch.setenv(name, value)
            wrong = json.loads(value)
            vendor = wrong["conn_type"]
            wrong["password"] = WRONG[vendor]
            monkeypatch.setenv(name.replace("_DEFAULT", "_WRONG"), json.dumps(wrong))
        monkeypatch.setenv("ESIGN_SANDBOX_URL", sandbox.url)
        yield sandbox, handler
    finally:
        sandbox.stop()
        for logger in loggers:
            logger.removeHandler(handler)


def leaks(text: str, secrets: list[str]) -> list[str]:
    """The lines holding a secret, with the secret itself replaced (never print it in a failure)."""
    found = []
    for line in text.splitlines():
        hits = [secret for secret in secrets if secret in line]
        for secret in hits:
            line = line.replace(secret, f"<SECRET #{secrets.index(secret)}>")
        if hits:
            found.append(line[:500])
    return found


def forced_failure_messages(sandbox) -> list[str]:
    """Exception text (message, repr, full traceback) of a 401 and a 500 from each hook."""
    from airflow_provider_esign.exceptions import ESignAuthError, ESignServerError
    from airflow_provider_esign.hooks import get_hook

    texts = []
    for vendor in VENDORS:
        with pytest.raises(ESignAuthError) as unauthorized:
            get_hook(f"{vendor}_wrong").get_document("doc-1")
        assert f"'{vendor}_wrong'" in str(unauthorized.value)  # names the connection
        sandbox.queue_fault("500", vendor=vendor)
        with pytest.raises(ESignServerError) as server_error:
            get_hook(f"{vendor}_default", max_attempts=1).get_document("doc-1")
        for error in (unauthorized.value, server_error.value):
            texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
    return texts


def test_no_secret_in_logs_xcom_rendered_fields_errors_or_sandbox_logs(secret_sandbox, capfd, tmp_path):
    from airflow.models.renderedtifields import RenderedTaskInstanceFields
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    sandbox, sandbox_log = secret_sandbox
    run = run_dag("reliability_secrets", destination=str(tmp_path))
    states = task_states(run)
    for vendor in VENDORS:  # the pipeline worked, and the forced failures did fail
        for task in ("send", "wait", "store"):
            assert states[(f"{task}_{vendor}", -1)][0] == "success", states
        assert states[(f"unauthorized_{vendor}", -1)][0] == "failed"
        assert states[(f"server_error_{vendor}", -1)][0] == "failed"
    assert len(list(tmp_path.iterdir())) == 3
    errors = forced_failure_messages(sandbox)
    logs = capfd.readouterr()

    tokens = list(sandbox.state.tokens)  # every eSignBase access token the sandbox handed out
    assert tokens
    secrets = [*SECRETS.values(), *WRONG.values(), *tokens]

    # Task logs: dag.test runs tasks in-process and writes their logs to stdout/stderr (the
    # AIRFLOW_HOME/logs folder stays empty), captured here at file-descriptor level.
    task_logs = logs.out + logs.err
    for vendor in VENDORS:  # the capture really holds the task logs, failures included
        assert f"on connection '{vendor}_wrong' failed: HTTP 401" in task_logs
        assert f"on connection '{vendor}_default' failed: HTTP 500" in task_logs
    assert "Stored " in task_logs
    assert leaks(task_logs, secrets) == []

    with create_session() as session:
        xcoms = session.scalars(select(XComModel).where(XComModel.run_id == run.run_id)).all()
        rendered = session.scalars(
            select(RenderedTaskInstanceFields).where(RenderedTaskInstanceFields.run_id == run.run_id)
        ).all()
        xcom_text = json.dumps([x.value for x in xcoms], default=str)
        rendered_text = json.dumps([r.rendered_fields for r in rendered], default=str)
    assert len(xcoms) >= 9 and "document_id" in xcom_text
    assert len(rendered) >= 9 and "Secrets esignbase" in rendered_text
    assert leaks(xcom_text, secrets) == []
    assert leaks(rendered_text, secrets) == []

    assert all(errors) and leaks("\n".join(errors), secrets) == []

    server_log = "\n".join(sandbox_log.lines)
    assert sandbox_log.lines  # uvicorn at DEBUG did log (startup at least)
    assert leaks(server_log, secrets) == []

    # None of the above relied on masking (dag.test does not mask its console logs); in a real
    # worker the log pipeline masks registered values too, and every secret, including the runtime
    # tokens and the webhook secret inside the extra, is registered.
    redact = secrets_masker_redact()
    assert [secrets.index(s) for s in secrets if s in str(redact(f"value {s} here"))] == []


def secrets_masker_redact():
    try:
        from airflow.sdk._shared.secrets_masker import redact  # Airflow >= 3.2
    except ImportError:  # pragma: no cover - Airflow 3.1
        from airflow.sdk.execution_time.secrets_masker import redact  # type: ignore[no-redef]
    return redact
