"""Stdlib-only client for a running sandbox's control API, plus Airflow connection helpers."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from esign_sandbox.config import VENDORS, SandboxConfig
from esign_sandbox.credentials import LEGALESIGN_WEBHOOK_TOKEN

#: Path of each vendor's API root on the sandbox; the Airflow connection ``host`` is ``url + path``.
VENDOR_PATHS: dict[str, str] = {
    "legalesign": "/legalesign/api/v1",
    "wesignature": "/wesignature/apihandler",
    "esignbase": "/esignbase",
}
DEFAULT_CONN_IDS: dict[str, str] = {v: f"{v}_default" for v in VENDORS}


class SandboxError(RuntimeError):
    """
    A control API call failed.

    :param status: HTTP status.
    :param body: decoded response body.
    """

    def __init__(self, status: int, body: Any) -> None:
        super().__init__(f"sandbox control API answered {status}: {body}")
        self.status = status
        self.body = body


def connections_env(
    base_url: str,
    config: SandboxConfig | None = None,
    *,
    suffix: str = "",
    conn_ids: dict[str, str] | None = None,
    rate_limit_per_minute: int | None = None,
    vendors: list[str] | tuple[str, ...] = VENDORS,
) -> dict[str, str]:
    """
    Airflow connections (JSON form) pointing at a sandbox.

    :param base_url: the sandbox root, e.g. ``http://127.0.0.1:8765``.
    :param config: the sandbox configuration holding the credentials (defaults are used when ``None``).
    :param suffix: appended to every default connection id (``legalesign_default`` + suffix).
    :param conn_ids: explicit vendor -> connection id; wins over ``suffix``.
    :param rate_limit_per_minute: when set, added to each connection's extra as ``rate_limit_per_minute``.
    :param vendors: which vendors to include.
    :return: ``{"AIRFLOW_CONN_<ID>": "<json>"}``.
    """
    cfg = config or SandboxConfig()
    base = base_url.rstrip("/")
    connections: dict[str, dict[str, Any]] = {
        "legalesign": {
            "conn_type": "legalesign",
            "host": base + VENDOR_PATHS["legalesign"],
            "login": cfg.legalesign_username,
            "password": cfg.legalesign_secret,
            "extra": {
                "group": cfg.legalesign_group,
                "webhooks_enabled": True,
                "webhook_secret": LEGALESIGN_WEBHOOK_TOKEN,
            },
        },
        "wesignature": {
            "conn_type": "wesignature",
            "host": base + VENDOR_PATHS["wesignature"],
            "login": cfg.wesignature_email,
            "password": cfg.wesignature_password,
            "extra": {},
        },
        "esignbase": {
            "conn_type": "esignbase",
            "host": base + VENDOR_PATHS["esignbase"],
            "login": cfg.esignbase_client_id,
            "password": cfg.esignbase_client_secret,
            "extra": {
                "scopes": "all",
                "sandbox": True,
                "webhooks_enabled": True,
                "webhook_secret": cfg.esignbase_webhook_secret,
            },
        },
    }
    env: dict[str, str] = {}
    for vendor in vendors:
        connection = connections[vendor]
        if rate_limit_per_minute is not None:
            connection["extra"]["rate_limit_per_minute"] = rate_limit_per_minute
        conn_id = (conn_ids or {}).get(vendor) or DEFAULT_CONN_IDS[vendor] + suffix
        env[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps(connection)
    return env


class SandboxClient:
    """
    Talks to the control API of a sandbox at ``url`` (in this process or elsewhere).

    :param url: the sandbox root URL.
    :param timeout: per-request timeout in seconds.
    """

    def __init__(self, url: str, timeout: float = 60.0) -> None:
        self._url = url.rstrip("/")
        self.timeout = timeout
        # Loopback traffic must never go through a proxy picked up from the environment.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def url(self) -> str:
        """:return: the sandbox root URL, e.g. ``http://127.0.0.1:8765``."""
        return self._url

    def vendor_url(self, vendor: str) -> str:
        """
        :param vendor: ``legalesign``, ``wesignature`` or ``esignbase``.
        :return: the vendor's API root, which is the Airflow connection ``host``.
        """
        if vendor not in VENDOR_PATHS:
            raise ValueError(f"vendor must be one of {list(VENDOR_PATHS)}")
        return self.url + VENDOR_PATHS[vendor]

    def _config_for_connections(self) -> SandboxConfig:
        return SandboxConfig(**self.config())

    def airflow_connections(
        self,
        *,
        suffix: str = "",
        conn_ids: dict[str, str] | None = None,
        rate_limit_per_minute: int | None = None,
        vendors: list[str] | tuple[str, ...] = VENDORS,
    ) -> dict[str, str]:
        """
        Environment variables defining Airflow connections to this sandbox; see :func:`connections_env`.

        :param suffix: appended to every default connection id.
        :param conn_ids: explicit vendor -> connection id.
        :param rate_limit_per_minute: passthrough added to each connection extra.
        :param vendors: which vendors to include.
        """
        return connections_env(
            self.url,
            self._config_for_connections(),
            suffix=suffix,
            conn_ids=conn_ids,
            rate_limit_per_minute=rate_limit_per_minute,
            vendors=vendors,
        )

    # -- transport ---------------------------------------------------------------------------------------
    def _call(self, method: str, path: str, body: Any = None) -> bytes:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + "/_sandbox" + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                decoded: Any = json.loads(raw)
            except ValueError:
                decoded = raw.decode("utf-8", errors="replace")
            raise SandboxError(exc.code, decoded) from None

    def _json(self, method: str, path: str, body: Any = None) -> Any:
        return json.loads(self._call(method, path, body))

    # -- control API ---------------------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        """:return: ``{"status": "ok", ...}``."""
        return self._json("GET", "/health")

    def reset(self, config: bool = False) -> None:
        """
        Clear all documents, tokens, counters and queued faults, and rewind the clock.

        :param config: also restore the configuration the server started with.
        """
        self._json("POST", "/reset", {"config": config})

    def config(self) -> dict[str, Any]:
        """:return: the current configuration."""
        return self._json("GET", "/config")

    def configure(self, **changes: Any) -> dict[str, Any]:
        """
        Change configuration fields (see :class:`SandboxConfig`).

        :return: the new configuration.
        """
        return self._json("POST", "/config", changes)

    def documents(self, vendor: str | None = None) -> list[dict[str, Any]]:
        """
        :param vendor: restrict to one vendor.
        :return: every document (deleted ones flagged) in creation order.
        """
        suffix = f"?vendor={vendor}" if vendor else ""
        return self._json("GET", "/documents" + suffix)["documents"]

    def document(self, vendor: str, doc_id: str) -> dict[str, Any]:
        """:return: one document summary."""
        return self._json("GET", f"/documents/{vendor}/{doc_id}")

    def sign(self, vendor: str, doc_id: str, email: str | None = None) -> dict[str, Any]:
        """Sign now for ``email``, or for every signer who has not signed yet."""
        return self._json("POST", f"/documents/{vendor}/{doc_id}/sign", {"email": email} if email else {})

    def decline(
        self, vendor: str, doc_id: str, email: str | None = None, reason: str | None = None
    ) -> dict[str, Any]:
        """
        Decline now, as ``email`` or the first signer who has not signed.

        :param reason: the rejection reason (Legalesign ``GET /signer/{id}/rejection/``).
        """
        body = {k: v for k, v in (("email", email), ("reason", reason)) if v}
        return self._json("POST", f"/documents/{vendor}/{doc_id}/decline", body)

    def void(self, vendor: str, doc_id: str) -> dict[str, Any]:
        """Void (cancel) the document now."""
        return self._json("POST", f"/documents/{vendor}/{doc_id}/void", {})

    def expire(self, vendor: str, doc_id: str) -> dict[str, Any]:
        """Make the document expire now."""
        return self._json("POST", f"/documents/{vendor}/{doc_id}/expire", {})

    def create_document(
        self,
        vendor: str,
        *,
        name: str = "Sandbox document",
        signers: list[dict[str, Any]] | None = None,
        status: str = "created",
        pdf_size: int | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """
        Create a document directly, optionally already in a later state.

        :param vendor: vendor name.
        :param name: document name.
        :param signers: ``[{"name" | "first_name"/"last_name", "email"}]``.
        :param status: ``created`` (normal lifecycle), ``sent``, ``partially_signed``, ``signed``,
            ``completed``, ``declined``, ``voided`` or ``expired``.
        :param pdf_size: exact final PDF size in bytes (for large-download benchmarks).
        :param extra: vendor fields: ``tag``/``tag1``/``tag2``, ``metadata``, ``template_id``, ``file_url``,
            ``sign_type``, ``sign_delay`` …
        :return: the document summary (``id`` is the vendor id).
        """
        body: dict[str, Any] = {"name": name, "status": status, **extra}
        if signers is not None:
            body["signers"] = signers
        if pdf_size is not None:
            body["pdf_size"] = pdf_size
        return self._json("POST", f"/documents/{vendor}", body)

    def pdf_bytes(self, vendor: str, doc_id: str) -> bytes:
        """:return: the canonical final PDF (for byte-identity checks)."""
        return self._call("GET", f"/documents/{vendor}/{doc_id}/pdf")

    def set_faults(
        self,
        rate: float | dict[str, Any],
        kinds: list[str] | None = None,
        seed: int = 0,
        vendors: list[str] | None = None,
        **options: Any,
    ) -> dict[str, Any]:
        """
        Install a seeded random fault plan (resets the request counter).

        :param rate: probability of a fault per vendor request, or a whole plan
            ``{"rate", "kinds", "seed", "vendors", "retry_after", "slow_seconds"}``.
        :param kinds: fault kinds to draw from (all when ``None``).
        :param seed: plan seed.
        :param vendors: restrict to these vendors.
        :param options: ``retry_after``, ``slow_seconds``.
        """
        if isinstance(rate, dict):
            return self._json("POST", "/faults", rate)
        plan: dict[str, Any] = {"rate": rate, "seed": seed, **options}
        if kinds is not None:
            plan["kinds"] = kinds
        if vendors is not None:
            plan["vendors"] = vendors
        return self._json("POST", "/faults", plan)

    def queue_fault(
        self,
        kind: str,
        vendor: str | None = None,
        path_contains: str | None = None,
        method: str | None = None,
    ) -> dict[str, Any]:
        """Make the next matching vendor request fail with ``kind`` (one shot)."""
        body = {"kind": kind, "vendor": vendor, "path_contains": path_contains, "method": method}
        return self._json("POST", "/faults/next", {k: v for k, v in body.items() if v is not None})

    def clear_faults(self) -> None:
        """Remove the random plan and every queued fault."""
        self._json("DELETE", "/faults")

    def stats(self) -> dict[str, Any]:
        """:return: request, status, throttle, token, login, connection and webhook counters."""
        return self._json("GET", "/stats")

    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """:return: every eSignBase hook delivery attempt."""
        return self._json("GET", "/webhooks")["deliveries"]

    def seed_history(
        self, count: int, vendors: list[str] | tuple[str, ...] | None = None, years: float = 5.0
    ) -> dict[str, int]:
        """
        Add ``count`` final historical documents per vendor, created over the past ``years``: 90% completed,
        5% voided, 5% declined (reproducible for a given server seed). They are indexed at once, so list
        pages stay O(page) at any account size.

        :param count: documents per vendor.
        :param vendors: vendors to seed (all when ``None``).
        :param years: how far back the oldest document was created.
        :return: vendor -> documents added.
        """
        body: dict[str, Any] = {"count": count, "years": years}
        if vendors is not None:
            body["vendors"] = list(vendors)
        return self._json("POST", "/seed", body)["created"]

    def requests(
        self,
        *,
        vendor: str | None = None,
        method: str | None = None,
        path: str | None = None,
        path_contains: str | None = None,
        status: int | None = None,
        fault: str | None = None,
        since_seq: int | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """
        The request journal: every vendor request served since the last reset, oldest first, each
        ``{seq, time, vendor, method, path, query, headers, body, status, fault, duration_ms}`` with
        credentials redacted (``"***"``).

        :param vendor: only this vendor.
        :param method: only this HTTP method.
        :param path: only this exact path.
        :param path_contains: only paths containing this.
        :param status: only this response status.
        :param fault: a fault kind, ``any`` (some fault or rate limit) or ``none``.
        :param since_seq: only entries after this ``seq``.
        :param limit: only the newest ``limit`` matches.
        """
        filters = {
            "vendor": vendor, "method": method, "path": path, "path_contains": path_contains,
            "status": status, "fault": fault, "since_seq": since_seq, "limit": limit,
        }  # fmt: skip
        query = urllib.parse.urlencode({k: v for k, v in filters.items() if v is not None})
        return self._json("GET", "/requests" + (f"?{query}" if query else ""))["requests"]

    def clear_requests(self) -> None:
        """Empty the request journal (a reset also does)."""
        self._json("DELETE", "/requests")

    def advance_clock(self, seconds: float) -> float:
        """
        Move the sandbox clock forward.

        :return: the new sandbox time.
        """
        return float(self._json("POST", "/clock/advance", {"seconds": seconds})["now"])

    def now(self) -> float:
        """:return: the sandbox time."""
        return float(self._json("GET", "/clock")["now"])
