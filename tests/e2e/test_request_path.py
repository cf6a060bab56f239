"""How deep a request runs: the frames from an operator's ``execute`` to the HTTP client, measured
in real DAG runs against the sandbox (the targets and how they are counted: docs/architecture.md).

At the moment ``requests`` is called, two things are counted:

- the stack frames between ``SendDocumentOperator.execute`` and ``requests.Session.send``
  (``send_document``, ``run_flow``, the executor's ``run``, ``perform`` and ``_send``);
- the generators the request passed on its way up from its flow to the executor: the chain of
  ``yield from`` delegation from the pipeline the executor drives down to the one that yielded the
  request (``run``, ``call``, ``http``). The flow itself is not in the chain: the pipeline's
  ``run`` drives it with ``send``, so however many vendor steps a flow is built from (a send is a
  reconciliation flow around the vendor's create), the request crosses the same three generators.

A login (once per process and credentials) runs its own flow through the same three, inside the
credentials step of the call that needed it; it is reported apart.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import pytest

from tests.e2e.conftest import run_dag

pytestmark = pytest.mark.e2e

MAX_FRAMES = 8
MAX_GENERATOR_LEVELS = 3


@dataclass
class Path:
    operation: str
    frames: list[str]
    generators: list[str]

    @property
    def login(self) -> bool:
        return "credentials" in self.generators

    @property
    def depth(self) -> int:
        return len(self.frames) + len(self.generators)


def _chain(top) -> list[str]:
    """The generators of a ``yield from`` chain, outermost first."""
    names = []
    while top is not None and hasattr(top, "gi_code"):
        names.append(top.gi_code.co_name)
        top = top.gi_yieldfrom
    return names


def _measure(operation: str) -> Path | None:
    from airflow_provider_esign.hooks.transport import SyncExecutor
    from airflow_provider_esign.operators.send import SendDocumentOperator

    frame = sys._getframe(2)  # the caller of Session.send (this helper and the wrapper skipped)
    frames, pipeline = [], None
    while frame is not None:
        owner = frame.f_locals.get("self")
        if frame.f_code.co_name == "execute" and isinstance(owner, SendDocumentOperator):
            return Path(operation, frames[::-1], _chain(pipeline))
        if frame.f_code.co_name == "run" and isinstance(owner, SyncExecutor):
            pipeline = frame.f_locals["step"].pipeline
        frames.append(frame.f_code.co_name)
        frame = frame.f_back
    return None  # not a request of a send operator


@pytest.mark.parametrize("vendor", ["legalesign", "esignbase", "wesignature"])
def test_a_send_reaches_the_http_client_within_eight_frames(sandbox, monkeypatch, vendor):
    import requests

    from airflow_provider_esign.hooks.credentials import CREDENTIALS

    CREDENTIALS.clear()  # eSignBase and WeSignature log in during the run: that path is measured too
    paths: list[Path] = []
    real_send = requests.Session.send

    def measuring_send(session, prepared, **kwargs):
        path = _measure(f"{prepared.method} {prepared.url.rsplit('/', 2)[-2:]}")
        if path is not None:
            paths.append(path)
        return real_send(session, prepared, **kwargs)

    monkeypatch.setattr(requests.Session, "send", measuring_send)
    run_dag(f"e2e_{vendor}_cancel")  # a send, then a cancel (WeSignature has none: the run may fail)

    calls = [p for p in paths if not p.login]
    assert calls, f"no request of the send operator was measured: {paths}"
    for path in calls:
        assert path.frames == ["send_document", "run_flow", "run", "perform", "_send"], path
        assert path.generators == ["run", "call", "http"], path
        assert path.depth <= MAX_FRAMES
    for path in (p for p in paths if p.login):
        # The login's own pipeline: the same three generators below the credentials step.
        assert path.generators[path.generators.index("credentials") + 1 :] == ["run", "call", "http"], path
    if vendor != "legalesign":  # static API key: no login call
        assert any(p.login for p in paths), "the login path was not measured"
