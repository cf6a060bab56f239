"""
Request journal: every vendor request the sandbox served, with secrets redacted (stdlib only).

Like moto's and WireMock's request logs, it lets a test assert on exactly what a client sent. Secrets never
enter it: credential headers, credential query parameters and credential body fields are replaced by
``"***"`` before an entry is stored, and long strings (base64 PDFs) are shortened.
"""

from __future__ import annotations

import collections
import json
import logging
import re
import urllib.parse
from typing import Any

REDACTED = "***"
#: Header names whose value is a credential.
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key", "x-signature-secret"}
)
#: Body / query keys whose value is a credential (matched case-insensitively anywhere in the key name);
#: ``code`` is an OAuth2 authorization code, which buys tokens until it is exchanged.
_SECRET_KEY = re.compile(
    r"pass(word)?|secret|api_?key|token|authori[sz]ation|(^|[-_])signature$|credential|^code$", re.I
)
#: Strings longer than this (base64 PDFs) are shortened in the journal.
MAX_STRING = 256
#: Request bodies larger than this are not parsed, only their size is recorded.
MAX_BODY = 4 * 1024 * 1024

access_log = logging.getLogger("esign_sandbox.access")


def is_secret_key(name: str) -> bool:
    """:return: whether a body/query field called ``name`` holds a credential."""
    return bool(_SECRET_KEY.search(name))


_QUERY_PARAM = re.compile(r"([?&])([^=&#\s]+)=([^&#\s]*)")


def redact_url(value: str) -> str:
    """:return: ``value`` with the values of credential query parameters replaced (a webhook URL that
    carries its secret as ``?token=``, say)."""
    if "?" not in value:
        return value
    return _QUERY_PARAM.sub(lambda m: f"{m[1]}{m[2]}={REDACTED}" if is_secret_key(m[2]) else m[0], value)


def redact(value: Any) -> Any:
    """:return: ``value`` with credential fields replaced and long strings shortened (recursively)."""
    if isinstance(value, dict):
        return {k: REDACTED if is_secret_key(str(k)) else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str) and len(value) > MAX_STRING:
        return f"{value[:32]}... ({len(value)} characters)"
    if isinstance(value, str):
        return redact_url(value)
    return value


def redact_headers(headers: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """:return: the request headers (lower-case names) with credential values replaced."""
    result: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        result[name] = REDACTED if name in SECRET_HEADERS or is_secret_key(name) else value
    return result


def redact_query(query: str) -> dict[str, Any]:
    """:return: the query parameters (a list only when repeated) with credential values replaced."""
    params: dict[str, Any] = {}
    for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
        shown = REDACTED if is_secret_key(name) else value
        if name in params:
            existing = params[name]
            params[name] = [*existing, shown] if isinstance(existing, list) else [existing, shown]
        else:
            params[name] = shown
    return params


def parse_body(raw: bytes, content_type: str, truncated: bool) -> Any:
    """
    :return: the decoded body: JSON, form fields, text, or a size note; secrets redacted.
    """
    if truncated:
        return {"_sandbox": f"body of more than {MAX_BODY} bytes not recorded"}
    if not raw:
        return None
    kind = content_type.split(";")[0].strip().lower()
    if kind == "application/x-www-form-urlencoded":
        return redact_query(raw.decode("utf-8", errors="replace"))
    try:
        # WeSignature's own examples send JSON with odd content types (and GET bodies), so try JSON first.
        return redact(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, ValueError):
        pass
    except RecursionError:  # e.g. 100 kB of "[[[[": journal its size, never crash the request
        return {"_sandbox": f"{len(raw)} bytes of JSON nested too deeply to parse"}
    if kind.startswith("text/"):
        return redact(raw.decode("utf-8", errors="replace"))
    return {"_sandbox": f"{len(raw)} bytes of {kind or 'unknown content type'}"}


class Journal:
    """
    Bounded list of recorded requests.

    :param size: most entries kept (oldest dropped first).
    """

    def __init__(self, size: int = 10_000) -> None:
        self.entries: collections.deque[dict[str, Any]] = collections.deque(maxlen=size)
        self.sequence = 0

    def record(self, entry: dict[str, Any]) -> dict[str, Any]:
        """Store one entry (assigning its ``seq``) and return it."""
        self.sequence += 1
        entry["seq"] = self.sequence
        self.entries.append(entry)
        return entry

    def resize(self, size: int) -> None:
        """Keep at most ``size`` entries from now on (dropping the oldest beyond it)."""
        self.entries = collections.deque(self.entries, maxlen=size)

    def clear(self) -> None:
        """Forget every entry."""
        self.entries.clear()

    def query(self, filters: dict[str, str]) -> list[dict[str, Any]]:
        """
        :param filters: any of ``vendor``, ``method``, ``path`` (exact), ``path_contains``, ``status``,
            ``fault`` (a kind, or ``any``/``none``), ``since_seq``, ``limit`` (the newest n).
        :return: matching entries, oldest first.
        :raises ValueError: for an unknown filter or a malformed number.
        """
        allowed = {"vendor", "method", "path", "path_contains", "status", "fault", "since_seq", "limit"}
        unknown = sorted(set(filters) - allowed)
        if unknown:
            raise ValueError(f"unknown filter(s): {', '.join(unknown)}; use {sorted(allowed)}")
        try:
            status = int(filters["status"]) if "status" in filters else None
            since = int(filters.get("since_seq", 0))
            limit = int(filters["limit"]) if "limit" in filters else None
        except ValueError:
            raise ValueError("status, since_seq and limit must be integers") from None
        method = filters.get("method", "").upper()
        fault = filters.get("fault")
        result = []
        for entry in self.entries:
            if entry["seq"] <= since or (status is not None and entry["status"] != status):
                continue
            if "vendor" in filters and entry["vendor"] != filters["vendor"]:
                continue
            if method and entry["method"] != method:
                continue
            if "path" in filters and entry["path"] != filters["path"]:
                continue
            if "path_contains" in filters and filters["path_contains"] not in entry["path"]:
                continue
            if (fault == "any" and entry["fault"] is None) or (
                fault == "none" and entry["fault"] is not None
            ):
                continue
            if fault not in (None, "any", "none") and entry["fault"] != fault:
                continue
            result.append(entry)
        return result[-limit:] if limit else result


def log_line(entry: dict[str, Any]) -> str:
    """:return: one access-log line for an entry (query already redacted)."""
    query = urllib.parse.urlencode(
        [(k, x) for k, v in entry["query"].items() for x in (v if isinstance(v, list) else [v])]
    )
    target = entry["path"] + (f"?{query}" if query else "")
    fault = f" fault={entry['fault']}" if entry["fault"] else ""
    return f'{entry["vendor"]} "{entry["method"]} {target}" {entry["status"]} {entry["duration_ms"]:.1f}ms{fault}'
