"""One download in a fresh process: ``python -m benchmarks._download_child`` with a JSON spec on stdin.

Spec: ``{"mode": "provider" | "naive" | "stdlib", "document_id", "destination", "url", "token"}``. The
provider mode warms its hook up first (imports, token, one ``get_document``); the baselines get the URL
and the same bearer token from the parent (through stdin, never the command line) and import only what
they use. The process's RSS is read just before the download, its peak is reset (Linux ``clear_refs``)
and read again after: the increase is what the download itself cost.

Prints one JSON line: ``{"mode", "seconds", "bytes", "rss_before_mb", "peak_mb", "peak_increase_mb",
"peak_reset"}``.
"""

from __future__ import annotations

import gc
import json
import sys
import time


def main(spec: dict) -> int:
    from benchmarks.common import peak_rss_mb, reset_peak_rss, rss_mb

    mode, document_id, destination = spec["mode"], spec["document_id"], spec["destination"]
    url, token = spec["url"], spec["token"]
    if mode == "provider":
        from airflow_provider_esign.hooks.esignbase import ESignBaseHook
        from benchmarks.common import quiet_logging

        quiet_logging()
        hook = ESignBaseHook("esignbase_default")
        hook.get_document(document_id)  # warm-up: settings, token, session, lazy imports
    elif mode == "naive":
        import requests
    gc.collect()
    before = rss_mb()
    reset = reset_peak_rss()
    floor = rss_mb() if reset else peak_rss_mb()
    started = time.perf_counter()
    if mode == "provider":
        with open(destination, "wb") as out:
            size = hook.download_document(document_id, out).size
    elif mode == "naive":
        response = requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=300)
        response.raise_for_status()
        data = response.content
        with open(destination, "wb") as out:
            out.write(data)
        size = len(data)
    elif mode == "stdlib":  # the throughput baseline when curl is missing: a plain streaming loop
        import http.client
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=300)
        connection.request("GET", parts.path, headers={"Authorization": f"Bearer {token}"})
        answer = connection.getresponse()
        if answer.status != 200:
            raise SystemExit(f"HTTP {answer.status}")
        size = 0
        with open(destination, "wb") as out:
            while chunk := answer.read(1024 * 1024):
                out.write(chunk)
                size += len(chunk)
        connection.close()
    else:
        raise SystemExit(f"unknown mode {mode!r}")
    seconds = time.perf_counter() - started
    peak = peak_rss_mb()
    print(
        json.dumps(
            {
                "mode": mode,
                "seconds": seconds,
                "bytes": size,
                "rss_before_mb": before,
                "peak_mb": peak,
                "peak_increase_mb": max(0.0, peak - max(before, floor)),
                "peak_reset": reset,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(json.loads(sys.stdin.read())))
