"""One process sharing an eSignBase Authorization Code grant (test_esignbase_grant_concurrency).

Reads commands from stdin, one per line, and answers each with one ``RESULT ...`` line on stdout:
``send <name>`` sends a document, ``read`` reads it back (blocking hook, as a worker task does, or the
hook's async path, as the deferrable wait's trigger does, with ``--async``). With ``--victim``,
``hang-read`` makes the process stop for good the moment it holds the refresh lock (it says
``RESULT holding``), so the test
can SIGKILL a refresher at a known point instead of guessing a moment with sleeps.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import threading


def answer(text: str) -> None:
    sys.stdout.write(f"RESULT {text}\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("conn_id")
    parser.add_argument("--async", dest="use_async", action="store_true")
    parser.add_argument("--victim", action="store_true")
    args = parser.parse_args()

    from airflow_provider_esign.hooks.esignbase import ESignBaseHook
    from airflow_provider_esign.hooks.esignbase.grant_store import RedisGrantStore
    from airflow_provider_esign.models import SendRequest, Signer

    armed = threading.Event()
    if args.victim:
        acquire = RedisGrantStore.try_acquire

        def acquire_then_hang(self, holder, lease_ms):  # type: ignore[no-untyped-def]
            lease = acquire(self, holder, lease_ms)
            if lease is not None and armed.is_set():
                answer("holding")
                threading.Event().wait()  # never returns: the test kills this process here
            return lease

        RedisGrantStore.try_acquire = acquire_then_hang  # type: ignore[method-assign]

    hook = ESignBaseHook(args.conn_id, max_attempts=1)
    document_id = ""
    loop = asyncio.new_event_loop()
    answer("ready")
    for line in sys.stdin:
        command, _, value = line.strip().partition(" ")
        if command == "hang-read":  # the victim: read, and stop for good once it holds the lock
            armed.set()
            command = "read"
        try:
            if command == "send":
                request = SendRequest(
                    name=value, signers=(Signer("Ada Lovelace", "ada@example.com"),), template_id="tpl-nda"
                )
                document_id = hook.send_document(request, idempotency_key=value).document_id
                answer(f"ok {document_id}")
            elif command == "read":
                if args.use_async:
                    doc = loop.run_until_complete(hook.aget_document(document_id))
                else:
                    doc = hook.get_document(document_id)
                answer(f"ok {doc.status.value}")
            else:
                answer(f"error unknown command {command!r}")
        except Exception as exc:
            answer(f"error {type(exc).__name__}: {exc}")
    loop.close()


if __name__ == "__main__":
    main()
