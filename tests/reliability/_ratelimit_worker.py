"""Runs in a spawned process for test_rate_limit: one worker of a rate-limited batch."""

from __future__ import annotations

import os


def read_documents(conn_id: str, document_id: str, calls: int, state_dir: str = "") -> tuple[int, str]:
    """``calls`` document reads through a fresh hook, one attempt each (a 429 is not retried).

    :param state_dir: this process's own local rate-limit state (as on a host of its own); empty keeps
        the inherited one.
    :return: reads done, and the error that stopped the worker ("" if none).
    """
    if state_dir:
        os.environ["AIRFLOW__ESIGN__RATELIMIT_DIR"] = state_dir
    from airflow_provider_esign.hooks.legalesign import LegalesignHook

    hook = LegalesignHook(conn_id, max_attempts=1)
    for done in range(calls):
        try:
            hook.get_document(document_id)
        except Exception as exc:
            return done, repr(exc)
    return calls, ""
