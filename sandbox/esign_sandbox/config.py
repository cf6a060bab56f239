"""Runtime configuration of the e-signature sandbox (stdlib only, cheap to import)."""

from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from esign_sandbox import credentials

VENDORS: tuple[str, ...] = ("legalesign", "wesignature", "esignbase")
#: List orders a vendor list can be served in (by creation time).
LIST_ORDERS: tuple[str, ...] = ("oldest_first", "newest_first")

#: Every fault kind the sandbox can inject.
FAULT_KINDS: tuple[str, ...] = ("429", "500", "503", "reset", "slow", "drop_after_commit", "truncate")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def validate_fault_plan(plan: Any) -> dict[str, Any]:
    """
    Validate and normalise a random fault plan.

    :param plan: ``{"rate": 0.1, "kinds": ["500", "reset"], "seed": 7, "vendors": [...]}``; optional
        ``retry_after`` (seconds sent with injected 429s, default 1) and ``slow_seconds`` (default 1.0).
    :return: the normalised plan.
    :raises ValueError: when the plan is malformed.
    """
    if not isinstance(plan, dict):
        raise ValueError("faults must be an object")
    allowed = {"rate", "kinds", "seed", "vendors", "retry_after", "slow_seconds"}
    unknown = sorted(set(plan) - allowed)
    if unknown:
        raise ValueError(f"unknown fault option(s): {', '.join(unknown)}")
    rate = plan.get("rate", 0.0)
    if not _is_number(rate) or not 0.0 <= rate <= 1.0:
        raise ValueError("faults.rate must be a number between 0 and 1")
    kinds = plan.get("kinds", list(FAULT_KINDS))
    if not isinstance(kinds, list) or not kinds or any(k not in FAULT_KINDS for k in kinds):
        raise ValueError(f"faults.kinds must be a non-empty list drawn from {list(FAULT_KINDS)}")
    seed = plan.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise ValueError("faults.seed must be an integer")
    vendors = plan.get("vendors")
    if vendors is not None and (not isinstance(vendors, list) or any(v not in VENDORS for v in vendors)):
        raise ValueError(f"faults.vendors must be a list drawn from {list(VENDORS)}")
    retry_after = plan.get("retry_after", 1)
    if not _is_number(retry_after) or retry_after < 0:
        raise ValueError("faults.retry_after must be a non-negative number")
    slow_seconds = plan.get("slow_seconds", 1.0)
    if not _is_number(slow_seconds) or slow_seconds < 0:
        raise ValueError("faults.slow_seconds must be a non-negative number")
    return {
        "rate": float(rate),
        "kinds": list(kinds),
        "seed": seed,
        "vendors": list(vendors) if vendors is not None else None,
        "retry_after": retry_after,
        "slow_seconds": float(slow_seconds),
    }


def validate_rate_limits(limits: Any) -> dict[str, dict[str, Any]]:
    """
    Validate the per-vendor rate limits.

    :param limits: ``{"legalesign": {"calls": 100, "window_seconds": 60}}``. Each entry may also carry
        ``retry_after`` (bool): whether 429 answers carry a ``Retry-After`` header. It defaults to true for
        WeSignature and eSignBase and to :attr:`SandboxConfig.legalesign_retry_after` for Legalesign.
    :return: the normalised limits.
    :raises ValueError: when the limits are malformed.
    """
    if not isinstance(limits, dict):
        raise ValueError("rate_limits must be an object keyed by vendor")
    result: dict[str, dict[str, Any]] = {}
    for vendor, spec in limits.items():
        if vendor not in VENDORS:
            raise ValueError(f"rate_limits: unknown vendor {vendor!r}")
        if spec is None:
            continue
        if not isinstance(spec, dict) or set(spec) - {"calls", "window_seconds", "retry_after"}:
            raise ValueError(f"rate_limits.{vendor} must be {{calls, window_seconds, retry_after?}}")
        calls = spec.get("calls")
        window = spec.get("window_seconds", 60)
        if not isinstance(calls, int) or isinstance(calls, bool) or calls < 1:
            raise ValueError(f"rate_limits.{vendor}.calls must be a positive integer")
        if not _is_number(window) or window <= 0:
            raise ValueError(f"rate_limits.{vendor}.window_seconds must be a positive number")
        entry: dict[str, Any] = {"calls": calls, "window_seconds": float(window)}
        if "retry_after" in spec:
            if not isinstance(spec["retry_after"], bool):
                raise ValueError(f"rate_limits.{vendor}.retry_after must be a boolean")
            entry["retry_after"] = spec["retry_after"]
        result[vendor] = entry
    return result


@dataclass
class SandboxConfig:
    """
    Behaviour knobs of the sandbox. All times are sandbox-clock seconds unless stated otherwise.

    :param sign_delay: seconds between one signer signing and the next; ``0`` signs immediately, ``None``
        disables automatic signing (drive it with the control API).
    :param send_delay: seconds from creation until a document goes out for signature.
    :param pdf_delay: seconds per post-signing processing step (final PDF generation, digital signature).
    :param token_ttl: lifetime of eSignBase access tokens.
    :param webhook_url: eSignBase "Document Completed Hook" URL; ``None`` disables the hook.
    :param webhook_attempts: delivery attempts per completed document (first try included).
    :param webhook_retry_delay: real seconds before the first retry; doubles per retry.
    :param webhook_timeout: real seconds to wait for the receiver.
    :param rate_limits: per-vendor sliding-window limits, see :func:`validate_rate_limits`.
    :param legalesign_redirect_ratio: share of documents whose ``GET /pdf/{id}/`` answers 302 to a
        short-lived URL instead of 200 (the choice per document is a pure function of the seed and the id).
    :param legalesign_redirect_ttl: lifetime of that short-lived URL.
    :param legalesign_retry_after: ``Retry-After`` seconds for Legalesign 429s; ``None`` sends none,
        since Legalesign documents none.
    :param legalesign_allowed_recipients: when set, emulate the Legalesign trial restriction: sending to
        any other address answers 401.
    :param esignbase_initial_credits: credits available after a reset.
    :param faults: random fault plan (see :func:`validate_fault_plan`) or ``None``.
    :param tick_interval: real seconds between background checks (webhooks).
    :param log_requests: log one access-log line per vendor request (logger
        ``esign_sandbox.access``; secrets redacted as in the journal).
    :param journal_size: most requests the journal keeps (oldest dropped first).
    :param list_order: order of every vendor list, by creation time: ``oldest_first`` or ``newest_first``.
        No vendor documents its order, so clients must cope with either.
    :param list_order_by_vendor: per-vendor override of ``list_order``, e.g. ``{"esignbase": "newest_first"}``.
    :param legalesign_auto_archive_delay: seconds after the final PDF is ready at which a Legalesign document
        sent with ``auto_archive`` (the vendor default: true) is archived and leaves the default list
        (``archived=false``). Legalesign only says "soon after signing"; ``None`` (default) never
        auto-archives. The delay is fixed per document when it is created.
    :param legalesign_signer_values: the 8-element ``signers`` rows as ``"strings"`` (the official spec's and
        SDK's type: every item a string) or ``"native"`` (the spec's examples: booleans and integers).
    :param legalesign_create_body: body of the 201 to ``POST /document/`` without ``return_signer_links``:
        ``"json"`` (``{}``, what the official SDK's ``DocumentCreateResponse`` model parses) or ``"empty"``
        (the spec only promises the ``Location`` header).
    :param legalesign_location: ``Location`` of a Legalesign 201: ``"absolute"`` URL or ``"path"``
        (``/api/v1/...``); the spec does not say.
    :param legalesign_dearchive_delay: when set, ``GET /pdf/{id}/`` of an *archived* document first answers
        ``legalesign_dearchive_status`` ("being de-archived, available in 4 hours") until this many seconds
        after the first request; ``None`` (default) serves archived PDFs at once.
    :param legalesign_dearchive_status: that answer's status: 201 (the spec) or 202 (a third-party client).
    :param wesignature_sign_type_table: ``"documented"``: 0 i-sign, 1 we-sign, 2 they-sign and the vendor
        example's 3 they-sign; ``"shifted"``: 1 i-sign, 2 we-sign, 3 they-sign (0 i-sign), the reading in
        which the documented table is off by one.
    :param wesignature_list_max: most documents ``getsentdocumentsapi`` returns (the first ones in list
        order); ``None`` returns the whole account. The vendor documents no paging and does not say whether
        a large account's list is truncated.
    :param esignbase_redirect_uris: redirect URIs registered on the eSignBase OAuth2 client (the
        Authorization Code grant matches them exactly).
    :param esignbase_code_ttl: lifetime of an eSignBase authorization code (short-lived, single-use).
    :param esignbase_user_email: the account the consent page asks about.
    :param wesignature_decline_cancels: whether a signer's rejection also moves the WeSignature document to
        ``"2"`` (cancelled); the vendor does not say, so by default it stays ``"1"``.
    """

    sign_delay: float | None = 2.0
    send_delay: float = 0.5
    pdf_delay: float = 0.5
    token_ttl: float = 300.0
    webhook_url: str | None = None
    webhook_attempts: int = 4
    webhook_retry_delay: float = 0.2
    webhook_timeout: float = 5.0
    rate_limits: dict[str, dict[str, Any]] = field(default_factory=dict)
    legalesign_redirect_ratio: float = 0.5
    legalesign_redirect_ttl: float = 300.0
    legalesign_retry_after: float | None = None
    legalesign_allowed_recipients: list[str] | None = None
    esignbase_initial_credits: int = credentials.ESIGNBASE_INITIAL_CREDITS
    faults: dict[str, Any] | None = None
    tick_interval: float = 0.1
    log_requests: bool = False
    journal_size: int = 10_000
    list_order: str = "oldest_first"
    list_order_by_vendor: dict[str, str] = field(default_factory=dict)
    legalesign_auto_archive_delay: float | None = None
    legalesign_signer_values: str = "strings"
    legalesign_create_body: str = "json"
    legalesign_location: str = "absolute"
    legalesign_dearchive_delay: float | None = None
    legalesign_dearchive_status: int = 201
    wesignature_sign_type_table: str = "documented"
    wesignature_decline_cancels: bool = False
    wesignature_list_max: int | None = None
    legalesign_username: str = credentials.LEGALESIGN_USERNAME
    legalesign_secret: str = credentials.LEGALESIGN_SECRET
    legalesign_group: str = credentials.LEGALESIGN_GROUP
    wesignature_email: str = credentials.WESIGNATURE_EMAIL
    wesignature_password: str = credentials.WESIGNATURE_PASSWORD
    wesignature_user_id: str = credentials.WESIGNATURE_USER_ID
    wesignature_api_key: str = credentials.WESIGNATURE_API_KEY
    esignbase_client_id: str = credentials.ESIGNBASE_CLIENT_ID
    esignbase_client_secret: str = credentials.ESIGNBASE_CLIENT_SECRET
    esignbase_webhook_secret: str = credentials.ESIGNBASE_WEBHOOK_SECRET
    esignbase_redirect_uris: list[str] = field(default_factory=lambda: ["http://127.0.0.1:8765/callback"])
    esignbase_code_ttl: float = 60.0
    esignbase_user_email: str = "sandbox-user@example.com"

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """
        Check every field.

        :raises ValueError: on the first invalid field.
        """
        if self.sign_delay is not None and (not _is_number(self.sign_delay) or self.sign_delay < 0):
            raise ValueError("sign_delay must be a non-negative number or null")
        for name in ("send_delay", "pdf_delay", "webhook_retry_delay", "legalesign_redirect_ttl"):
            value = getattr(self, name)
            if not _is_number(value) or value < 0:
                raise ValueError(f"{name} must be a non-negative number")
        uris = self.esignbase_redirect_uris
        if not isinstance(uris, list) or not all(isinstance(u, str) and "://" in u for u in uris):
            raise ValueError("esignbase_redirect_uris must be a list of absolute URIs")
        for name in ("token_ttl", "webhook_timeout", "tick_interval", "esignbase_code_ttl"):
            value = getattr(self, name)
            if not _is_number(value) or value <= 0:
                raise ValueError(f"{name} must be a positive number")
        if not isinstance(self.webhook_attempts, int) or self.webhook_attempts < 1:
            raise ValueError("webhook_attempts must be a positive integer")
        if self.webhook_url is not None and (
            not isinstance(self.webhook_url, str) or not self.webhook_url.startswith(("http://", "https://"))
        ):
            raise ValueError("webhook_url must be an http(s) URL or null")
        ratio = self.legalesign_redirect_ratio
        if not _is_number(ratio) or not 0.0 <= ratio <= 1.0:
            raise ValueError("legalesign_redirect_ratio must be between 0 and 1")
        if self.legalesign_retry_after is not None and (
            not _is_number(self.legalesign_retry_after) or self.legalesign_retry_after < 0
        ):
            raise ValueError("legalesign_retry_after must be a non-negative number or null")
        allowed = self.legalesign_allowed_recipients
        if allowed is not None and (
            not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed)
        ):
            raise ValueError("legalesign_allowed_recipients must be a list of emails or null")
        credits = self.esignbase_initial_credits
        if not isinstance(credits, int) or isinstance(credits, bool) or credits < 0:
            raise ValueError("esignbase_initial_credits must be a non-negative integer")
        self._validate_switches()
        self.rate_limits = validate_rate_limits(self.rate_limits)
        if self.faults is not None:
            self.faults = validate_fault_plan(self.faults)
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            is_credential = (
                f.name.startswith(("legalesign_", "wesignature_", "esignbase_")) and f.type == "str"
            )
            if is_credential and (not isinstance(value, str) or not value):
                raise ValueError(f"{f.name} must be a non-empty string")

    def _validate_switches(self) -> None:
        for name in ("log_requests", "wesignature_decline_cancels"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be a boolean")
        size = self.journal_size
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise ValueError("journal_size must be a positive integer")
        if self.list_order not in LIST_ORDERS:
            raise ValueError(f"list_order must be one of {list(LIST_ORDERS)}")
        by_vendor = self.list_order_by_vendor
        if not isinstance(by_vendor, dict) or any(
            v not in VENDORS or o not in LIST_ORDERS for v, o in by_vendor.items()
        ):
            raise ValueError(f"list_order_by_vendor must map vendors {list(VENDORS)} to {list(LIST_ORDERS)}")
        delay = self.legalesign_auto_archive_delay
        if delay is not None and (not _is_number(delay) or delay < 0):
            raise ValueError("legalesign_auto_archive_delay must be a non-negative number or null")
        if self.legalesign_signer_values not in ("strings", "native"):
            raise ValueError("legalesign_signer_values must be 'strings' or 'native'")
        if self.legalesign_create_body not in ("json", "empty"):
            raise ValueError("legalesign_create_body must be 'json' or 'empty'")
        most = self.wesignature_list_max
        if most is not None and (not isinstance(most, int) or isinstance(most, bool) or most < 1):
            raise ValueError("wesignature_list_max must be a positive integer or null")
        if self.legalesign_location not in ("absolute", "path"):
            raise ValueError("legalesign_location must be 'absolute' or 'path'")
        dearchive = self.legalesign_dearchive_delay
        if dearchive is not None and (not _is_number(dearchive) or dearchive < 0):
            raise ValueError("legalesign_dearchive_delay must be a non-negative number or null")
        if self.legalesign_dearchive_status not in (201, 202):
            raise ValueError("legalesign_dearchive_status must be 201 or 202")
        if self.wesignature_sign_type_table not in ("documented", "shifted"):
            raise ValueError("wesignature_sign_type_table must be 'documented' or 'shifted'")

    def order_for(self, vendor: str) -> str:
        """:return: the list order of ``vendor`` (``oldest_first`` or ``newest_first``)."""
        return self.list_order_by_vendor.get(vendor, self.list_order)

    def to_dict(self) -> dict[str, Any]:
        """:return: a JSON-serialisable copy of the configuration."""
        return copy.deepcopy(dataclasses.asdict(self))

    def updated(self, changes: dict[str, Any]) -> SandboxConfig:
        """
        Return a new configuration with ``changes`` applied.

        :param changes: field name -> new value.
        :raises ValueError: for unknown fields or invalid values.
        """
        names = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise ValueError(f"unknown config option(s): {', '.join(unknown)}")
        data = self.to_dict()
        data.update(copy.deepcopy(changes))
        return SandboxConfig(**data)

    def copy(self) -> SandboxConfig:
        """:return: an independent copy."""
        return SandboxConfig(**self.to_dict())
