"""The large-PDF download: peak memory (vs ``response.content``) and throughput (vs ``curl``).

Setup: one completed eSignBase document whose final PDF is ``pdf_bytes`` long (served streaming by the
sandbox, with ``Content-Length`` and ranges). Every contender fetches the same URL from the same sandbox
with the same bearer token, writing to a file in the run's temporary directory:

* provider: ``ESignBaseHook.download_document(id, file)`` (one ``get_document``, then the verified
  streaming download: PDF magic, length, SHA-256 computed), in a fresh process, its hook warmed up;
* naive: ``requests.get(url).content`` then one write, in a fresh process (memory baseline);
* curl: ``curl -o file`` (throughput baseline; its own ``time_total``). Without curl on the machine, a
  stdlib ``http.client`` streaming loop in a fresh process stands in, and the table says so.

Each contender runs ``download_runs`` times interleaved; the best time and the worst memory are kept.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

from benchmarks.common import MB, REPO, Result, SandboxProcess, Sizes, child_env, set_connections


def _child(mode: str, document_id: str, destination: str, url: str, token: str) -> dict:
    spec = {"mode": mode, "document_id": document_id, "destination": destination, "url": url, "token": token}
    command = [sys.executable, "-m", "benchmarks._download_child"]
    done = subprocess.run(
        command,
        input=json.dumps(spec),
        cwd=REPO,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise RuntimeError(f"download child {mode} failed: {done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _curl(curl: str, url: str, token: str, destination: str) -> dict:
    # The token goes through stdin (a curl config), never the command line or the output.
    config = f'url = "{url}"\nheader = "Authorization: Bearer {token}"\nheader = "Accept: application/pdf"\n'
    command = [
        curl,
        "-sS",
        "--fail",
        "--noproxy",
        "*",
        "-o",
        destination,
        "-w",
        "%{time_total} %{size_download}",
    ]
    done = subprocess.run([*command, "-K", "-"], input=config, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"curl failed with exit status {done.returncode}")
    seconds, size = done.stdout.split()
    return {"mode": "curl", "seconds": float(seconds), "bytes": int(float(size))}


def run(sandbox: SandboxProcess, sizes: Sizes, workdir: str) -> list[Result]:
    client = sandbox.fresh(sign_delay=None)
    set_connections(sandbox.url)
    size = sizes.pdf_bytes
    document_id = client.create_document(
        "esignbase", name="Large contract", status="completed", pdf_size=size
    )["id"]
    from airflow_provider_esign.hooks.esignbase import ESignBaseHook
    from airflow_provider_esign.hooks.pipeline import resolve_url

    hook = ESignBaseHook("esignbase_default")
    hook.get_document(document_id)
    token = hook.credentials().values["access_token"]  # type: ignore[union-attr]
    url = resolve_url(hook.settings.base_url, f"api/document/{document_id}/download")
    curl = shutil.which("curl")
    baseline_mode = "curl" if curl else "stdlib"

    folder = tempfile.mkdtemp(prefix="downloads-", dir=workdir)
    destination = os.path.join(folder, "contract.pdf")
    runs: dict[str, list[dict]] = {"provider": [], "naive": [], baseline_mode: []}
    try:
        for _ in range(sizes.download_runs):
            for mode in ("provider", baseline_mode, "naive"):
                if mode == "curl":
                    outcome = _curl(str(curl), url, token, destination)
                else:
                    outcome = _child(mode, document_id, destination, url, token)
                written = os.path.getsize(destination)
                if outcome["bytes"] != size or written != size:
                    raise RuntimeError(
                        f"{mode} fetched {outcome['bytes']} bytes ({written} written), not {size}"
                    )
                os.remove(destination)
                runs[mode].append(outcome)
    finally:
        shutil.rmtree(folder, ignore_errors=True)

    provider_peak = max(r["peak_increase_mb"] for r in runs["provider"])
    naive_peak = max(r["peak_increase_mb"] for r in runs["naive"])
    provider_rate = size / MB / min(r["seconds"] for r in runs["provider"])
    baseline_rate = size / MB / min(r["seconds"] for r in runs[baseline_mode])
    label = f"{size // MB} MB"
    reset = all(r.get("peak_reset") for r in runs["provider"] + runs["naive"])
    baseline_label = "curl -o file" if curl else "stdlib http.client stream; curl missing"
    return [
        Result(
            figure=f"Peak RSS increase, {label} PDF download to a file",
            value=round(provider_peak, 1),
            unit="MB",
            baseline=round(naive_peak, 1),
            baseline_label="requests.get().content",
            target="< 32 MB",
            passed=provider_peak < 32,
            note=(
                "fresh process each, RSS read right before the download; peak RSS "
                + ("reset just before the download (clear_refs)" if reset else "read as ru_maxrss/VmHWM")
                + "; provider streams 1 MB chunks into the file and verifies PDF magic, length, SHA-256"
            ),
            details={"runs": runs},
        ),
        Result(
            figure=f"Download throughput, {label} PDF",
            value=round(provider_rate, 1),
            unit="MB/s",
            baseline=round(baseline_rate, 1),
            baseline_label=baseline_label,
            target=f">= half of {baseline_mode}",
            passed=provider_rate * 2 >= baseline_rate,
            note=(
                f"same URL, token and sandbox; best of {sizes.download_runs}; provider time includes its "
                f"get_document call and verification; {baseline_rate / provider_rate:.2f}x the provider's time"
            ),
            details={"runs": runs},
        ),
    ]
